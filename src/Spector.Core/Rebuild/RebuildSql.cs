using System.Text.RegularExpressions;

namespace Spector;

/// <summary>The SQL of one record table's rebuild: the table built beside it, the progress rows and the swap.</summary>
internal sealed partial class RebuildSql
{
    public const string ProgressTable = "spector_rebuilds";

    public RebuildSql(RecordTable table, SqlDialect dialect)
    {
        Live = table.Name;
        Beside = SqlIdentifier.Validate(table.Name + "__rebuild", "rebuild table");
        var (live, beside) = (SqlIdentifier.Quote(Live), SqlIdentifier.Quote(Beside));
        var create = table.CreateSql(dialect);
        var prefix = $"CREATE TABLE IF NOT EXISTS {live} (";
        if (!create.StartsWith(prefix, StringComparison.Ordinal))
            throw new InvalidOperationException($"The DDL of record table {Live} does not start as expected: {create}");
        CreateLive = create;
        CreateBeside = $"CREATE TABLE IF NOT EXISTS {beside} (" + create[prefix.Length..];
        var columns = table.Columns.Select(c => SqlIdentifier.Quote(c.Column)).ToList();
        var list = string.Join(", ", columns);
        var id = SqlIdentifier.Quote(table.IdColumn);
        _id = id;
        var others = columns.Where(c => c != id).ToList();
        _upsertHead = $"INSERT INTO {beside} ({list}) VALUES ";
        _rowParameters = table.Columns.Select(c => "@r_" + c.Column).ToArray();
        _upsertTail =
            $" ON CONFLICT ({id}) "
            + (
                others.Count == 0
                    ? "DO NOTHING"
                    : "DO UPDATE SET " + string.Join(", ", others.Select(c => $"{c} = excluded.{c}"))
            );
        // Well under both databases' parameter limits (SQLite 32,766, PostgreSQL 65,535) and short to parse.
        RowsPerUpsert = Math.Clamp(10_000 / Math.Max(1, _rowParameters.Length), 1, 200);
        DeleteBeside = $"DELETE FROM {beside} WHERE {id} = @id";
        DropBeside = $"DROP TABLE IF EXISTS {beside}";
        CopyIn = $"INSERT INTO {live} ({list}) SELECT {list} FROM {beside}";
        ClearLive = $"DELETE FROM {live}";
        DropLive = $"DROP TABLE {live}";
        CountLive = $"SELECT COUNT(*) FROM {live}";
        Kind = dialect;
        LockLive = Postgres ? $"LOCK TABLE {live} IN EXCLUSIVE MODE" : null;
        DeclaredColumns = ColumnRule()
            .Matches(create[prefix.Length..])
            .ToDictionary(m => m.Groups[1].Value, m => m.Groups[2].Value);
        NullableColumns = ColumnRule()
            .Matches(create[prefix.Length..])
            .Where(m => m.Groups[3].Value == " NULL")
            .Select(m => m.Groups[1].Value)
            .ToHashSet();
        LiveColumns = Postgres
            ? "SELECT column_name, data_type FROM information_schema.columns "
                + "WHERE table_schema = current_schema() AND table_name = @table"
            : "SELECT name, type FROM pragma_table_info(@table)";
    }

    public string Live { get; }
    public string Beside { get; }

    /// <summary>The database the SQL is written for.</summary>
    public SqlDialect Kind { get; }

    public bool Postgres => Kind == SqlDialect.PostgreSql;

    public string CreateLive { get; }
    public string CreateBeside { get; }

    /// <summary>
    /// Writes <paramref name="rows"/> records' rows beside (each inserted or replaced) in one statement: row i's
    /// parameters are the record's <c>@r_column</c> names followed by <c>__i</c>.
    /// </summary>
    public string UpsertBeside(int rows)
    {
        var text = new System.Text.StringBuilder(_upsertHead);
        for (var i = 0; i < rows; i++)
        {
            text.Append(i == 0 ? "(" : ", (");
            for (var c = 0; c < _rowParameters.Length; c++)
                text.Append(c == 0 ? "" : ", ").Append(_rowParameters[c]).Append("__").Append(i);
            text.Append(')');
        }
        return text.Append(_upsertTail).ToString();
    }

    /// <summary>The most rows one <see cref="UpsertBeside"/> statement writes.</summary>
    public int RowsPerUpsert { get; }

    public string DeleteBeside { get; }
    public string DropBeside { get; }
    public string CopyIn { get; }
    public string ClearLive { get; }
    public string DropLive { get; }
    public string CountLive { get; }
    public string? LockLive { get; }

    /// <summary>Column name to SQL type, as the class declares them.</summary>
    public IReadOnlyDictionary<string, string> DeclaredColumns { get; }

    public IReadOnlySet<string> NullableColumns { get; }

    /// <summary>The table's columns and types as the database has them (@table).</summary>
    public string LiveColumns { get; }

    /// <summary>The type name the database reports for a declared type.</summary>
    public string Reported(string declared) =>
        Postgres && declared == "timestamptz" ? "timestamp with time zone" : declared;

    public string AddColumn(string column) =>
        $"ALTER TABLE {SqlIdentifier.Quote(Live)} "
        + $"ADD COLUMN {SqlIdentifier.Quote(column)} {DeclaredColumns[column]} NULL";

    public static string CreateProgress =>
        $"""CREATE TABLE IF NOT EXISTS "{ProgressTable}" ("record_table" text NOT NULL, "events_table" text NOT NULL,"""
        + """ "tx_id" bigint NOT NULL, "position" bigint NOT NULL, PRIMARY KEY ("record_table", "events_table"))""";

