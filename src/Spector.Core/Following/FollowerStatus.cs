namespace Spector;

/// <summary>A follower's durable state, read from the database (any process can read it).</summary>
/// <param name="Name">The follower.</param>
/// <param name="Owner">The process token holding the lease, or null.</param>
/// <param name="LeaseHeld">True when the lease has not lapsed.</param>
/// <param name="Tables">The checkpoint in each followed table.</param>
/// <param name="LastError">The last handler error recorded, or null.</param>
/// <param name="FailedEventId">The event the follower stopped at, or null.</param>
/// <param name="FailedAttempts">How many times that event was handed to the handler.</param>
public sealed record FollowerStatus(
    string Name,
    string? Owner,
    bool LeaseHeld,
    IReadOnlyList<FollowerTableStatus> Tables,
    string? LastError,
    Guid? FailedEventId,
    int FailedAttempts
)
{
    /// <summary>Events written but not yet behind the checkpoint, across every table.</summary>
    public long LagEvents => Tables.Sum(t => t.LagEvents);

    /// <summary>The age of the oldest event not yet behind the checkpoint (zero when there is none).</summary>
    public TimeSpan Lag => Tables.Count == 0 ? TimeSpan.Zero : Tables.Max(t => t.Lag);

    /// <summary>Events behind the checkpoint, across every table.</summary>
    public long Processed => Tables.Sum(t => t.Processed);
}

/// <summary>A follower's checkpoint in one events table.</summary>
/// <param name="EventsTable">The physical events table.</param>
/// <param name="TxId">The checkpoint's transaction id (PostgreSQL; 0 on SQLite).</param>
/// <param name="Position">The checkpoint's position: everything up to (TxId, Position) is processed.</param>
/// <param name="Processed">Events passed (delivered or filtered out) since the checkpoint was created.</param>
/// <param name="LagEvents">Events after the checkpoint.</param>
/// <param name="Lag">The age of the oldest event after the checkpoint.</param>
public sealed record FollowerTableStatus(
    string EventsTable,
    long TxId,
    long Position,
    long Processed,
    long LagEvents,
    TimeSpan Lag
);

/// <summary>
/// A follower's handler failed on one event every time it was tried. The follower stopped there: that event and
/// everything after it in its table are not behind the checkpoint, and nothing was skipped.
/// </summary>
public sealed class FollowerFailedException : SpectorException
{
    internal FollowerFailedException(string follower, FollowedEvent followed, int attempts, Exception inner)
        : base(
            $"Follower {follower} stopped at event {followed.Id} "
                + $"(record {followed.RecordId}, seq {followed.Event.Seq}, "
                + $"position {followed.Event.Position} of {followed.EventsTable}) "
                + $"after {attempts} failed attempt(s): {inner.Message}. "
                + "The checkpoint stays before it; fix the handler and start the follower again.",
            followed.EventsTable,
            followed.RecordId,
            followed.Id,
            inner
        )
    {
        Follower = follower;
        Attempts = attempts;
    }

    /// <summary>The follower that stopped.</summary>
    public string Follower { get; }

    /// <summary>How many times the event was handed to the handler.</summary>
    public int Attempts { get; }
}

/// <summary>Another process took the follower's lease; this one stopped delivering and went to standby.</summary>
internal sealed class FollowerLeaseLostException(string follower)
    : Exception($"Follower {follower} lost its lease to another process.");

/// <summary>
/// A follower's lease is held by an instance this operation cannot pause (another process, or another store object
/// in this one), so it did not start rather than wait for it.
/// </summary>
public sealed class FollowerBusyException : SpectorException
{
    internal FollowerBusyException(string follower, string table, string? holder, TimeSpan leaseDuration)
        : base(
            holder is null
                ? $"Follower {follower} could not take its lease: "
                    + "it has no row (call MigrateAsync first) or another instance took it meanwhile."
                : $"Follower {follower} is held by instance {holder}, which does not run on this store object "
                    + "(another process, or another SpectorStore in this one). Stop that instance and try again: "
                    + "a stopped follower releases its lease at once, "
                    + $"a crashed one lets it lapse within {leaseDuration.TotalSeconds:0.#} s. "
                    + "A follower running on this store object is paused for the rebuild instead.",
            table,
            null,
            null
        )
    {
        Follower = follower;
        Holder = holder;
    }

    /// <summary>The follower whose lease is taken.</summary>
    public string Follower { get; }

    /// <summary>The lease token (<see cref="Spector.Follower.InstanceId"/>) of the instance holding it, when
    /// known.</summary>
    public string? Holder { get; }
}
