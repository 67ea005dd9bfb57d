namespace Spector;

/// <summary>What <c>MaterializeAsync</c> found and did.</summary>
public enum MaterializeOutcome
{
    /// <summary>The row was rebuilt from the log and inserted.</summary>
    Materialized,

    /// <summary>No events of this type exist for the id; nothing was written.</summary>
    NoEvents,

    /// <summary>The record's last event deletes it; no row belongs in the table.</summary>
    Deleted,

    /// <summary>The row is already there and was left as it is.</summary>
    RowExists,
}

/// <summary>The result of rebuilding one record row from its log.</summary>
/// <param name="Outcome">What was found and done.</param>
/// <param name="Id">The record id.</param>
/// <param name="Record">The replayed record when it exists (<see cref="MaterializeOutcome.Materialized"/>, <see
/// cref="MaterializeOutcome.RowExists"/>).</param>
public sealed record Materialization<T>(MaterializeOutcome Outcome, Guid Id, T? Record)
    where T : class;

/// <summary>How <c>BringUpAsync</c> imports the rows of a record table that Spector does not track yet.</summary>
public sealed class BringUpOptions<T>
    where T : class
{
    /// <summary>
    /// A custom action of the type to record each import under instead of <c>insert</c>, so the log tells imported
    /// records apart. Its handler runs on an empty record, as the default handler does for inserts.
    /// </summary>
    public string? Action { get; init; }

    /// <summary>
    /// Turns an old row (column name to database value) into the insert's attrs. The default maps every column
    /// but the id to its property's key, so timestamp columns keep their original values.
    /// </summary>
    public Func<IReadOnlyDictionary<string, object?>, Attrs>? Attrs { get; init; }

    /// <summary>
    /// Runs after each record is imported and before its old row is deleted, in the same transaction: move rows
    /// that refer to the old id over to the new one here.
    /// </summary>
    public Func<BringUpTransfer<T>, CancellationToken, Task>? Transfer { get; init; }
}

/// <summary>One imported row, handed to <see cref="BringUpOptions{T}.Transfer"/>.</summary>
/// <param name="Session">The import's connection and transaction.</param>
/// <param name="OldRow">The old row, column name to database value.</param>
/// <param name="OldId">The old row's id.</param>
/// <param name="Record">The new record; its id is its insert event's id.</param>
public sealed record BringUpTransfer<T>(
    SpectorSession Session,
    IReadOnlyDictionary<string, object?> OldRow,
    object OldId,
    T Record
)
    where T : class;
