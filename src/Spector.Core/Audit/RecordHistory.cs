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
    public static async Task<T?> GetAsOfAsync<T>(EventedType<T> type, SpectorSession? session, Guid id,
        DateTimeOffset at, CancellationToken ct) where T : class
    {
        var shard = type.Log.ShardFor(id, type.Name);
        await using var lease = await ConnectionLease.OpenAsync(type.Log, session, ct).ConfigureAwait(false);
        var replayed = await EventReader.ReplayAsync(type, shard, lease.Connection, lease.Transaction, id,
            upToSeq: null, ct, asOf: at).ConfigureAwait(false);
        return replayed.Record;
    }

    /// <summary>The record's events of one schema with <paramref name="from"/> &lt;= inserted_at &lt; <paramref
    /// name="to"/> (either bound open when null).</summary>
    public static async Task<IReadOnlyList<StoredEvent>> EventsBetweenAsync(EventLog log, SpectorSession? session,
        Guid id, int schema, DateTimeOffset? from, DateTimeOffset? to, CancellationToken ct)
    {
        TimeRange.Check(from, to);
        var shard = log.ShardFor(id);
        await using var lease = await ConnectionLease.OpenAsync(log, session, ct).ConfigureAwait(false);
        var sql = $"SELECT {EventLogSql.EventColumns} FROM {SqlIdentifier.Quote(shard.Table)} " +
                  "WHERE \"parent_id\" = @parent_id AND \"schema\" = @schema" +
                  (from is null ? "" : " AND \"inserted_at\" >= @from") +
                  (to is null ? "" : " AND \"inserted_at\" < @to") + " ORDER BY \"seq\"";
        await using var command = lease.Connection.CreateCommand();
        command.Transaction = lease.Transaction;
        command.CommandText = sql;
        EventReader.AddParameter(command, "parent_id", id);
        EventReader.AddParameter(command, "schema", schema);
        if (from is { } start) EventReader.AddParameter(command, "from", lease.Dialect.Timestamp(start));
        if (to is { } end) EventReader.AddParameter(command, "to", lease.Dialect.Timestamp(end));
        var events = new List<StoredEvent>();
        await using var reader = await command.ExecuteReaderAsync(ct).ConfigureAwait(false);
        while (await reader.ReadAsync(ct).ConfigureAwait(false))
            events.Add(EventReader.ReadEvent(log, lease.Dialect, reader));
        return events;
    }

    /// <summary>
    /// Every event of the record with the properties it changed, by replaying the whole history twice in
    /// lockstep: one copy after each event, one copy a step behind; the generated <c>Diff</c> names what differs.
    /// </summary>
    public static async Task<IReadOnlyList<RecordChange>> ChangesAsync<T>(EventedType<T> type, SpectorSession? session,
        Guid id, CancellationToken ct) where T : class
    {
        var events = await EventReader.ReadEventsAsync(type.Log, session, id, type.SchemaIndex, ct)
            .ConfigureAwait(false);
        var changes = new List<RecordChange>(events.Count);
        T? after = null;
        T? before = null;
        foreach (var stored in events)
        {
            switch (stored.ActionCode)
            {
                case EventActions.Savepoint:
                    changes.Add(new RecordChange(stored, []));
                    continue;
                case EventActions.Delete:
                    changes.Add(new RecordChange(stored, [], Deleted: true));
                    after = before = null;
                    continue;
                case EventActions.Insert:
                    after = type.Create(id);
                    before = type.Create(id);
                    break;
            }
            if (after is null || before is null)
                throw new EventReplayException(ReplayFailure.BrokenSequence, type.Name, type.Log.Table, id, stored.Id,
                    stored.Seq, "the record has no live state before this event");
            var action = stored.Action ?? throw new EventReplayException(ReplayFailure.UnknownAction, type.Name,
                type.Log.Table, id, stored.Id, stored.Seq,
                $"action code {stored.ActionCode} is not known to events table {type.Log.Table}");
            Apply(type, after, action, stored);
            var keys = type.Diff(before, after);
            var fields = new List<FieldChange>(keys.Count);
            foreach (var key in keys)
                fields.Add(new FieldChange(key, Snapshot(type, before, key), Snapshot(type, after, key)));
            Apply(type, before, action, stored);
            changes.Add(new RecordChange(stored, fields));
        }
        return changes;
    }

    private static void Apply<T>(EventedType<T> type, T record, string action, StoredEvent stored) where T : class
    {
        var attrs = stored.ReadAttrs();
        type.Apply(new Changeset<T>(type, record, action, Payload.VersionOf(attrs), stored.Id, attrs, isReplay: true));
    }

    /// <summary>The property's value now; a mutable value (a list, an object) is copied, since replay goes on
    /// changing it.</summary>
    private static object? Snapshot<T>(EventedType<T> type, T record, string key) where T : class
    {
        if (!type.TryGetAttr(record, key, out var value) || value is null or string || value.GetType().IsValueType)
            return value;
        var typeInfo = StoredJsonOptions.TypeInfo(type.Log.JsonOptions, value.GetType());
        return JsonSerializer.Deserialize(JsonSerializer.SerializeToUtf8Bytes(value, typeInfo), typeInfo);
    }
}

/// <summary>Checks of the time ranges audit reads take.</summary>
internal static class TimeRange
{
    /// <summary>A range whose start lies after its end is a mistake, not an empty answer.</summary>
    public static void Check(DateTimeOffset? from, DateTimeOffset? to)
    {
        if (from is { } start && to is { } end && start > end)
            throw new ArgumentException($"The time range is inverted: from {start:O} lies after to {end:O}.",
                nameof(from));
    }
}
