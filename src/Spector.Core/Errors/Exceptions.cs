namespace Spector;

/// <summary>Base of every error Spector raises about a record or an event.</summary>
public abstract class SpectorException : Exception
{
    private protected SpectorException(
        string message,
        string table,
        Guid? recordId,
        Guid? eventId,
        Exception? inner = null
    )
        : base(message, inner)
    {
        Table = table;
        RecordId = recordId;
        EventId = eventId;
    }

    /// <summary>The events table involved.</summary>
    public string Table { get; }

    /// <summary>The record involved, when known.</summary>
    public Guid? RecordId { get; }

    /// <summary>The event involved, when known.</summary>
    public Guid? EventId { get; }
}

/// <summary>A new write left the record invalid. Nothing was stored.</summary>
public sealed class ChangesetInvalidException : SpectorException
{
    internal ChangesetInvalidException(
        string recordType,
        string action,
        string table,
        Guid recordId,
        Guid eventId,
        IReadOnlyDictionary<string, IReadOnlyList<string>> errors
    )
        : base(
            $"{action} of {recordType} {recordId} (event {eventId}, table {table}) is invalid: "
                + string.Join("; ", errors.Select(e => $"{e.Key} {string.Join(", ", e.Value)}"))
                + ". Nothing was stored.",
            table,
            recordId,
            eventId
        )
    {
        RecordType = recordType;
        Action = action;
        Errors = errors;
    }

    /// <summary>The evented type written.</summary>
    public string RecordType { get; }

    /// <summary>The refused action.</summary>
    public string Action { get; }

    /// <summary>Error messages by attribute key.</summary>
    public IReadOnlyDictionary<string, IReadOnlyList<string>> Errors { get; }
}

/// <summary>The record does not exist in the log, or its last event deleted it.</summary>
public sealed class RecordNotFoundException : SpectorException
{
    internal RecordNotFoundException(string recordType, string action, string table, Guid recordId, bool deleted)
        : base(
            $"Cannot {action} {recordType} {recordId}: {(deleted ? "it was deleted" : "no such record")} "
                + $"in events table {table}. Nothing was stored.",
            table,
            recordId,
            null
        )
    {
        RecordType = recordType;
        WasDeleted = deleted;
    }

    /// <summary>The evented type asked for.</summary>
    public string RecordType { get; }

    /// <summary>True when the record existed and its last event is a delete.</summary>
    public bool WasDeleted { get; }
}

/// <summary>
/// The write expected the record at one sequence number (<see cref="WriteOptions.ExpectedSeq"/>) and found it at
/// another: someone wrote since the caller read it. Nothing was stored; read the record again and decide.
/// </summary>
public sealed class ConcurrencyConflictException : SpectorException
{
    internal ConcurrencyConflictException(
        string recordType,
        string action,
        string table,
        Guid recordId,
        long expectedSeq,
        long actualSeq
    )
        : base(
            $"Cannot {action} {recordType} {recordId} in events table {table}: the write expected seq {expectedSeq}, "
                + $"but the record is at seq {actualSeq}. Read it again and retry. Nothing was stored.",
            table,
            recordId,
            null
        )
    {
        RecordType = recordType;
        ExpectedSeq = expectedSeq;
        ActualSeq = actualSeq;
    }

    /// <summary>The evented type written.</summary>
    public string RecordType { get; }

    /// <summary>The seq the caller expected.</summary>
    public long ExpectedSeq { get; }

    /// <summary>The record's seq when the write looked.</summary>
    public long ActualSeq { get; }
}

/// <summary>
/// The database refused the write to keep the caller's transaction serializable (PostgreSQL SQLSTATE 40001 or
/// 40P01 under REPEATABLE READ or SERIALIZABLE, SQLite's busy snapshot in a deferred transaction): another
/// transaction changed the record or the table chain after this one's snapshot. Nothing of this write was
/// stored. Roll back and run the whole transaction again: a retry inside it would see the same snapshot.
/// </summary>
public sealed class SerializationFailureException : SpectorException
{
    internal SerializationFailureException(
        string recordType,
        string action,
        string table,
        Guid recordId,
        Guid eventId,
        Exception inner
    )
        : base(
            $"Cannot {action} {recordType} {recordId} (event {eventId}) in events table {table}: "
                + "the database refused it to keep the transaction serializable "
                + "(another transaction wrote the record or the table chain after this one's snapshot). "
                + "Nothing was stored; roll back and retry the whole transaction.",
            table,
            recordId,
            eventId,
            inner
        )
    {
        RecordType = recordType;
    }

    /// <summary>The evented type written.</summary>
    public string RecordType { get; }

    /// <summary>How many times the write was tried (1 inside a caller's transaction, which only the caller can
    /// retry).</summary>
    public int Attempts { get; init; } = 1;
}

/// <summary>
/// The idempotency key was already used for a different write (another record, action or payload). Nothing
/// was stored; <see cref="FirstEventId"/> is the event the key belongs to.
/// </summary>
public sealed class IdempotencyKeyReusedException : SpectorException
{
    internal IdempotencyKeyReusedException(
        string recordType,
        string action,
        string table,
        Guid recordId,
        string key,
        Guid firstEventId,
        Guid firstRecordId,
        string difference
    )
        : base(
            $"Cannot {action} {recordType} {recordId} in events table {table}: "
                + $"idempotency key '{key}' already belongs to event {firstEventId} of record {firstRecordId}, "
                + $"and this write differs ({difference}). Use a new key for a new write. Nothing was stored.",
            table,
            recordId,
            firstEventId
        )
    {
        Key = key;
        FirstEventId = firstEventId;
        FirstRecordId = firstRecordId;
    }

