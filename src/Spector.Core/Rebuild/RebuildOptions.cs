namespace Spector;

/// <summary>How a record table is rebuilt from the log.</summary>
public sealed record RebuildOptions
{
    /// <summary>Records replayed and written per batch (one short write transaction each).</summary>
    public int BatchSize { get; init; } = 500;

    /// <summary>Batches replayed at once, each on its own connection.</summary>
    public int Parallelism { get; init; } = Math.Max(2, Environment.ProcessorCount);

    /// <summary>Hears the records done so far after each batch.</summary>
    public IProgress<RebuildProgress>? Progress { get; init; }

    /// <summary>Receives a line every <see cref="LogEvery"/> records, and at each phase.</summary>
    public Action<string>? Log { get; init; }

    /// <summary>Records between two log lines.</summary>
    public int LogEvery { get; init; } = 10_000;
}

/// <summary>Where a rebuild is.</summary>
/// <param name="Table">The record table.</param>
/// <param name="Done">Records replayed so far, this run.</param>
/// <param name="Total">Records this run replays in its bulk phase.</param>
public sealed record RebuildProgress(string Table, long Done, long Total);

/// <summary>What a rebuild did.</summary>
/// <param name="Table">The record table.</param>
/// <param name="Records">Records replayed in the bulk phase (this run; a resumed run skips those already
/// built).</param>
/// <param name="Rows">Rows in the table afterwards.</param>
/// <param name="CaughtUp">Records written meanwhile, replayed again in the swap's transaction.</param>
/// <param name="Resumed">True when an interrupted rebuild was continued.</param>
/// <param name="Recreated">True when the table was dropped and created with the class's current columns.</param>
public sealed record RebuildResult(string Table, long Records, long Rows, long CaughtUp, bool Resumed, bool Recreated);

/// <summary>How <see cref="RecordTables.MigrateAsync{T}"/> brought a record table in line with its class.</summary>
public enum RecordTableChange
{
    /// <summary>The table already matched.</summary>
    None,

    /// <summary>The table did not exist and was created (empty: a new type has no events yet, or rebuild it).</summary>
    Created,

    /// <summary>New nullable columns were added in place; existing rows hold NULL in them.</summary>
    ColumnsAdded,

    /// <summary>A change that cannot be made in place (renamed, dropped, retyped or new required column) was made by
    /// rebuilding from the log.</summary>
    Rebuilt,
}

/// <summary>The outcome of a record-table migration.</summary>
/// <param name="Table">The record table.</param>
/// <param name="Change">What was done.</param>
/// <param name="Added">Columns the class has and the table had not.</param>
/// <param name="Removed">Columns the table had and the class has not (renamed or dropped).</param>
/// <param name="Retyped">Columns whose SQL type changed.</param>
/// <param name="Rebuild">The rebuild's result when there was one.</param>
public sealed record RecordTableMigration(
    string Table,
    RecordTableChange Change,
    IReadOnlyList<string> Added,
    IReadOnlyList<string> Removed,
    IReadOnlyList<string> Retyped,
    RebuildResult? Rebuild
);
