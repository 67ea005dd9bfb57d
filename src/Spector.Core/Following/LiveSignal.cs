namespace Spector;

/// <summary>
/// Wakes a waiting follower: where the provider listens (PostgreSQL's LISTEN) the wait returns as soon as a
/// followed table's insert commits; elsewhere (or when listening fails) the wait is a plain timed poll.
/// </summary>
internal sealed class LiveSignal : IAsyncDisposable
{
    private SpectorListener? _listener;
    private readonly Action<string>? _log;

    private LiveSignal(SpectorListener? listener, Action<string>? log)
    {
        _listener = listener;
        _log = log;
    }

    public static async Task<LiveSignal> OpenAsync(SpectorStore store, string? channel, bool enabled, Action<string>? log, CancellationToken ct)
    {
        if (!enabled || channel is null) return new LiveSignal(null, log);
        return new LiveSignal(await store.Provider.ListenAsync(store, channel, ct).ConfigureAwait(false), log);
    }

    /// <summary>Waits up to <paramref name="timeout"/>; true when a notification ended the wait.</summary>
    public async Task<bool> WaitAsync(TimeSpan timeout, CancellationToken ct)
    {
        if (_listener is null)
        {
            await Task.Delay(timeout, ct).ConfigureAwait(false);
            return false;
        }
        try
        {
            return await _listener.WaitAsync(timeout, ct).ConfigureAwait(false);
        }
        catch (Exception e) when (_listener.IsConnectionFailure(e) && !ct.IsCancellationRequested)
        {
            // Polling alone still delivers everything, only later: fall back to it rather than stop.
            _log?.Invoke($"Listening for appends failed ({e.Message}); polling only from now on.");
            await _listener.DisposeAsync().ConfigureAwait(false);
            _listener = null;
            return false;
        }
    }

    public ValueTask DisposeAsync() => _listener?.DisposeAsync() ?? ValueTask.CompletedTask;
}
