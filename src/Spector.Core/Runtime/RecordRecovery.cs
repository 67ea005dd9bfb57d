using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Dapper;

namespace Spector;

/// <summary>
/// Brings record tables and the log back in step: <see cref="MaterializeAsync{T}"/> rebuilds a lost row from
/// the log, <see cref="BringUpAsync{T}"/> imports rows that were written before Spector tracked the table.
/// </summary>
internal static class RecordRecovery
{
    public static Task<Materialization<T>> MaterializeAsync<T>(
        EventedType<T> type,
        SpectorSession? session,
        Guid id,
        CancellationToken ct
    )
        where T : class
    {
        var table = RequireTable(type, "materialize");
        var shard = type.Log.ShardFor(id, type.Name);
        return WriteTransaction.RunAsync(
            type.Log,
            session,
            async (connection, tx, dialect) =>
            {
                var replayed = await EventReader
                    .ReplayAsync(type, shard, connection, tx, id, upToSeq: null, ct)
                    .ConfigureAwait(false);
                if (replayed.LastSeq == 0)
                    return new Materialization<T>(MaterializeOutcome.NoEvents, id, null);
                if (replayed.Record is not { } record)
                    return new Materialization<T>(MaterializeOutcome.Deleted, id, null);
                var rows = await connection
                    .ExecuteScalarAsync<long>(
                        new CommandDefinition(table.ExistsSql, SqlArgs.Of(("id", id)), tx, cancellationToken: ct)
                    )
                    .ConfigureAwait(false);
                if (rows > 0)
                    return new Materialization<T>(MaterializeOutcome.RowExists, id, record);

                var changeset = new Changeset<T>(
                    type,
                    record,
                    "materialize",
                    type.Version,
                    id,
                    new Attrs(),
                    isReplay: false
                );
                await EventWriter
                    .WriteRecordAsync(connection, tx, dialect, type, table.InsertSql, changeset, ct)
                    .ConfigureAwait(false);
                return new Materialization<T>(MaterializeOutcome.Materialized, id, record);
            },
            ct
        );
    }

    public static Task<IReadOnlyList<T>> BringUpAsync<T>(
        EventedType<T> type,
        SpectorSession? session,
        BringUpOptions<T>? options,
        CancellationToken ct
    )
        where T : class
    {
        var table = RequireTable(type, "bring up");
        var log = type.Log;
        var (code, action) = options?.Action is { } name
            ? (
                log.Actions.FirstOrDefault(a => a.Name == name)?.Code
                    ?? throw new ArgumentException(
                        $"'{name}' is not a custom action of events table {log.Table}; "
                            + "declare it in [Evented(Actions = ...)].",
                        nameof(options)
                    ),
                name
            )
            : (EventActions.Insert, "insert");

        return WriteTransaction.RunAsync<IReadOnlyList<T>>(
            log,
            session,
            async (connection, tx, _) =>
            {
                // Read every untracked row first: a reader cannot stay open while the imports write.
                var rows = (
                    await connection
                        .QueryAsync(
                            new CommandDefinition(
                                table.UntrackedSql(log.Shards.Select(s => s.Table)),
                                SqlArgs.Of(("schema", type.SchemaIndex)),
                                tx,
                                cancellationToken: ct
                            )
                        )
                        .ConfigureAwait(false)
                )
                    .Select(row =>
                        (IReadOnlyDictionary<string, object?>)
                            ((IDictionary<string, object?>)row).ToDictionary(c => c.Key, c => c.Value)
                    )
                    .ToList();
                var inner = new SpectorSession(connection, tx);
                var imported = new List<T>(rows.Count);
                foreach (var row in rows)
                {
                    var oldId = row[table.IdColumn]!;
                    var attrs = options?.Attrs?.Invoke(row) ?? DefaultAttrs(table, row);
                    var metadata = new JsonObject { ["brought_up_from"] = ToAttr(oldId, typeof(Guid)) };
                    var record = await EventWriter
                        .ImportAsync(type, inner, attrs, code, action, metadata, ct)
                        .ConfigureAwait(false);
                    if (options?.Transfer is { } transfer)
                        await transfer(new BringUpTransfer<T>(inner, row, oldId, record), ct).ConfigureAwait(false);
                    await connection
                        .ExecuteAsync(
                            new CommandDefinition(table.DeleteSql, SqlArgs.Of(("id", oldId)), tx, cancellationToken: ct)
                        )
                        .ConfigureAwait(false);
                    imported.Add(record);
                }
                return imported;
            },
            ct
        );
    }

    private static RecordTable RequireTable<T>(EventedType<T> type, string what)
        where T : class =>
        type.Table
        ?? throw new InvalidOperationException(
            $"Cannot {what} {type.Name}: it is embedded (no Table), "
                + $"so its state lives only in events table {type.Log.Table}; read it with GetAsync."
        );

    /// <summary>Every column but the id, under its property's key.</summary>
    private static Attrs DefaultAttrs(RecordTable table, IReadOnlyDictionary<string, object?> row)
    {
        var attrs = new Attrs();
        foreach (var column in table.Columns)
            if (column.Column != table.IdColumn && row.TryGetValue(column.Column, out var value))
                attrs[column.Key] = ToAttr(value, column.Type);
        return attrs;
    }

    /// <summary>
    /// A database value as the payload value of a property of <paramref name="type"/>: SQLite hands back integers
    /// for booleans and text for decimals, Guids and times, PostgreSQL hands back UTC DateTimes.
    /// </summary>
    internal static JsonNode? ToAttr(object? value, Type type)
    {
        if (value is null or DBNull)
            return null;
        var invariant = CultureInfo.InvariantCulture;
        if (type == typeof(bool))
            return JsonValue.Create(Convert.ToBoolean(value, invariant));
        if (type == typeof(Guid))
            return JsonValue.Create(
                value switch
                {
                    Guid g => g,
                    byte[] { Length: 16 } bytes => new Guid(bytes),
                    _ => Guid.Parse(Convert.ToString(value, invariant)!),
                }
            );
        if (type == typeof(DateTimeOffset) || type == typeof(DateTime))
            return JsonValue.Create(
                AttrConvert.FormatTimestamp(
                    value switch
                    {
                        DateTimeOffset d => d,
                        DateTime d => new DateTimeOffset(SqlValues.Utc(d)),
                        _ => DateTimeOffset.Parse(
                            Convert.ToString(value, invariant)!,
                            invariant,
                            DateTimeStyles.AssumeUniversal
                        ),
                    }
                )
            );
        if (type == typeof(decimal))
            return JsonValue.Create(Convert.ToDecimal(value, invariant));
        if (type.IsEnum)
            return JsonValue.Create(
                value is string text ? text : Enum.ToObject(type, Convert.ToInt64(value, invariant)).ToString()
            );
        if (type == typeof(string))
            return JsonValue.Create(Convert.ToString(value, invariant));
        var options = StoredJsonOptions.Options;
        if (type.IsPrimitive)
            return JsonSerializer.SerializeToNode(
                Convert.ChangeType(value, type, invariant),
                StoredJsonOptions.TypeInfo(options, type)
            );
        return value is string json
            ? JsonNode.Parse(json)
            : JsonSerializer.SerializeToNode(value, StoredJsonOptions.TypeInfo(options, value.GetType()));
    }
}
