using System.Data.Common;
using System.Text.Json;

namespace Spector;

/// <summary>Reads a record's events and rolls its state forward through the generated dispatcher.</summary>
internal static class EventReader
{
    /// <summary>
    /// The state after replay; <see cref="LastSeq"/> is 0 when the record has no events of this type.
    /// <see cref="LastHash"/> is the last event's hash when the replay was asked for the record's chain head.
    /// <see cref="EventsRead"/> counts the rows read (from the latest savepoint on, when replay starts there).
    /// </summary>
    public readonly record struct Replayed<T>(T? Record, long LastSeq, bool Deleted, byte[]? LastHash = null, long EventsRead = 0)
        where T : class;

    /// <summary>
    /// Rolls a record forward. Types with a Savepoint hook start at the latest savepoint (a savepoint resets
    /// the state to what its payload rebuilds). With <paramref name="checkSavepoint"/> every event is replayed
    /// from the start instead, and each savepoint is handed to it with the state it should reproduce, without
    /// resetting anything. With <paramref name="withChainHead"/> (writes to per-record chains) the last event's
    /// hash comes back too. <paramref name="options"/> (the operation's; by default the log's default store's) say
    /// where a slow replay is logged.
    /// </summary>
    public static Task<Replayed<T>> ReplayAsync<T>(EventedType<T> type, EventShard shard, DbConnection connection, DbTransaction? tx,
        Guid id, long? upToSeq, CancellationToken ct, Action<Guid, long, T, T>? checkSavepoint = null, bool withChainHead = false,
        SpectorOptions? options = null) where T : class =>
        Instrument.ReplayAsync(type, shard.Table, id, options ?? SpectorOptions.For(null, type.Log),
            () => ReplayEventsAsync(type, shard, connection, tx, id, upToSeq, ct, checkSavepoint, withChainHead));

