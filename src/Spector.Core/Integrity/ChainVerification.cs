namespace Spector;

/// <summary>The last event of a chain: anchor it outside the database to detect truncation and rollback
/// later.</summary>
/// <param name="Position">The event's position.</param>
/// <param name="Hash">Its stored hash.</param>
public sealed record ChainHead(long Position, byte[] Hash)
{
    /// <summary>The hash as lowercase hex.</summary>
    public string HashHex => Convert.ToHexStringLower(Hash);

    /// <inheritdoc />
    public bool Equals(ChainHead? other) =>
        other is not null && Position == other.Position && Hash.AsSpan().SequenceEqual(other.Hash);

    /// <inheritdoc />
    public override int GetHashCode() => HashCode.Combine(Position, Hash.Length > 0 ? Hash[0] : 0);

    /// <inheritdoc />
    public override string ToString() => $"{Position}:{HashHex}";
}

/// <summary>What kind of damage the first break looks like.</summary>
public enum ChainBreakKind
{
    /// <summary>The row's stored hash does not match its content: a field of it was changed, or its hash was.</summary>
    HashMismatch,

    /// <summary>An event is missing: the row's record has no event with the preceding sequence number.</summary>
    MissingRow,

    /// <summary>Rows are out of order: times go backwards, or a record's events are out of sequence.</summary>
    ReorderedRows,

    /// <summary>A row was slipped in: the row after it chains directly to the row before it.</summary>
    InsertedRow,

    /// <summary>The chain ends before the expected head, or the row at the expected head has another hash.</summary>
    Truncated,
}

/// <summary>The first place the chain does not verify.</summary>
public sealed record ChainBreak(
    ChainBreakKind Kind,
    long Position,
    Guid? EventId,
    byte[]? ExpectedHash,
    byte[]? StoredHash,
    long? LastGoodPosition,
    string Message
);

/// <summary>The result of <see cref="EventLog.VerifyHashChainAsync(ChainHead?, CancellationToken)"/>.</summary>
/// <param name="EventsChecked">Events read.</param>
/// <param name="Head">The last event's position and stored hash; null for an empty table, and for a whole-table
/// verification of per-record chains (each record has its own head).</param>
/// <param name="FirstBreak">The first break, or null when the whole chain verifies.</param>
public sealed record ChainVerification(long EventsChecked, ChainHead? Head, ChainBreak? FirstBreak)
{
    /// <summary>True when every event verifies (and the expected head, if given, is there).</summary>
    public bool IsValid => FirstBreak is null;

    /// <summary>The events table (or shard) whose chain this is.</summary>
    public string Table { get; init; } = "";
}

/// <summary>The result of <see cref="EventLog.VerifyShardChainsAsync"/>: one verification per shard, in declaration
/// order.</summary>
/// <param name="Chains">Each shard's verification; <see cref="ChainVerification.Table"/> names the shard.</param>
public sealed record ShardChainsVerification(IReadOnlyList<ChainVerification> Chains)
{
    /// <summary>True when every shard's chain verifies.</summary>
    public bool IsValid => Chains.All(c => c.IsValid);

    /// <summary>Events read over all shards.</summary>
    public long EventsChecked => Chains.Sum(c => c.EventsChecked);

    /// <summary>The verification of the shard table <paramref name="shard"/>.</summary>
    public ChainVerification this[string shard] =>
        Chains.FirstOrDefault(c => c.Table == shard)
        ?? throw new KeyNotFoundException($"No shard '{shard}' was verified.");
}