    /// <summary>The reused key.</summary>
    public string Key { get; }

    /// <summary>The event stored under the key.</summary>
    public Guid FirstEventId { get; }

    /// <summary>The record of that event.</summary>
    public Guid FirstRecordId { get; }
}

/// <summary>An UPDATE or DELETE of an event row was refused by the append-only triggers.</summary>
public sealed class EventLogImmutableException : SpectorException
{
    internal EventLogImmutableException(string table, Exception inner)
        : base(
            $"Events table {table} is append-only: an UPDATE or DELETE of an event row was refused by its trigger. "
                + "Events are never changed; append a new event instead.",
            table,
            null,
            null,
            inner
        ) { }
}

/// <summary>Why a stored event could not be replayed.</summary>
public enum ReplayFailure
{
    /// <summary>The payload is not a JSON object, or a value does not convert to its property type.</summary>
    CorruptPayload,

    /// <summary>The payload's <c>__version__</c> is newer than the code's <c>Version</c>.</summary>
    NewerVersion,

    /// <summary>The action code is not known to this events table.</summary>
    UnknownAction,

    /// <summary>The schema index is not listed on the events table at all.</summary>
    UnknownSchema,

    /// <summary>The schema index differs from the record's other events.</summary>
    SchemaMismatch,

    /// <summary>Events are out of order: no insert first, a second insert, or an event after a delete.</summary>
    BrokenSequence,
}

/// <summary>A stored event cannot be applied. Names the event so it can be inspected.</summary>
public sealed class EventReplayException : SpectorException
{
    internal EventReplayException(
        ReplayFailure failure,
        string recordType,
        string table,
        Guid recordId,
        Guid eventId,
        long seq,
        string detail,
        Exception? inner = null
    )
        : base(
            $"Cannot replay event {eventId} (seq {seq}) of {recordType} {recordId} in events table {table}: {detail}",
            table,
            recordId,
            eventId,
            inner
        )
    {
        Failure = failure;
        Seq = seq;
    }

    /// <summary>What is wrong with the event.</summary>
    public ReplayFailure Failure { get; }

    /// <summary>The event's per-record sequence number.</summary>
    public long Seq { get; }
}

/// <summary>
/// A savepoint was asked for with an in-memory record that no longer matches the log (someone wrote since it
/// was read). Nothing was stored.
/// </summary>
public sealed class StaleRecordException : SpectorException
{
    internal StaleRecordException(string recordType, string table, Guid recordId, IReadOnlyList<string> fields)
        : base(
            $"Cannot save a savepoint of {recordType} {recordId} in events table {table}: "
                + "the record passed in differs from its log in "
                + $"{string.Join(", ", fields)}. Read it again and retry. Nothing was stored.",
            table,
            recordId,
            null
        )
    {
        Fields = fields;
    }

    /// <summary>The stored keys whose values differ.</summary>
    public IReadOnlyList<string> Fields { get; }
}

/// <summary>
/// The heads table and the events of a record disagree (events were appended or removed around Spector). The
/// heads table must be rebuilt from the log. Nothing was stored.
/// </summary>
public sealed class StaleHeadException : SpectorException
{
    internal StaleHeadException(
        string recordType,
        string action,
        string table,
        string heads,
        Guid recordId,
        long headSeq,
        long logSeq
    )
        : base(
            $"{action} of {recordType} {recordId}: heads table {heads} puts it at seq {headSeq}, but its events in "
                + $"{table} end at seq {logSeq}. Rebuild the heads table from the log (drop it and run the migration). "
                + "Nothing was stored.",
            table,
            recordId,
            null
        )
    {
        HeadsTable = heads;
        HeadSeq = headSeq;
        LogSeq = logSeq;
    }

    /// <summary>The heads table holding the stale row.</summary>
    public string HeadsTable { get; }

    /// <summary>The seq the heads table records.</summary>
    public long HeadSeq { get; }

    /// <summary>The seq the record's events end at.</summary>
    public long LogSeq { get; }
}

/// <summary>A link joins events of different records, or names an event that does not exist. Nothing was
/// stored.</summary>
public sealed class InvalidLinkException : SpectorException
{
    internal InvalidLinkException(string table, Guid recordId, Guid eventId, EventLinkRow link, Exception inner)
        : base(
            $"Event {eventId} of record {recordId} cannot link to {link.Target} "
                + $"through '{link.Name}' in events table {table}: "
                + "links may only join events of the same record. Nothing was stored.",
            table,
            recordId,
            eventId,
            inner
        )
    {
        Link = link;
    }

    /// <summary>The refused link.</summary>
    public EventLinkRow Link { get; }
}

/// <summary>A sharded events table's route function did not name one of its shards for a record. Nothing was
/// stored.</summary>
public sealed class ShardRoutingException : SpectorException
{
    internal ShardRoutingException(
        string table,
        string? recordType,
        Guid recordId,
        string? routed,
        IReadOnlyList<EventShard> shards,
        Exception? inner = null
    )
        : base(
            (
                inner is null
                    ? $"Events table {table} routed {recordType ?? "record"} {recordId} to '{routed}', "
                        + "which is not one of its shards"
                    : $"The route function of events table {table} failed for {recordType ?? "record"} {recordId}: "
                        + inner.Message
            )
                + $" (shards: {string.Join(", ", shards.Select(s => s.Table))}). "
                + "The ShardBy function must return one of the declared Shards. "
                + "Nothing was stored.",
            table,
            recordId,
            null,
            inner
        )
    {
        RecordType = recordType;
        Routed = routed;
    }

    /// <summary>The evented type being read or written, when known.</summary>
    public string? RecordType { get; }

    /// <summary>What the route function returned (null when it threw).</summary>
    public string? Routed { get; }
}
