namespace Spector;

/// <summary>One field a savepoint restores differently from a full replay.</summary>
/// <param name="Key">The stored key of the property.</param>
/// <param name="Replayed">The value a replay of every event up to the savepoint gives (JSON).</param>
/// <param name="Restored">The value the savepoint's payload rebuilds (JSON).</param>
public sealed record FieldDifference(string Key, string Replayed, string Restored);

/// <summary>A savepoint that does not reproduce the state before it.</summary>
public sealed record SavepointMismatch(Guid SavepointEventId, long Seq, IReadOnlyList<FieldDifference> Fields);

/// <summary>The result of checking every savepoint of one record against a full replay.</summary>
/// <param name="RecordId">The record.</param>
/// <param name="SavepointsChecked">How many savepoint events were checked.</param>
/// <param name="Mismatches">Every savepoint that disagrees, in order; empty when all agree.</param>
public sealed record SavepointVerification(
    Guid RecordId,
    int SavepointsChecked,
    IReadOnlyList<SavepointMismatch> Mismatches
)
{
    /// <summary>True when every savepoint reproduces the replayed state.</summary>
    public bool IsValid => Mismatches.Count == 0;
}
