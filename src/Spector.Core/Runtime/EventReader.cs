using System.Data.Common;
using System.Text.Json;

namespace Spector;

/// <summary>Reads a record's events and rolls its state forward through the generated dispatcher.</summary>
internal static class EventReader
{
    /// <summary>
    /// The state after replay; <see cref="LastSeq"/> is 0 when the record has no events of this type.
    /// <see cref="EventsRead"/> counts the rows read (from the latest savepoint on, when replay starts there).
    /// </summary>
    public readonly record struct Replayed<T>(T? Record, long LastSeq, bool Deleted, long EventsRead = 0)
        where T : class;

    /// <summary>
    /// Rolls a record forward. Types with a Savepoint hook start at the latest savepoint (a savepoint resets
    /// the state to what its payload rebuilds). With <paramref name="checkSavepoint"/> every event is replayed
    /// from the start instead, and each savepoint is handed to it with the state it should reproduce, without
    /// resetting anything. <paramref name="options"/> (the operation's; by default the log's default store's) say
    /// where a slow replay is logged.
    /// </summary>
    public static Task<Replayed<T>> ReplayAsync<T>(
        EventedType<T> type,
        EventShard shard,
        DbConnection connection,
        DbTransaction? tx,
        Guid id,
        long? upToSeq,
        CancellationToken ct,
        Action<Guid, long, T, T>? checkSavepoint = null,
        DateTimeOffset? asOf = null,
        SpectorOptions? options = null
    )
        where T : class =>
        Instrument.ReplayAsync(
            type,
            shard.Table,
            id,
            options ?? SpectorOptions.For(null, type.Log),
            () => ReplayEventsAsync(type, shard, connection, tx, id, upToSeq, ct, checkSavepoint, asOf)
        );

    private static async Task<Replayed<T>> ReplayEventsAsync<T>(
        EventedType<T> type,
        EventShard shard,
        DbConnection connection,
        DbTransaction? tx,
        Guid id,
        long? upToSeq,
        CancellationToken ct,
        Action<Guid, long, T, T>? checkSavepoint,
        DateTimeOffset? asOf
    )
        where T : class
    {
        var sql = shard.Sql;
        var fromSavepoint = type.HasSavepoint && checkSavepoint is null;
        var dialect = Dialect.For(connection);
        var backwards = asOf is not null && fromSavepoint && dialect.Kind == SqlDialect.Sqlite;
        await using var command = connection.CreateCommand();
        command.Transaction = tx;
        command.CommandText = asOf is not null
            ? backwards
                ? sql.ReplayBackwardsAsOfSqlite
                : fromSavepoint
                    ? sql.ReplayFromSavepointAsOf(dialect)
                    : sql.ReplayAsOf(dialect)
            : (fromSavepoint, upToSeq is null) switch
            {
                (true, true) => sql.ReplayFromSavepoint,
                (true, false) => sql.ReplayFromSavepointUpTo,
                (false, true) => sql.Replay,
                (false, false) => sql.ReplayUpTo,
            };
        AddParameter(command, "parent_id", id);
        if (upToSeq is { } limit)
            AddParameter(command, "up_to", limit);
        if (asOf is { } instant)
            AddParameter(command, "as_of", dialect.Timestamp(TimeRange.AtOrBefore(instant)));

        await using var reader = await command.ExecuteReaderAsync(ct).ConfigureAwait(false);
        if (backwards)
            return await ReplayBackFromAsOfAsync(type, reader, id, ct).ConfigureAwait(false);
        return await ReplayRowsAsync(type, reader, id, fromSavepoint, ct, checkSavepoint).ConfigureAwait(false);
    }

    /// <summary>
    /// Rolls a record forward from the reader's current result set (id, seq, schema, action, payload in seq
    /// order), starting at a savepoint when <paramref name="fromSavepoint"/>.
    /// </summary>
    public static async Task<Replayed<T>> ReplayRowsAsync<T>(
        EventedType<T> type,
        DbDataReader reader,
        Guid id,
        bool fromSavepoint,
        CancellationToken ct,
        Action<Guid, long, T, T>? checkSavepoint = null
    )
        where T : class
    {
        var replay = new RecordReplay<T>(type, id, fromSavepoint, checkSavepoint);
        while (await reader.ReadAsync(ct).ConfigureAwait(false))
        {
            if (!replay.Step(reader.GetGuid(0), reader.GetInt64(1), reader.GetInt32(2), reader.GetInt32(3), reader, 4))
                return default;
        }
        return replay.Result;
    }

