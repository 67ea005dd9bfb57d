using System.Text.Json;

namespace Spector;

/// <summary>One record's history: its state as of an instant, its events in a time range, and what each event
/// changed.</summary>
internal static class RecordHistory
{
    /// <summary>
    /// The record after its last event at or before <paramref name="at"/>, replayed from the latest savepoint
    /// before that event; null when it had no event yet, or its last event by then deleted it.
    /// </summary>
    public static async Task<T?> GetAsOfAsync<T>(
        EventedType<T> type,
        SpectorSession? session,
        Guid id,
        DateTimeOffset at,
        CancellationToken ct
    )
        where T : class
    {
        var shard = type.Log.ShardFor(id, type.Name);
        await using var lease = await ConnectionLease.OpenAsync(type.Log, session, ct).ConfigureAwait(false);
        var replayed = await EventReader
            .ReplayAsync(type, shard, lease.Connection, lease.Transaction, id, upToSeq: null, ct, asOf: at)
            .ConfigureAwait(false);
        return replayed.Record;
    }

    /// <summary>The record's events of one schema with <paramref name="from"/> &lt;= inserted_at &lt; <paramref
    /// name="to"/> (either bound open when null).</summary>
    public static async Task<IReadOnlyList<StoredEvent>> EventsBetweenAsync(
        EventLog log,
        SpectorSession? session,
        Guid id,
        int schema,
        DateTimeOffset? from,
        DateTimeOffset? to,
        CancellationToken ct
    )
    {
        TimeRange.Check(from, to);
        var shard = log.ShardFor(id);
        await using var lease = await ConnectionLease.OpenAsync(log, session, ct).ConfigureAwait(false);
        var sql =
            $"SELECT {EventLogSql.EventColumns} FROM {SqlIdentifier.Quote(shard.Table)} "
            + "WHERE \"parent_id\" = @parent_id AND \"schema\" = @schema"
            + (from is null ? "" : " AND \"inserted_at\" >= @from")
            + (to is null ? "" : " AND \"inserted_at\" < @to")
            + " ORDER BY \"seq\"";
        await using var command = lease.Connection.CreateCommand();
        command.Transaction = lease.Transaction;
        command.CommandText = sql;
        EventReader.AddParameter(command, "parent_id", id);
        EventReader.AddParameter(command, "schema", schema);
        if (from is { } start)
            EventReader.AddParameter(command, "from", lease.Dialect.Timestamp(TimeRange.Bound(start)));
        if (to is { } end)
            EventReader.AddParameter(command, "to", lease.Dialect.Timestamp(TimeRange.Bound(end)));
        var events = new List<StoredEvent>();
        await using var reader = await command.ExecuteReaderAsync(ct).ConfigureAwait(false);
        while (await reader.ReadAsync(ct).ConfigureAwait(false))
            events.Add(EventReader.ReadEvent(log, lease.Dialect, reader));
        return events;
    }

    /// <summary>
    /// Every event of the record with the properties it changed, in one replay: each event is applied once, and
    /// the properties that then differ from the values kept from before it (copies, so replay cannot change
    /// them) are its changes. Only properties away from a new record's defaults are kept and compared, so a
    /// step costs the record's set properties, not a second replay.
    /// </summary>
    public static async Task<IReadOnlyList<RecordChange>> ChangesAsync<T>(
        EventedType<T> type,
        SpectorSession? session,
        Guid id,
        CancellationToken ct
    )
        where T : class
    {
        var events = await EventReader
            .ReadEventsAsync(type.Log, session, id, type.SchemaIndex, ct)
            .ConfigureAwait(false);
        var changes = new List<RecordChange>(events.Count);
        var fresh = type.Create(id);
        T? record = null;
        // The values before the current event of the properties away from their defaults.
        var kept = new Dictionary<string, object?>();
        foreach (var stored in events)
        {
            switch (stored.ActionCode)
            {
                case EventActions.Savepoint:
                    changes.Add(new RecordChange(stored, []));
                    continue;
                case EventActions.Delete:
                    changes.Add(new RecordChange(stored, [], Deleted: true));
                    record = null;
                    kept.Clear();
                    continue;
                case EventActions.Insert:
                    record = type.Create(id);
                    kept.Clear();
                    break;
            }
            if (record is null)
                throw new EventReplayException(
                    ReplayFailure.BrokenSequence,
                    type.Name,
                    type.Log.Table,
                    id,
                    stored.Id,
                    stored.Seq,
                    "the record has no live state before this event"
                );
            var action =
                stored.Action
                ?? throw new EventReplayException(
                    ReplayFailure.UnknownAction,
                    type.Name,
                    type.Log.Table,
                    id,
                    stored.Id,
                    stored.Seq,
                    $"action code {stored.ActionCode} is not known to events table {type.Log.Table}"
                );
            var attrs = stored.ReadAttrs();
            type.Apply(
                new Changeset<T>(type, record, action, Payload.VersionOf(attrs), stored.Id, attrs, isReplay: true)
            );
            changes.Add(new RecordChange(stored, Compare(type, fresh, record, kept)));
        }
        return changes;
    }

