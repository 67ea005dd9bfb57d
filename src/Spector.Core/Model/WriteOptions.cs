namespace Spector;

/// <summary>Options of one write (insert, update, custom action, delete, savepoint).</summary>
public sealed record WriteOptions
{
    /// <summary>
    /// Optimistic concurrency: the record's seq the caller last read (an ETag). When the record has moved on, the
    /// write is refused with <see cref="ConcurrencyConflictException"/> and nothing is stored. Not for inserts.
    /// </summary>
    public long? ExpectedSeq { get; init; }

    /// <summary>
    /// Makes the write safe to retry: a second write with the same key, record, action and payload returns the
    /// first one's result and appends nothing; the same key with anything different is an
    /// <see cref="IdempotencyKeyReusedException"/>. Keys are scoped per events table (per shard).
    /// </summary>
    public string? IdempotencyKey { get; init; }

    /// <summary>
    /// Who and why, for this write alone: laid over the ambient <see cref="SpectorContext"/> scope and the session's
    /// <see cref="SpectorSession.Context"/> (its fields win where set; metadata merges key by key). A retry under
    /// an <see cref="IdempotencyKey"/> returns the first write's result whatever its context.
    /// </summary>
    public EventContext? Context { get; init; }
}

/// <summary>A record with the seq of its last event: pass <see cref="Seq"/> back as <see cref="WriteOptions.ExpectedSeq"/>.</summary>
/// <param name="Record">The replayed record.</param>
/// <param name="Seq">The sequence number of its last event.</param>
public sealed record Versioned<T>(T Record, long Seq) where T : class;