    /// <summary>
    /// Rolls many records forward from one read of their events (<paramref name="command"/>: parent_id, id, seq,
    /// schema, action, payload, ordered by record then seq), so a rebuild's batch pays one query instead of one per
    /// record. Each record is checked as <see cref="ReplayAsync{T}"/> checks it; an id with no row is absent from the
    /// result, and one that is a record of another type has no record, as there.
    /// </summary>
    public static async Task<Dictionary<Guid, Replayed<T>>> ReplayManyAsync<T>(
        EventedType<T> type,
        DbCommand command,
        bool fromSavepoint,
        CancellationToken ct
    )
        where T : class
    {
        var results = new Dictionary<Guid, Replayed<T>>();
        RecordReplay<T>? replay = null;
        var current = Guid.Empty;
        await using var reader = await command.ExecuteReaderAsync(ct).ConfigureAwait(false);
        while (await reader.ReadAsync(ct).ConfigureAwait(false))
        {
            var id = reader.GetGuid(0);
            if (id != current || replay is null)
            {
                if (replay is not null)
                    results[current] = replay.Result;
                current = id;
                replay = new RecordReplay<T>(type, id, fromSavepoint, checkSavepoint: null);
            }
            else if (replay.Foreign)
                continue;
            replay.Step(reader.GetGuid(1), reader.GetInt64(2), reader.GetInt32(3), reader.GetInt32(4), reader, 5);
        }
        if (replay is not null)
            results[current] = replay.Result;
        return results;
    }

    /// <summary>
    /// SQLite, as of an instant, for a type with savepoints: reads backwards from the bound event and stops at
    /// the first savepoint (or the insert), then replays those rows forwards. SQLite steps a statement lazily, so
    /// the rows before the savepoint are never read, and the statement needs no second search for the savepoint:
    /// its preparation is most of an as-of read's cost. (PostgreSQL would send every row: it keeps the search.)
    /// </summary>
    private static async Task<Replayed<T>> ReplayBackFromAsOfAsync<T>(
        EventedType<T> type,
        DbDataReader reader,
        Guid id,
        CancellationToken ct
    )
        where T : class
    {
        var rows = new List<(Guid EventId, long Seq, int Schema, int Action, string Payload)>();
        while (await reader.ReadAsync(ct).ConfigureAwait(false))
        {
            var row = (
                reader.GetGuid(0),
                reader.GetInt64(1),
                reader.GetInt32(2),
                reader.GetInt32(3),
                reader.GetString(4)
            );
            rows.Add(row);
            if (row.Item4 == EventActions.Savepoint || row.Item2 == 1)
                break;
        }
        var replay = new RecordReplay<T>(type, id, fromSavepoint: true, checkSavepoint: null);
        for (var i = rows.Count - 1; i >= 0; i--)
        {
            var (eventId, seq, schema, action, payload) = rows[i];
            if (!replay.Step(eventId, seq, schema, action, payload))
                return default;
        }
        return replay.Result;
    }