    public static string ReadProgress =>
        $"""SELECT "events_table", "tx_id", "position" FROM "{ProgressTable}" WHERE "record_table" = @table""";

    public static string AddProgress =>
        $"""INSERT INTO "{ProgressTable}" ("record_table", "events_table", "tx_id", "position") """
        + "VALUES (@table, @events_table, @tx_id, @position)";

    public static string ClearProgress => $"""DELETE FROM "{ProgressTable}" WHERE "record_table" = @table""";

    /// <summary>
    /// The point a rebuild starts from: every event written after it is caught up in the swap. PostgreSQL: the
    /// snapshot's xmin (an event committed later has a tx_id at or above it); SQLite: the last position.
    /// </summary>
    public string Horizon(string eventsTable) =>
        Postgres
            ? "SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint, 0"
            : $"""SELECT 0, COALESCE(MAX("position"), 0) FROM {SqlIdentifier.Quote(eventsTable)}""";

    /// <summary>
    /// Heads for the records of one events table that have events but no head yet (written around Spector, by raw
    /// SQL or an import tool; the write path adds theirs on their first write), so the listing below misses none.
    /// </summary>
    public static string BackfillHeads(string eventsTable, bool hashed)
    {
        var (events, heads) = (SqlIdentifier.Quote(eventsTable), SqlIdentifier.Quote(Dialect.Heads(eventsTable)));
        // The headless records are found by skipping through the (parent_id, seq) index one record at a time (a probe
        // per record, where a filter on seq = 1 read every event), keeping those with a first event, as before.
        return Dialect.HeadsFromLog(
                eventsTable,
                Dialect.Heads(eventsTable),
                hashed,
                $"""e."parent_id" IN (WITH RECURSIVE r("id") AS ("""
                    + $"""SELECT (SELECT x."parent_id" FROM {events} x ORDER BY x."parent_id" LIMIT 1) UNION ALL """
                    + $"""SELECT (SELECT x."parent_id" FROM {events} x WHERE x."parent_id" > r."id" """
                    + """ORDER BY x."parent_id" LIMIT 1) """
                    + """FROM r WHERE r."id" IS NOT NULL) """
                    + """SELECT r."id" FROM r WHERE r."id" IS NOT NULL """
                    + $"""AND NOT EXISTS (SELECT 1 FROM {heads} h WHERE h."record_id" = r."id") """
                    + $"""AND EXISTS (SELECT 1 FROM {events} f WHERE f."parent_id" = r."id" AND f."seq" = 1))"""
            ) + "\nON CONFLICT (\"record_id\") DO NOTHING";
    }

    /// <summary>
    /// The type's live record ids in one events table not built yet, in id order, from the table's heads (one row
    /// per record, deleted ones flagged): a deleted record has no row to build.
    /// </summary>
    public string PendingIds(string eventsTable) =>
        $"""SELECT h."record_id" FROM {SqlIdentifier.Quote(Dialect.Heads(eventsTable))} h """
        + """WHERE h."schema" = @schema AND NOT h."deleted" """
        + $"""AND NOT EXISTS (SELECT 1 FROM {SqlIdentifier.Quote(Beside)} b WHERE b.{_id} = h."record_id") """
        + """ORDER BY h."record_id" """;

    /// <summary>
    /// The events of <paramref name="count"/> records of one events table for a batch replay, record by record in seq
    /// order, from each one's latest savepoint when <paramref name="fromSavepoint"/>: parent_id, id, seq, schema,
    /// action, payload. The ids are @ids on PostgreSQL, an array literal (Npgsql resolves a Guid[] parameter's type
    /// afresh on every command, a fifth of a batch's client time), and @id0, @id1.. on SQLite.
    /// </summary>
    public string ReplayMany(string eventsTable, int count, bool fromSavepoint)
    {
        var t = SqlIdentifier.Quote(eventsTable);
        var ids = Postgres
            ? "= ANY(CAST(@ids AS uuid[]))"
            : "IN (" + string.Join(", ", Enumerable.Range(0, count).Select(i => "@id" + i)) + ")";
        // As a single replay's latest-savepoint search, correlated to each row's record.
        var savepoint = fromSavepoint
            ? $" AND e.\"seq\" >= COALESCE((SELECT MAX(s.\"seq\") FROM {t} s WHERE s.\"parent_id\" = e.\"parent_id\" "
                + $"AND s.\"action\" = {EventActions.Savepoint}), 1)"
            : "";
        return """SELECT e."parent_id", e."id", e."seq", e."schema", e."action", e."payload" """
            + $"""FROM {t} e WHERE e."parent_id" {ids}"""
            + savepoint
            + """ ORDER BY e."parent_id", e."seq" """;
    }

    /// <summary>The type's records with an event after the horizon.</summary>
    public string ChangedIds(string eventsTable) =>
        Postgres
            ? $"""SELECT DISTINCT "parent_id" FROM {SqlIdentifier.Quote(eventsTable)} """
                + """WHERE "schema" = @schema AND "tx_id" >= @tx_id::text::xid8"""
            : $"""SELECT DISTINCT "parent_id" FROM {SqlIdentifier.Quote(eventsTable)} """
                + """WHERE "schema" = @schema AND "position" > @position""";

    private readonly string _id;
    private readonly string _upsertHead;
    private readonly string _upsertTail;
    private readonly string[] _rowParameters;

    [GeneratedRegex("\"([A-Za-z_][A-Za-z0-9_]*)\" ([a-z A-Z]+?)( PRIMARY KEY| NULL| NOT NULL)(?=, \"|\\)$)")]
    private static partial Regex ColumnRule();
}