    private static async Task<Replayed<T>> ReplayEventsAsync<T>(EventedType<T> type, EventShard shard, DbConnection connection, DbTransaction? tx,
        Guid id, long? upToSeq, CancellationToken ct, Action<Guid, long, T, T>? checkSavepoint, bool withChainHead) where T : class
    {
        var sql = shard.Sql;
        var fromSavepoint = type.HasSavepoint && checkSavepoint is null;
        await using var command = connection.CreateCommand();
        command.Transaction = tx;
        command.CommandText = (fromSavepoint, upToSeq is null, withChainHead) switch
        {
            (true, true, true) => sql.ReplayFromSavepointWithHash,
            (false, true, true) => sql.ReplayWithHash,
            (_, false, true) => throw new ArgumentException("A chain head is only read with a replay to the end.", nameof(withChainHead)),
            (true, true, false) => sql.ReplayFromSavepoint,
            (true, false, false) => sql.ReplayFromSavepointUpTo,
            (false, true, false) => sql.Replay,
            (false, false, false) => sql.ReplayUpTo,
        } ?? throw new InvalidOperationException($"Events table {shard.Table} has no per-record chains to read a head of.");
        AddParameter(command, "parent_id", id);
        if (upToSeq is { } limit) AddParameter(command, "up_to", limit);

        await using var reader = await command.ExecuteReaderAsync(ct).ConfigureAwait(false);
        T? state = null;
        long last = 0;
        var deleted = false;
        byte[]? lastHash = null;
        long read = 0;
        while (await reader.ReadAsync(ct).ConfigureAwait(false))
        {
            read++;
            if (withChainHead) lastHash = reader.GetFieldValue<byte[]>(5);
            var eventId = reader.GetGuid(0);
            var seq = reader.GetInt64(1);
            var schema = reader.GetInt32(2);
            var action = reader.GetInt32(3);
            if (schema != type.SchemaIndex)
            {
                if (type.Log.SchemaName(schema) is null)
                    throw Fail(ReplayFailure.UnknownSchema, $"schema index {schema} is not listed on events table {type.Log.Table}");
                // The id belongs to a record of another listed type: for this type it does not exist.
                if (last == 0) return default;
                throw Fail(ReplayFailure.SchemaMismatch, $"its schema index is {schema}, the record's is {type.SchemaIndex}");
            }
            // Replay from a savepoint begins mid-history.
            if (last == 0 && fromSavepoint && action == EventActions.Savepoint) last = seq - 1;
            if (seq != last + 1)
                throw Fail(ReplayFailure.BrokenSequence, $"expected seq {last + 1}: an event is missing");
            last = seq;

            switch (action)
            {
                case EventActions.Insert:
                    if (seq != 1) throw Fail(ReplayFailure.BrokenSequence, "an insert can only be the first event");
                    state = type.Create(id);
                    Apply(type, state, "insert", reader.GetString(4));
                    break;
                case EventActions.Savepoint:
                    if (state is null && (deleted || !fromSavepoint))
                        throw Fail(ReplayFailure.BrokenSequence, deleted ? "it follows the record's delete" : "the record has no insert event");
                    var restored = type.Create(id);
                    Apply(type, restored, "savepoint", reader.GetString(4));
                    if (checkSavepoint is not null) checkSavepoint(eventId, seq, restored, state!);
                    else state = restored;
                    break;
                case EventActions.Delete:
                    if (state is null) throw Fail(ReplayFailure.BrokenSequence, "a delete must follow an insert");
                    state = null;
                    deleted = true;
                    break;
                default:
                    var name = type.Log.ActionName(action)
                        ?? throw Fail(ReplayFailure.UnknownAction, $"action code {action} is not known to events table {type.Log.Table}");
                    // A record brought up under a custom action starts with that action.
                    if (state is null && seq == 1) state = type.Create(id);
                    if (state is null)
                        throw Fail(ReplayFailure.BrokenSequence, deleted ? "it follows the record's delete" : "the record has no insert event");
                    Apply(type, state, name, reader.GetString(4));
                    break;
            }

            void Apply(EventedType<T> evented, T record, string actionName, string payload)
            {
                Attrs attrs;
                int version;
                try
                {
                    attrs = Attrs.Parse(payload);
                    version = Payload.VersionOf(attrs);
                }
                catch (Exception e) when (e is JsonException or FormatException or InvalidOperationException)
                {
                    throw Fail(ReplayFailure.CorruptPayload, $"the payload is not valid: {e.Message}", e);
                }
                if (version > evented.Version)
                    throw Fail(ReplayFailure.NewerVersion,
                        $"it was written with version {version}, newer than {evented.Name}'s version {evented.Version}; deploy the newer code to read it");
                try
                {
                    evented.Apply(new Changeset<T>(evented, record, actionName, version, eventId, attrs, isReplay: true));
                }
                catch (AttrConversionException e)
                {
                    throw Fail(ReplayFailure.CorruptPayload, e.Message, e);
                }
            }

            EventReplayException Fail(ReplayFailure failure, string detail, Exception? inner = null) =>
                new(failure, type.Name, type.Log.Table, id, eventId, seq, detail, inner);
        }
        return new(state, last, deleted, lastHash, read);
    }

    public static async Task<IReadOnlyList<StoredEvent>> ReadEventsAsync(EventLog log, SpectorSession? session, Guid recordId,
        int? schema, CancellationToken ct)
    {
        var shard = log.ShardFor(recordId);
        await using var lease = await ConnectionLease.OpenAsync(log, session, ct).ConfigureAwait(false);
        return await ReadEventsAsync(log, shard, lease.Connection, lease.Transaction, lease.Dialect, recordId, schema, ct).ConfigureAwait(false);
    }

    public static Task<IReadOnlyList<StoredEvent>> ReadEventsAsync(EventLog log, EventShard shard, DbConnection connection, DbTransaction? tx,
        Dialect dialect, Guid recordId, int? schema, CancellationToken ct) =>
        QueryEventsAsync(log, connection, tx, dialect, schema is null ? shard.Sql.EventsOf : shard.Sql.EventsOfSchema, ct,
            ("parent_id", recordId), ("schema", schema));

    public static async Task<IReadOnlyList<StoredEvent>> ReadLinkedAsync(EventLog log, SpectorSession? session, Guid eventId, EventLinkInfo link,
        bool outgoing, int? type, CancellationToken ct)
    {
        if (type is not null && !link.Typed)
            throw new ArgumentException($"Link '{link.Name}' of events table {log.Table} is not typed: pass no type.", nameof(type));
        await using var lease = await ConnectionLease.OpenAsync(log, session, ct).ConfigureAwait(false);
        if (await ShardOfEventAsync(log, lease, eventId, ct).ConfigureAwait(false) is not { } shard) return [];
        return await QueryEventsAsync(log, lease.Connection, lease.Transaction, lease.Dialect,
            shard.Sql.Linked(shard.Link(link.Name), outgoing, type is not null), ct, ("id", eventId), ("type", type)).ConfigureAwait(false);
    }