    /// <summary>One record's replay, fed an event at a time in seq order.</summary>
    private sealed class RecordReplay<T>(
        EventedType<T> type,
        Guid id,
        bool fromSavepoint,
        Action<Guid, long, T, T>? checkSavepoint
    )
        where T : class
    {
        private T? _state;
        private long _last;
        private bool _deleted;
        private long _read;

        public Replayed<T> Result => Foreign ? default : new(_state, _last, _deleted, _read);

        /// <summary>The id turned out to be a record of another type: this type has no such record.</summary>
        public bool Foreign { get; private set; }

        /// <summary>Applies one event whose payload is column <paramref name="payloadColumn"/> of <paramref
        /// name="payloadRow"/> (read only when applied); false when the id turns out to be a record of another
        /// type, for which this type has no record.</summary>
        public bool Step(Guid eventId, long seq, int schema, int action, DbDataReader payloadRow, int payloadColumn) =>
            Step(eventId, seq, schema, action, null, payloadRow, payloadColumn);

        /// <summary>As the other overload, with the payload already read.</summary>
        public bool Step(Guid eventId, long seq, int schema, int action, string payload) =>
            Step(eventId, seq, schema, action, payload, null, 0);

        private bool Step(
            Guid eventId,
            long seq,
            int schema,
            int action,
            string? payloadText,
            DbDataReader? payloadRow,
            int payloadColumn
        )
        {
            _read++;
            if (schema != type.SchemaIndex)
            {
                if (type.Log.SchemaName(schema) is null)
                    throw Fail(
                        ReplayFailure.UnknownSchema,
                        $"schema index {schema} is not listed on events table {type.Log.Table}"
                    );
                // The id belongs to a record of another listed type: for this type it does not exist.
                if (_last == 0)
                {
                    Foreign = true;
                    return false;
                }
                throw Fail(
                    ReplayFailure.SchemaMismatch,
                    $"its schema index is {schema}, the record's is {type.SchemaIndex}"
                );
            }
            // Replay from a savepoint begins mid-history.
            if (_last == 0 && fromSavepoint && action == EventActions.Savepoint)
                _last = seq - 1;
            if (seq != _last + 1)
                throw Fail(ReplayFailure.BrokenSequence, $"expected seq {_last + 1}: an event is missing");
            _last = seq;

            switch (action)
            {
                case EventActions.Insert:
                    if (seq != 1)
                        throw Fail(ReplayFailure.BrokenSequence, "an insert can only be the first event");
                    _state = type.Create(id);
                    Apply(_state, "insert");
                    break;
                case EventActions.Savepoint:
                    if (_state is null && (_deleted || !fromSavepoint))
                        throw Fail(
                            ReplayFailure.BrokenSequence,
                            _deleted ? "it follows the record's delete" : "the record has no insert event"
                        );
                    var restored = type.Create(id);
                    Apply(restored, "savepoint");
                    if (checkSavepoint is not null)
                        checkSavepoint(eventId, seq, restored, _state!);
                    else
                        _state = restored;
                    break;
                case EventActions.Delete:
                    if (_state is null)
                        throw Fail(ReplayFailure.BrokenSequence, "a delete must follow an insert");
                    _state = null;
                    _deleted = true;
                    break;
                default:
                    var name =
                        type.Log.ActionName(action)
                        ?? throw Fail(
                            ReplayFailure.UnknownAction,
                            $"action code {action} is not known to events table {type.Log.Table}"
                        );
                    // A record brought up under a custom action starts with that action.
                    if (_state is null && seq == 1)
                        _state = type.Create(id);
                    if (_state is null)
                        throw Fail(
                            ReplayFailure.BrokenSequence,
                            _deleted ? "it follows the record's delete" : "the record has no insert event"
                        );
                    Apply(_state, name);
                    break;
            }
            return true;

            void Apply(T record, string actionName)
            {
                Attrs attrs;
                int version;
                try
                {
                    attrs = Attrs.Parse(payloadText ?? payloadRow!.GetString(payloadColumn));
                    version = Payload.VersionOf(attrs);
                }
                catch (Exception e) when (e is JsonException or FormatException or InvalidOperationException)
                {
                    throw Fail(ReplayFailure.CorruptPayload, $"the payload is not valid: {e.Message}", e);
                }
                if (version > type.Version)
                    throw Fail(
                        ReplayFailure.NewerVersion,
                        $"it was written with version {version}, newer than {type.Name}'s version {type.Version}; "
                            + "deploy the newer code to read it"
                    );
                try
                {
                    type.Apply(new Changeset<T>(type, record, actionName, version, eventId, attrs, isReplay: true));
                }
                catch (AttrConversionException e)
                {
                    throw Fail(ReplayFailure.CorruptPayload, e.Message, e);
                }
            }

            EventReplayException Fail(ReplayFailure failure, string detail, Exception? inner = null) =>
                new(failure, type.Name, type.Log.Table, id, eventId, seq, detail, inner);
        }
    }

    public static async Task<IReadOnlyList<StoredEvent>> ReadEventsAsync(
        EventLog log,
        SpectorSession? session,
        Guid recordId,
        int? schema,
        CancellationToken ct
    )
    {
        var shard = log.ShardFor(recordId);
        await using var lease = await ConnectionLease.OpenAsync(log, session, ct).ConfigureAwait(false);
        return await ReadEventsAsync(
                log,
                shard,
                lease.Connection,
                lease.Transaction,
                lease.Dialect,
                recordId,
                schema,
                ct
            )
            .ConfigureAwait(false);
    }

    public static Task<IReadOnlyList<StoredEvent>> ReadEventsAsync(
        EventLog log,
        EventShard shard,
        DbConnection connection,
        DbTransaction? tx,
        Dialect dialect,
        Guid recordId,
        int? schema,
        CancellationToken ct
    ) =>
        QueryEventsAsync(
            log,
            connection,
            tx,
            dialect,
            schema is null ? shard.Sql.EventsOf : shard.Sql.EventsOfSchema,
            ct,
            ("parent_id", recordId),
            ("schema", schema)
        );

