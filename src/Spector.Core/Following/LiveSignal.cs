namespace Spector;

/// <summary>
/// Wakes a waiting follower: where the provider listens (PostgreSQL's LISTEN) the wait returns as soon as a
/// followed table's insert commits; elsewhere (or when listening fails) the wait is a timed poll that a write through
/// the same store object ends early (<see cref="Wake"/>). A blocking signal waits on its thread instead of a timer
/// (SQLite: see Follower.RunAsync).
/// </summary>
internal sealed class LiveSignal : IAsyncDisposable
{
    private SpectorListener? _listener;
    private readonly Action<string>? _log;
    private readonly bool _blocking;
    private TaskCompletionSource _wake = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly ManualResetEventSlim _woken = new();

    private LiveSignal(SpectorListener? listener, Action<string>? log, bool blocking)
    {
        _listener = listener;
        _log = log;
        _blocking = blocking;
    }

    /// <summary>A timed poll that waits by blocking its thread (a thread of its own), not on a timer.</summary>
    public static LiveSignal Blocking(Action<string>? log) => new(null, log, blocking: true);

    public static async Task<LiveSignal> OpenAsync(
        SpectorStore store,
        string? channel,
        bool enabled,
        Action<string>? log,
        CancellationToken ct
    )
    {
        if (!enabled || channel is null)
            return new LiveSignal(null, log, blocking: false);
        return new LiveSignal(
            await store.Provider.ListenAsync(store, channel, ct).ConfigureAwait(false),
            log,
            blocking: false
        );
    }

    /// <summary>Ends the current (or the next) polling wait at once, from this process; a LISTEN wait runs its
    /// course.</summary>
    public void Wake()
    {
        if (_blocking)
            _woken.Set();
        else
            Volatile.Read(ref _wake).TrySetResult();
    }

    /// <summary>Waits up to <paramref name="timeout"/>; true when a notification (or <see cref="Wake"/>) ended the
    /// wait.</summary>
    public async Task<bool> WaitAsync(TimeSpan timeout, CancellationToken ct)
    {
        if (_blocking)
        {
            var set = _woken.Wait(timeout, ct);
            // Reset before the caller reads: a write that commits after this point sets it again.
            _woken.Reset();
            return set;
        }
        if (_listener is null)
        {
            var wake = Volatile.Read(ref _wake);
            var woken = await Task.WhenAny(wake.Task, Task.Delay(timeout, ct)).ConfigureAwait(false) == wake.Task;
            ct.ThrowIfCancellationRequested();
            if (woken)
                Interlocked.CompareExchange(ref _wake, new(TaskCreationOptions.RunContinuationsAsynchronously), wake);
            return woken;
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

    public ValueTask DisposeAsync()
    {
        _woken.Dispose();
        return _listener?.DisposeAsync() ?? ValueTask.CompletedTask;
    }
}
