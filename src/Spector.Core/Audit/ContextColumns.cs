using System.Data.Common;
using Dapper;

namespace Spector;

/// <summary>
/// The columns an event's <see cref="EventContext"/> is stored in, their indexes, and the step that adds them to
/// events tables created before they existed. Every column is nullable text: events written without a context
/// (and every event written before the upgrade) hold nulls there.
/// </summary>
internal static class ContextColumns
{
    /// <summary>The column names, in the order they are selected and bound.</summary>
    public static readonly string[] Names =
    [
        "actor_type",
        "actor_id",
        "correlation_id",
        "causation_id",
        "reason",
        "trace_id",
        "span_id",
    ];

    /// <summary>The columns quoted for a SELECT list, after <paramref name="alias"/> when given.</summary>
    public static string SelectList(string? alias = null) =>
        string.Join(", ", Names.Select(name => (alias is null ? "" : alias + ".") + SqlIdentifier.Quote(name)));

    /// <summary>The column definitions inside CREATE TABLE.</summary>
    public static string Definitions =>
        string.Join(",\n    ", Names.Select(name => $"{SqlIdentifier.Quote(name)} text NULL"));

    /// <summary>
    /// The indexes timelines, buckets and as-of reads use, each by name with its CREATE INDEX (without IF NOT EXISTS:
    /// each dialect guards it its own way). Context indexes are partial, so events written without a context cost
    /// them nothing; each ends in <c>position</c> so a page is read in order without a sort.
    /// </summary>
    public static IEnumerable<(string Name, string Create)> Indexes(string table)
    {
        var t = SqlIdentifier.Quote(table);
        (string, string) Index(string suffix, string columns, string? notNull)
        {
            var name = SqlIdentifier.Derived(table, suffix);
            return (
                name,
                $"CREATE INDEX {SqlIdentifier.Quote(name)} ON {t} ({columns})"
                    + (notNull is null ? "" : $" WHERE \"{notNull}\" IS NOT NULL")
            );
        }
        yield return Index("actor_idx", "\"actor_type\", \"actor_id\", \"position\"", "actor_id");
        yield return Index("correlation_idx", "\"correlation_id\", \"position\"", "correlation_id");
        yield return Index("causation_idx", "\"causation_id\", \"position\"", "causation_id");
        yield return Index("trace_idx", "\"trace_id\", \"position\"", "trace_id");
        yield return Index("inserted_at_idx", "\"inserted_at\", \"position\"", null);
        yield return Index(ParentTimeIndexSuffix, "\"parent_id\", \"inserted_at\", \"seq\"", null);
    }

    /// <summary>The suffix of the (parent_id, inserted_at, seq) index that as-of reads probe.</summary>
    public const string ParentTimeIndexSuffix = "parent_time_idx";

    /// <summary>
    /// PostgreSQL: adds the columns to a table created before them. Each is added only when missing, so a
    /// migration of an up-to-date table in use takes no lock against its writers.
    /// </summary>
    public static string AddIfMissingPostgres(string table)
    {
        var adds = Names.Select(name =>
            $"IF NOT EXISTS (SELECT 1 FROM pg_attribute WHERE attrelid = to_regclass('{SqlIdentifier.Quote(table)}') "
            + $"AND attname = '{name}' AND NOT attisdropped) THEN "
            + $"ALTER TABLE {SqlIdentifier.Quote(table)} ADD COLUMN {SqlIdentifier.Quote(name)} text NULL; END IF;"
        );
        return $"DO $spector$ BEGIN\n{string.Join("\n", adds)}\nEND $spector$";
    }

    /// <summary>
    /// SQLite has no <c>ADD COLUMN IF NOT EXISTS</c>: reads the table's columns and adds the missing ones. A table
    /// that does not exist yet is left to its CREATE TABLE.
    /// </summary>
    public static async Task AddIfMissingSqliteAsync(
        DbConnection connection,
        DbTransaction tx,
        string table,
        CancellationToken ct
    )
    {
        var columns = await connection
            .QueryAsync<string>(
                new CommandDefinition(
                    "SELECT \"name\" FROM pragma_table_info(@table)",
                    SqlArgs.Of(("table", table)),
                    tx,
                    cancellationToken: ct
                )
            )
            .ConfigureAwait(false);
        var existing = columns.ToHashSet();
        if (existing.Count == 0)
            return;
        foreach (var name in Names.Where(name => !existing.Contains(name)))
            await connection
                .ExecuteAsync(
                    new CommandDefinition(
                        $"ALTER TABLE {SqlIdentifier.Quote(table)} ADD COLUMN {SqlIdentifier.Quote(name)} text NULL",
                        transaction: tx,
                        cancellationToken: ct
                    )
                )
                .ConfigureAwait(false);
    }

    /// <summary>Binds the columns as <c>@__actor_type</c>.. for the append statement.</summary>
    public static void Bind(SqlArgs parameters, StoredContext context)
    {
        parameters.Add("__actor_type", context.ActorType, System.Data.DbType.String);
        parameters.Add("__actor_id", context.ActorId, System.Data.DbType.String);
        parameters.Add("__correlation_id", context.CorrelationId, System.Data.DbType.String);
        parameters.Add("__causation_id", context.CausationId, System.Data.DbType.String);
        parameters.Add("__reason", context.Reason, System.Data.DbType.String);
        parameters.Add("__trace_id", context.TraceId, System.Data.DbType.String);
        parameters.Add("__span_id", context.SpanId, System.Data.DbType.String);
    }

    /// <summary>The columns packed into one JSON array of <see cref="SelectList"/> (SQLite's <c>json_array</c>,
    /// PostgreSQL's <c>json_build_array</c>), in that order.</summary>
    public static StoredContext Unpack(string json)
    {
        var values = new string?[Names.Length];
        var reader = new System.Text.Json.Utf8JsonReader(System.Text.Encoding.UTF8.GetBytes(json));
        reader.Read(); // [
        for (var i = 0; i < values.Length && reader.Read(); i++)
            values[i] = reader.TokenType == System.Text.Json.JsonTokenType.Null ? null : reader.GetString();
        return new StoredContext(values[0], values[1], values[2], values[3], values[4], values[5], values[6]);
    }

    /// <summary>Reads the columns from <paramref name="first"/> on, as they were stored (not judged again).</summary>
    public static StoredContext Read(DbDataReader reader, int first)
    {
        string? Text(int offset) => reader.IsDBNull(first + offset) ? null : reader.GetString(first + offset);
        return new StoredContext(Text(0), Text(1), Text(2), Text(3), Text(4), Text(5), Text(6));
    }
}
