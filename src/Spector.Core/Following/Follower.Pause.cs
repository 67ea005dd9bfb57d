namespace Spector;

public sealed partial class Follower
{
    /// <summary>One request to step aside: the loop completes <see cref="SteppedAside"/> once it let go of the
    /// lease.</summary>
    private sealed class Pause(Follower follower) : IAsyncDisposable
    {
        public TaskCompletionSource SteppedAside { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public TaskCompletionSource Resumed { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        /// <summary>Lets the follower take its lease again (the pausing side has released it first).</summary>
        public ValueTask DisposeAsync()
        {
            Interlocked.CompareExchange(ref follower._pause, null, this);
            Resumed.TrySetResult();
            follower._signal?.Wake();
            return ValueTask.CompletedTask;
        }
    }

    /// <summary>
    /// Asks this instance's <see cref="RunAsync"/> loop to finish its batch, commit its checkpoint, release the
    /// lease and wait; returns once it has (or has stopped). Disposing the result lets it run on: it takes the
    /// lease again and reloads its checkpoint, which the pausing side may have moved.
    /// </summary>
    private async Task<IAsyncDisposable> PauseAsync(CancellationToken ct)
    {
        var pause = new Pause(this);
        if (Interlocked.CompareExchange(ref _pause, pause, null) is not null)
            throw new InvalidOperationException($"Follower {Name} is already paused by another rebuild.");
        _signal?.Wake();
        try
        {
            await pause.SteppedAside.Task.WaitAsync(ct).ConfigureAwait(false);
        }
        catch
        {
            await pause.DisposeAsync().ConfigureAwait(false);
            throw;
        }
        return pause;
    }

    /// <summary>Ends this instance's polling wait when it follows <paramref name="log"/>.</summary>
    internal void Wake(EventLog log)
    {
        if (_options.Logs.Contains(log))
            _signal?.Wake();
    }

    /// <summary>The loop's side of a pause: let go of the lease, say so, and wait to be resumed.</summary>
    private async Task StepAsideAsync(Pause pause, CancellationToken ct)
    {
        // The rebuild moves the checkpoint from where the database has it: everything delivered goes there first.
        if (_leaseHeld)
            await FlushCheckpointsAsync(ct).ConfigureAwait(false);
        else
            await SettleFlushAsync().ConfigureAwait(false);
        await ReleaseLeaseAsync().ConfigureAwait(false);
        _state = FollowerState.Standby;
        _holder = null;
        Report($"Follower {Name} stepped aside for a rebuild.");
        pause.SteppedAside.TrySetResult();
        await pause.Resumed.Task.WaitAsync(ct).ConfigureAwait(false);
    }
}