    public static async Task<IReadOnlyList<StoredEvent>> ReadPreviousAsync(EventLog log, SpectorSession? session, Guid eventId, CancellationToken ct)
    {
        await using var lease = await ConnectionLease.OpenAsync(log, session, ct).ConfigureAwait(false);
        if (await ShardOfEventAsync(log, lease, eventId, ct).ConfigureAwait(false) is not { } shard) return [];
        return await QueryEventsAsync(log, lease.Connection, lease.Transaction, lease.Dialect, shard.Sql.Previous, ct, ("id", eventId))
            .ConfigureAwait(false);
    }

    public static async Task<IReadOnlyList<EventLinkRow>> ReadLinksAsync(EventLog log, SpectorSession? session, Guid eventId, CancellationToken ct)
    {
        await using var lease = await ConnectionLease.OpenAsync(log, session, ct).ConfigureAwait(false);
        if (await ShardOfEventAsync(log, lease, eventId, ct).ConfigureAwait(false) is not { } shard) return [];
        await using var command = lease.Connection.CreateCommand();
        command.Transaction = lease.Transaction;
        command.CommandText = shard.Sql.LinksOf(lease.Dialect);
        AddParameter(command, "id", eventId);
        var text = await command.ExecuteScalarAsync(ct).ConfigureAwait(false) as string;
        return EventHash.Sorted(EventHash.ParseLinks(text)).ToList();
    }

    /// <summary>
    /// The shard holding an event, found by its id: an event id does not say which record it belongs to, so a
    /// sharded log asks each shard in turn (one indexed lookup per shard). Null when no shard has it.
    /// </summary>
    private static async Task<EventShard?> ShardOfEventAsync(EventLog log, ConnectionLease lease, Guid eventId, CancellationToken ct)
    {
        if (!log.IsSharded) return log.Shards[0];
        foreach (var shard in log.Shards)
        {
            await using var command = lease.Connection.CreateCommand();
            command.Transaction = lease.Transaction;
            command.CommandText = shard.Sql.HasEvent;
            AddParameter(command, "id", eventId);
            if (await command.ExecuteScalarAsync(ct).ConfigureAwait(false) is not null and not DBNull) return shard;
        }
        return null;
    }

    private static async Task<IReadOnlyList<StoredEvent>> QueryEventsAsync(EventLog log, DbConnection connection, DbTransaction? tx, Dialect dialect,
        string sql, CancellationToken ct, params (string Name, object? Value)[] parameters)
    {
        await using var command = connection.CreateCommand();
        command.Transaction = tx;
        command.CommandText = sql;
        foreach (var (name, value) in parameters)
            if (value is not null) AddParameter(command, name, value);

        var events = new List<StoredEvent>();
        await using var reader = await command.ExecuteReaderAsync(ct).ConfigureAwait(false);
        while (await reader.ReadAsync(ct).ConfigureAwait(false))
        {
            var action = reader.GetInt32(5);
            events.Add(new StoredEvent(
                Id: reader.GetGuid(1),
                ParentId: reader.GetGuid(2),
                Seq: reader.GetInt64(3),
                Position: reader.GetInt64(0),
                Schema: reader.GetInt32(4),
                ActionCode: action,
                Action: log.ActionName(action),
                Payload: reader.GetString(6),
                Metadata: reader.IsDBNull(7) ? null : reader.GetString(7),
                InsertedAt: dialect.ReadTimestamp(reader, 8)));
        }
        return events;
    }

    /// <summary>Adds a named parameter to a raw command (replay and chain reads bypass Dapper on their hot paths).</summary>
    internal static void AddParameter(DbCommand command, string name, object value)
    {
        var parameter = command.CreateParameter();
        parameter.ParameterName = name;
        parameter.Value = value;
        command.Parameters.Add(parameter);
    }
}
