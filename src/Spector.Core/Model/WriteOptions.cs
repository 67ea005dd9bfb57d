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
    /// <see cref="IdempotencyKeyReusedException"/>. Keys are scoped per events table (per shard). A key is
    /// Unicode text of 1 to <see cref="MaxIdempotencyKeyBytes"/> UTF-8 bytes with no U+0000 and no lone
    /// surrogate; any other key is refused with <see cref="ArgumentException"/> before anything is opened.
    /// </summary>
    public string? IdempotencyKey { get; init; }

    /// <summary>The longest idempotency key, in UTF-8 bytes: well inside what PostgreSQL's index can hold.</summary>
    public const int MaxIdempotencyKeyBytes = 512;

    /// <summary>Refuses a key that the two databases would store differently, or not at all.</summary>
    internal static void CheckKey(string key)
    {
        const string name = nameof(IdempotencyKey);
        if (key.Length == 0)
            throw new ArgumentException("An idempotency key must not be empty.", name);
        for (var i = 0; i < key.Length; i++)
        {
            if (key[i] == '\0')
                throw new ArgumentException(
                    "An idempotency key must not contain U+0000 (PostgreSQL cannot store it).",
                    name
                );
            if (char.IsHighSurrogate(key[i]) && i + 1 < key.Length && char.IsLowSurrogate(key[i + 1]))
                i++;
            else if (char.IsSurrogate(key[i]))
                throw new ArgumentException(
                    $"An idempotency key must be Unicode text: it has a lone UTF-16 surrogate (U+{(int)key[i]:X4}) at "
                        + $"index {i}, which SQLite would store as U+FFFD, the same as other keys.",
                    name
                );
        }
        var bytes = System.Text.Encoding.UTF8.GetByteCount(key);
        if (bytes > MaxIdempotencyKeyBytes)
            throw new ArgumentException(
                $"An idempotency key is at most {MaxIdempotencyKeyBytes} UTF-8 bytes; this one has {bytes}.",
                name
            );
    }

    /// <summary>
    /// Who and why, for this write alone: laid over the ambient <see cref="SpectorContext"/> scope and the session's
    /// <see cref="SpectorSession.Context"/> (its fields win where set; metadata merges key by key). A retry under
    /// an <see cref="IdempotencyKey"/> returns the first write's result whatever its context.
    /// </summary>
    public EventContext? Context { get; init; }
}

/// <summary>A record with the seq of its last event: pass <see cref="Seq"/> back as <see
/// cref="WriteOptions.ExpectedSeq"/>.</summary>
/// <param name="Record">The replayed record.</param>
/// <param name="Seq">The sequence number of its last event.</param>
public sealed record Versioned<T>(T Record, long Seq)
    where T : class;