    /// <summary>
    /// The fields of <paramref name="record"/> that differ from <paramref name="kept"/> (a key not kept had its
    /// default), in declaration order, then those back at their default; <paramref name="kept"/> is brought up
    /// to date.
    /// </summary>
    private static List<FieldChange> Compare<T>(
        EventedType<T> type,
        T fresh,
        T record,
        Dictionary<string, object?> kept
    )
        where T : class
    {
        var fields = new List<FieldChange>();
        var set = type.Diff(fresh, record);
        foreach (var key in set)
        {
            type.TryGetAttr(record, key, out var now);
            if (!kept.TryGetValue(key, out var before))
                type.TryGetAttr(fresh, key, out before);
            if (Same(type.Log, before, now))
                continue;
            // Each change holds its own copies: a caller editing one list cannot edit another change's.
            fields.Add(new FieldChange(key, Snapshot(type.Log, before), Snapshot(type.Log, now)));
            kept[key] = Snapshot(type.Log, now);
        }
        foreach (var key in kept.Keys.Where(key => !set.Contains(key)).ToList())
        {
            type.TryGetAttr(record, key, out var now);
            fields.Add(new FieldChange(key, kept[key], Snapshot(type.Log, now)));
            kept.Remove(key);
        }
        return fields;
    }

    /// <summary>Equal as the generated <c>Diff</c> compares: by value, or by stored JSON for lists and
    /// objects.</summary>
    private static bool Same(EventLog log, object? a, object? b) =>
        a is null || b is null ? a is null && b is null
        : a is string || a.GetType().IsValueType ? a.Equals(b)
        : AttrConvert.SameJson(a, b, log.JsonOptions);

    /// <summary>A copy of a mutable value (a list, an object), since replay goes on changing the original.</summary>
    private static object? Snapshot(EventLog log, object? value)
    {
        if (value is null or string || value.GetType().IsValueType)
            return value;
        var typeInfo = StoredJsonOptions.TypeInfo(log.JsonOptions, value.GetType());
        return JsonSerializer.Deserialize(JsonSerializer.SerializeToUtf8Bytes(value, typeInfo), typeInfo);
    }
}

/// <summary>Checks of the time ranges audit reads take, and their bounds at the microsecond the databases
/// store.</summary>
internal static class TimeRange
{
    /// <summary>
    /// A range's bound (<c>inserted_at &gt;= from</c>, <c>inserted_at &lt; to</c>) as the first whole microsecond at
    /// or after it: stored times are whole microseconds, so an event lies before a bound with finer ticks exactly
    /// when it lies before that microsecond (truncating would take in the event of the microsecond before).
    /// </summary>
    public static DateTimeOffset Bound(DateTimeOffset instant)
    {
        var extra = instant.UtcTicks % TicksPerMicrosecond;
        if (extra == 0)
            return instant;
        var up = TicksPerMicrosecond - extra;
        return instant.UtcTicks > DateTimeOffset.MaxValue.UtcTicks - up ? instant : instant.AddTicks(up);
    }

    /// <summary>An as-of instant (<c>inserted_at &lt;= at</c>) as the whole microsecond at or before it.</summary>
    public static DateTimeOffset AtOrBefore(DateTimeOffset instant)
    {
        var extra = instant.UtcTicks % TicksPerMicrosecond;
        if (extra < 0)
            extra += TicksPerMicrosecond;
        return extra == 0 ? instant : instant.AddTicks(-extra);
    }

    private const long TicksPerMicrosecond = 10;

    /// <summary>A range whose start lies after its end is a mistake, not an empty answer.</summary>
    public static void Check(DateTimeOffset? from, DateTimeOffset? to)
    {
        if (from is { } start && to is { } end && start > end)
            throw new ArgumentException(
                $"The time range is inverted: from {start:O} lies after to {end:O}.",
                nameof(from)
            );
    }
}
