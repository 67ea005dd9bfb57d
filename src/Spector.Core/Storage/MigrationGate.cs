namespace Spector;

/// <summary>
/// Lets a SQLite store's own writers step aside while one of its migrations runs. SQLite hands its write lock to
/// whichever waiter polls first, not to the one that waited longest: writers looping on the lock could hold a
/// migration off past its busy timeout ("database is locked"). A writer checks one counter when no migration runs.
/// </summary>
internal sealed class MigrationGate
{
    private readonly Lock _gate = new();
    private int _running;
    private TaskCompletionSource _done = NewDone();

    /// <summary>Completes at once unless a migration runs; then when none does.</summary>
    public Task WaitAsync(CancellationToken ct)
    {
        if (Volatile.Read(ref _running) == 0)
            return Task.CompletedTask;
        lock (_gate)
            return _running == 0 ? Task.CompletedTask : _done.Task.WaitAsync(ct);
    }

    /// <summary>Marks a migration as running until the returned value is disposed.</summary>
    public IDisposable Enter()
    {
        lock (_gate)
            if (_running++ == 0)
                _done = NewDone();
        return new Exit(this);
    }

    private void Leave()
    {
        TaskCompletionSource done;
        lock (_gate)
        {
            if (--_running > 0)
                return;
            done = _done;
        }
        done.TrySetResult();
    }

    private static TaskCompletionSource NewDone() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    private sealed class Exit(MigrationGate gate) : IDisposable
    {
        private int _left;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _left, 1) == 0)
                gate.Leave();
        }
    }
}