    public static async Task<IReadOnlyList<StoredEvent>> ReadLinkedAsync(
        EventLog log,
        SpectorSession? session,
        Guid eventId,
        EventLinkInfo link,
        bool outgoing,
        int? type,
        CancellationToken ct
    )
    {
        if (type is not null && !link.Typed)
            throw new ArgumentException(
                $"Link '{link.Name}' of events table {log.Table} is not typed: pass no type.",
                nameof(type)
            );
        await using var lease = await ConnectionLease.OpenAsync(log, session, ct).ConfigureAwait(false);
        if (await ShardOfEventAsync(log, lease, eventId, ct).ConfigureAwait(false) is not { } shard)
            return [];
        return await QueryEventsAsync(
                log,
                lease.Connection,
                lease.Transaction,
                lease.Dialect,
                shard.Sql.Linked(shard.Link(link.Name), outgoing, type is not null),
                ct,
                ("id", eventId),
                ("type", type)
            )
            .ConfigureAwait(false);
    }

    public static async Task<IReadOnlyList<StoredEvent>> ReadPreviousAsync(
        EventLog log,
        SpectorSession? session,
        Guid eventId,
        CancellationToken ct
    )
    {
        await using var lease = await ConnectionLease.OpenAsync(log, session, ct).ConfigureAwait(false);
        if (await ShardOfEventAsync(log, lease, eventId, ct).ConfigureAwait(false) is not { } shard)
            return [];
        return await QueryEventsAsync(
                log,
                lease.Connection,
                lease.Transaction,
                lease.Dialect,
                shard.Sql.Previous,
                ct,
                ("id", eventId)
            )
            .ConfigureAwait(false);
    }

    public static async Task<IReadOnlyList<EventLinkRow>> ReadLinksAsync(
        EventLog log,
        SpectorSession? session,
        Guid eventId,
        CancellationToken ct
    )
    {
        await using var lease = await ConnectionLease.OpenAsync(log, session, ct).ConfigureAwait(false);
        if (await ShardOfEventAsync(log, lease, eventId, ct).ConfigureAwait(false) is not { } shard)
            return [];
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
    private static async Task<EventShard?> ShardOfEventAsync(
        EventLog log,
        ConnectionLease lease,
        Guid eventId,
        CancellationToken ct
    )
    {
        if (!log.IsSharded)
            return log.Shards[0];
        foreach (var shard in log.Shards)
        {
            await using var command = lease.Connection.CreateCommand();
            command.Transaction = lease.Transaction;
            command.CommandText = shard.Sql.HasEvent;
            AddParameter(command, "id", eventId);
            if (await command.ExecuteScalarAsync(ct).ConfigureAwait(false) is not null and not DBNull)
                return shard;
        }
        return null;
    }

    private static async Task<IReadOnlyList<StoredEvent>> QueryEventsAsync(
        EventLog log,
        DbConnection connection,
        DbTransaction? tx,
        Dialect dialect,
        string sql,
        CancellationToken ct,
        params (string Name, object? Value)[] parameters
    )
    {
        await using var command = connection.CreateCommand();
        command.Transaction = tx;
        command.CommandText = sql;
        foreach (var (name, value) in parameters)
            if (value is not null)
                AddParameter(command, name, value);

        var events = new List<StoredEvent>();
        await using var reader = await command.ExecuteReaderAsync(ct).ConfigureAwait(false);
        while (await reader.ReadAsync(ct).ConfigureAwait(false))
        {
            events.Add(ReadEvent(log, dialect, reader));
        }
        return events;
    }

    /// <summary>One event from a row of <see cref="EventLogSql.EventColumns"/>.</summary>
    internal static StoredEvent ReadEvent(EventLog log, Dialect dialect, DbDataReader reader) =>
        ReadEvent(log, dialect, reader, ContextColumns.Read(reader, EventLogSql.FirstContextColumn));

    /// <summary>As the other overloads, with the context read by the caller (a follower's batch packs it).</summary>
    internal static StoredEvent ReadEvent(EventLog log, Dialect dialect, DbDataReader reader, StoredContext context)
    {
        var action = reader.GetInt32(5);
        return new StoredEvent(
            id: reader.GetGuid(1),
            parentId: reader.GetGuid(2),
            seq: reader.GetInt64(3),
            position: reader.GetInt64(0),
            schema: reader.GetInt32(4),
            actionCode: action,
            action: log.ActionName(action),
            payloadJson: reader.GetString(6),
            metadataJson: reader.IsDBNull(7) ? null : reader.GetString(7),
            insertedAt: dialect.ReadTimestamp(reader, 8),
            context: context
        );
    }

    /// <summary>Adds a named parameter to a raw command (replay and chain reads bypass Dapper on their hot
    /// paths).</summary>
    internal static void AddParameter(DbCommand command, string name, object value)
    {
        var parameter = command.CreateParameter();
        parameter.ParameterName = name;
        parameter.Value = value;
        command.Parameters.Add(parameter);
    }
}
