using Npgsql;

namespace Spector;

/// <summary>
/// Wakes a waiting follower: on PostgreSQL a LISTEN connection returns as soon as a followed table's insert commits;
/// elsewhere (or when listening fails) the wait is a plain timed poll.
/// </summary>
internal sealed class LiveSignal : IAsyncDisposable
{
    private NpgsqlConnection? _connection;
    private readonly Action<string>? _log;
    private TaskCompletionSource _wake = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private LiveSignal(NpgsqlConnection? connection, Action<string>? log)
    {
        _connection = connection;
        _log = log;
    }

    public static async Task<LiveSignal> OpenAsync(SpectorStore store, string? channel, bool enabled, Action<string>? log, CancellationToken ct)
    {
        if (!enabled || channel is null) return new LiveSignal(null, log);
        var connection = (NpgsqlConnection)await store.OpenConnectionAsync(ct).ConfigureAwait(false);
        try
        {
            await using var command = new NpgsqlCommand($"LISTEN {channel}", connection);
            await command.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
            return new LiveSignal(connection, log);
        }
        catch
        {
            await connection.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>Ends the current (or the next) polling wait at once, from this process; a LISTEN wait runs its course.</summary>
    public void Wake() => Volatile.Read(ref _wake).TrySetResult();

    /// <summary>Waits up to <paramref name="timeout"/>; true when a notification (or <see cref="Wake"/>) ended the wait.</summary>
    public async Task<bool> WaitAsync(TimeSpan timeout, CancellationToken ct)
    {
        if (_connection is null)
        {
            var wake = Volatile.Read(ref _wake);
            var woken = await Task.WhenAny(wake.Task, Task.Delay(timeout, ct)).ConfigureAwait(false) == wake.Task;
            ct.ThrowIfCancellationRequested();
            if (woken) Interlocked.CompareExchange(ref _wake, new(TaskCreationOptions.RunContinuationsAsynchronously), wake);
            return woken;
        }
        try
        {
            return await _connection.WaitAsync(timeout, ct).ConfigureAwait(false);
        }
        catch (Exception e) when (e is NpgsqlException or InvalidOperationException or IOException && !ct.IsCancellationRequested)
        {
            // Polling alone still delivers everything, only later: fall back to it rather than stop.
            _log?.Invoke($"Listening for appends failed ({e.Message}); polling only from now on.");
            await _connection.DisposeAsync().ConfigureAwait(false);
            _connection = null;
            return false;
        }
    }

    public ValueTask DisposeAsync() => _connection?.DisposeAsync() ?? ValueTask.CompletedTask;
}
