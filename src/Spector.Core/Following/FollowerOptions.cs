namespace Spector;

/// <summary>What a <see cref="Follower"/> follows and how it paces itself.</summary>
public sealed record FollowerOptions
{
    /// <summary>A follower of every event in <paramref name="logs"/> (every shard of each), all in one
    /// database.</summary>
    public FollowerOptions(string name, params EventLog[] logs)
    {
        if (string.IsNullOrWhiteSpace(name) || name.Length > 200)
            throw new ArgumentException(
                "A follower needs a name of 1 to 200 characters; its checkpoint is stored under it.",
                nameof(name)
            );
        ArgumentNullException.ThrowIfNull(logs);
        if (logs.Length == 0)
            throw new ArgumentException(
                $"Follower {name} follows no events table: pass at least one log.",
                nameof(logs)
            );
        var tables = logs.SelectMany(l => l.Shards).GroupBy(s => s.Table).FirstOrDefault(g => g.Count() > 1);
        if (tables is not null)
            throw new ArgumentException($"Follower {name} lists events table {tables.Key} twice.", nameof(logs));
        Name = name;
        Logs = logs;
    }

    /// <summary>The follower's name: its checkpoint, lease and status are stored under it.</summary>
    public string Name { get; }

    /// <summary>The followed logs.</summary>
    public IReadOnlyList<EventLog> Logs { get; }

    /// <summary>Only events of these schema indexes reach the handler (all when null); the others still advance the
    /// checkpoint.</summary>
    public IReadOnlyCollection<int>? Schemas { get; init; }

    /// <summary>Only events of these action names reach the handler (all when null): "insert", "update", a custom
    /// action...</summary>
    public IReadOnlyCollection<string>? Actions { get; init; }

    /// <summary>Events read per query and committed per checkpoint.</summary>
    public int BatchSize { get; init; } = 500;

    /// <summary>How many times one event is handed to a failing handler before the follower stops.</summary>
    public int MaxAttempts { get; init; } = 5;

    /// <summary>The wait before the second attempt; it doubles per attempt up to <see cref="MaxRetryDelay"/>.</summary>
    public TimeSpan FirstRetryDelay { get; init; } = TimeSpan.FromMilliseconds(200);

    /// <summary>The longest wait between attempts.</summary>
    public TimeSpan MaxRetryDelay { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// With a plain handler, how long delivered events may wait before their checkpoint commits (it also commits
    /// whenever the follower catches up or an event fails). Fewer commits make catch-up faster; a crash delivers
    /// again at most this much. Zero commits after every batch. Transactional handlers commit every batch.
    /// </summary>
    public TimeSpan CheckpointInterval { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>The first poll after an idle read; polls back off by doubling up to <see
    /// cref="MaxPollInterval"/>.</summary>
    public TimeSpan MinPollInterval { get; init; } = TimeSpan.FromMilliseconds(10);

    /// <summary>The longest wait between polls when nothing arrives (and no notification wakes the follower).</summary>
    public TimeSpan MaxPollInterval { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// How long a process holds the follower without renewing; another process takes over after it lapses.
    /// A batch with a plain handler must finish within it (see docs/followers.md).
    /// </summary>
    public TimeSpan LeaseDuration { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>On PostgreSQL, wake on LISTEN/NOTIFY (a statement trigger on each followed table) as well as by
    /// polling.</summary>
    public bool UseNotifications { get; init; } = true;

    /// <summary>Receives one line per notable step (lease taken or lost, retries, failure); null for none.</summary>
    public Action<string>? Log { get; init; }

    internal void Validate()
    {
        if (BatchSize is < 1 or > 100_000)
            throw new ArgumentOutOfRangeException(nameof(BatchSize), BatchSize, "Use 1 to 100,000 events per batch.");
        if (MaxAttempts < 1)
            throw new ArgumentOutOfRangeException(nameof(MaxAttempts), MaxAttempts, "At least one attempt.");
        if (LeaseDuration < TimeSpan.FromMilliseconds(100))
            throw new ArgumentOutOfRangeException(
                nameof(LeaseDuration),
                LeaseDuration,
                "A lease shorter than 100 ms cannot be renewed in time."
            );
        if (MinPollInterval <= TimeSpan.Zero || MaxPollInterval < MinPollInterval)
            throw new ArgumentOutOfRangeException(
                nameof(MinPollInterval),
                "Poll intervals must be positive, the minimum at most the maximum."
            );
        var stores = Logs.Select(l => l.Store).Distinct().Count();
        if (stores > 1)
            throw new ArgumentException(
                $"Follower {Name} follows logs in {stores} different stores; a checkpoint lives in one database."
            );
    }
}

/// <summary>One event handed to a follower's handler.</summary>
/// <param name="EventsTable">The physical table it was read from (a shard's, for a sharded log).</param>
/// <param name="Log">The log it belongs to.</param>
/// <param name="Event">The stored event.</param>
/// <param name="TxId">On PostgreSQL, the transaction id stamped on it (see docs/followers.md); 0 on SQLite.</param>
public sealed record FollowedEvent(string EventsTable, EventLog Log, StoredEvent Event, long TxId)
{
    /// <summary>The record the event belongs to.</summary>
    public Guid RecordId => Event.ParentId;

    /// <summary>The event's id.</summary>
    public Guid Id => Event.Id;
}

/// <summary>Where a follower is in its life.</summary>
public enum FollowerState
{
    /// <summary>Not running.</summary>
    Stopped,

    /// <summary>Running, waiting for another process's lease to lapse.</summary>
    Standby,

    /// <summary>Holding the lease and following.</summary>
    Running,

    /// <summary>Stopped by a handler that kept failing on one event; nothing after it was delivered.</summary>
    Failed,
}
