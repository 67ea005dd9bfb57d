using System.Data.Common;
using Dapper;

namespace Spector;

/// <summary>
/// Appends events. Every write rebuilds the record from its log inside the write transaction, runs the
/// handler on that state, appends event seq n+1, and writes the record table in the same transaction. A
/// lost (parent_id, seq) race is retried from the replay, so no update is lost or validated against stale
/// state. On hashed tables the chain lock is taken before the event's time is read, so time, position and
/// chain order agree; per-record chains need no lock, the record's sequence orders its chain.
/// </summary>
internal static class EventWriter
{
    /// <summary>After this many lost races a writer also takes a per-record lock where the dialect has one, so it cannot starve.</summary>
    private const int SerializeAfterAttempts = 2;

    public static async Task<T> InsertAsync<T>(EventedType<T> type, SpectorSession? session, Attrs attrs, CancellationToken ct)
        where T : class
    {
        ArgumentNullException.ThrowIfNull(attrs);
        var id = Guid.CreateVersion7();
        return (await WriteAsync(type, session, id, id, EventActions.Insert, "insert", attrs, ct).ConfigureAwait(false))!;
    }

    public static async Task<T> UpdateAsync<T>(EventedType<T> type, SpectorSession? session, Guid id, Attrs attrs, CancellationToken ct)
        where T : class
    {
        ArgumentNullException.ThrowIfNull(attrs);
        return (await WriteAsync(type, session, id, Guid.CreateVersion7(), EventActions.Update, "update", attrs, ct).ConfigureAwait(false))!;
    }

    public static async Task<T> ExecuteAsync<T>(EventedType<T> type, SpectorSession? session, Guid id, int actionCode, string action,
        Attrs attrs, CancellationToken ct) where T : class
    {
        ArgumentNullException.ThrowIfNull(attrs);
        if (actionCode < ActionCodes.FirstCustomCode || type.Log.ActionName(actionCode) != action)
            throw new ArgumentException($"'{action}' (code {actionCode}) is not a custom action of events table {type.Log.Table}.", nameof(action));
        return (await WriteAsync(type, session, id, Guid.CreateVersion7(), actionCode, action, attrs, ct).ConfigureAwait(false))!;
    }

    /// <summary>
    /// Appends the first event of a record brought up from an existing row: an insert, or the custom action
    /// <paramref name="action"/>; <paramref name="metadata"/> says where it came from.
    /// </summary>
    public static async Task<T> ImportAsync<T>(EventedType<T> type, SpectorSession session, Attrs attrs, int actionCode, string action,
        System.Text.Json.Nodes.JsonObject metadata, CancellationToken ct) where T : class
    {
        var id = Guid.CreateVersion7();
        return (await WriteAsync(type, session, id, id, actionCode, action, attrs, ct, creates: true, metadata: metadata).ConfigureAwait(false))!;
    }

    public static Task DeleteAsync<T>(EventedType<T> type, SpectorSession? session, Guid id, CancellationToken ct) where T : class =>
        WriteAsync(type, session, id, Guid.CreateVersion7(), EventActions.Delete, "delete", null, ct);

    /// <summary>
    /// Appends a savepoint of the record's current state. <paramref name="expected"/>, when given, must equal the
    /// replayed state (a guard against saving a stale object).
    /// </summary>
    public static async Task<T> SavepointAsync<T>(EventedType<T> type, SpectorSession? session, Guid id, T? expected, CancellationToken ct)
        where T : class
    {
        if (!type.HasSavepoint)
            throw new InvalidOperationException($"{type.Name} has no Savepoint hook: add 'static Attrs Savepoint({type.Name} record, int version)'.");
        return (await WriteAsync(type, session, id, Guid.CreateVersion7(), EventActions.Savepoint, "savepoint", null, ct, expected)
            .ConfigureAwait(false))!;
    }

    private static async Task<T?> WriteAsync<T>(EventedType<T> type, SpectorSession? session, Guid id, Guid eventId, int action,
        string actionName, Attrs? attrs, CancellationToken ct, T? expected = null, bool creates = false,
        System.Text.Json.Nodes.JsonObject? metadata = null) where T : class
    {
        creates |= action == EventActions.Insert;
        if (Payload.ReservedKeyIn(attrs) is { } reserved)
            throw new ChangesetInvalidException(type.Name, actionName, type.Log.Table, id, eventId,
                new Dictionary<string, IReadOnlyList<string>> { [reserved] = ["is reserved: keys starting with \"__\" are written by Spector"] });

        var log = type.Log;
        var options = SpectorOptions.For(session, log);
        var recordChains = log is { Hashed: true, HashScope: HashScope.Record };
        // Routed before anything is written: a bad route is a clear error, not a half-written event.
        var shard = log.ShardFor(id, type.Name);
        for (var attempt = 1; ; attempt++)
        {
            var serialize = attempt > SerializeAfterAttempts;
            try
            {
                return await WriteTransaction.RunAsync(log, session,
                    (connection, tx, dialect) => AttemptAsync(connection, tx, dialect, serialize), ct).ConfigureAwait(false);
            }
            catch (DbException e) when (!creates
                                        && Dialect.For(session?.Dialect.Kind ?? log.Store.Dialect).IsSeqConflict(e, shard.Table))
            {
                if (attempt >= options.MaxWriteAttempts)
                    throw new ConcurrencyConflictException(type.Name, log.Table, id, eventId, attempt, e);
                Instrument.WriteRetried(options, type.Name, log.Table, actionName, id, attempt);
                // Jittered exponential backoff spreads the losers out before they replay again.
                await Task.Delay(Random.Shared.Next(0, 1 << Math.Min(attempt, 6)), ct).ConfigureAwait(false);
            }
        }

        async Task<T?> AttemptAsync(DbConnection connection, DbTransaction tx, Dialect dialect, bool serializeWriters)
        {
            T record;
            long seq;
            byte[]? recordHead = null;
            if (creates)
            {
                record = type.Create(id);
                seq = 1;
            }
            else
            {
                if (serializeWriters && dialect.RecordLockSql is { } lockSql)
                    await connection.ExecuteAsync(new CommandDefinition(lockSql, new { key = LockKey(id) }, tx, cancellationToken: ct))
                        .ConfigureAwait(false);
                var replayed = await EventReader.ReplayAsync(type, shard, connection, tx, id, upToSeq: null, ct, withChainHead: recordChains,
                        options: options)
                    .ConfigureAwait(false);
                record = replayed.Record ?? throw new RecordNotFoundException(type.Name, actionName, log.Table, id, replayed.Deleted);
                seq = replayed.LastSeq + 1;
                recordHead = replayed.LastHash;
                if (expected is not null && type.Diff(record, expected) is { Count: > 0 } stale)
                    throw new StaleRecordException(type.Name, log.Table, id, stale);
            }

            // A per-record chain continues from the head the replay read (no lock: a concurrent append of the same
            // seq loses the (parent_id, seq) race and replays); a table chain locks and reads the table's head.
            var previousHash = !log.Hashed ? null
                : recordChains ? recordHead ?? EventHash.Genesis.ToArray()
                : await ChainHeadAsync(connection, tx, dialect, shard, ct).ConfigureAwait(false);
            var now = Clock.UtcNow();
            if (action == EventActions.Savepoint)
            {
                await AppendSavepointAsync(connection, tx, dialect, type, shard, record, id, eventId, seq, previousHash, ct).ConfigureAwait(false);
                return record;
            }
            // A created record keeps the timestamps its attrs bring, whatever the action.
            var payload = Payload.Build(attrs, type.Version, eventId, now, creates ? EventActions.Insert : action);
            var changeset = action == EventActions.Delete ? null : Handle(type, record, actionName, id, eventId, payload);
            var prepares = changeset is not null && type.HasPrepareEvent;
            EventDraft? draft = null;
            if (prepares || metadata is not null)
            {
                draft = new EventDraft(log, eventId, id, actionName, Attrs.Parse(payload));
                if (prepares)
                {
                    IReadOnlyList<StoredEvent> previous = creates
                        ? []
                        : await EventReader.ReadEventsAsync(log, shard, connection, tx, dialect, id, type.SchemaIndex, ct).ConfigureAwait(false);
                    type.PrepareEvent(draft, previous);
                }
                if (metadata is not null)
                {
                    draft.Metadata ??= [];
                    foreach (var (key, value) in metadata) draft.Metadata[key] = value?.DeepClone();
                }
            }
            // The record-table write shares the event's command: a round trip fewer per write, and on a table chain
            // one fewer while the chain lock is held.
            RecordWrite? recordWrite = type.Table is not { } table ? null
                : changeset is null ? new RecordWrite(table.DeleteSql, new DynamicParameters(new { id }))
                : new RecordWrite(creates ? table.InsertSql : table.UpsertSql, RecordParameters(type, changeset));
            var hash = await AppendRowAsync(connection, tx, dialect, log, shard, previousHash, eventId, id, seq, type.SchemaIndex, action, now, payload,
                draft?.Metadata?.ToJsonString(), ct, draft?.Links, recordWrite).ConfigureAwait(false);
            if (changeset is not null && type is { HasSavepoint: true, SavepointEvery: > 0 } && seq % type.SavepointEvery == 0)
                await AppendSavepointAsync(connection, tx, dialect, type, shard, record, id, Guid.CreateVersion7(), seq + 1, hash, ct).ConfigureAwait(false);
            return changeset is null ? null : record;
        }
    }

    /// <summary>A statement on the record's table, run in the same command as the event insert.</summary>
    private sealed record RecordWrite(string Sql, DynamicParameters Parameters);

    /// <summary>
    /// Inserts one event row (with <paramref name="recordWrite"/> in the same command) and its links, hashed onto
    /// <paramref name="previousHash"/> when the table is hashed; returns its hash. A link the same-record trigger
    /// refuses becomes <see cref="InvalidLinkException"/>.
    /// </summary>
    private static async Task<byte[]?> AppendRowAsync(DbConnection connection, DbTransaction tx, Dialect dialect, EventLog log, EventShard shard,
        byte[]? previousHash,
        Guid eventId, Guid recordId, long seq, int schema, int action, DateTimeOffset now, string payload, string? metadata, CancellationToken ct,
        IReadOnlyList<EventLinkRow>? links = null, RecordWrite? recordWrite = null)
    {
        var hash = previousHash is null
            ? null
            : EventHash.Compute(previousHash, eventId, recordId, seq, schema, action, now, payload, metadata, links);
        var parameters = new DynamicParameters();
        parameters.Add("__id", eventId);
        parameters.Add("__parent_id", recordId);
        parameters.Add("__seq", seq);
        parameters.Add("__schema", schema);
        parameters.Add("__action", action);
        parameters.Add("__payload", payload);
        parameters.Add("__metadata", metadata, System.Data.DbType.String);
        parameters.Add("__inserted_at", dialect.Timestamp(now));
        if (hash is not null) parameters.Add("__hash", hash);
        var sql = shard.Sql.Append(dialect);
        if (recordWrite is not null)
        {
            sql = $"{sql};\n{recordWrite.Sql}";
            parameters.AddDynamicParams(recordWrite.Parameters);
        }
        await connection.ExecuteAsync(new CommandDefinition(sql, parameters, tx, cancellationToken: ct)).ConfigureAwait(false);
        Instrument.Appended(log, shard.Table, action, recordId, seq);
        foreach (var link in links ?? [])
        {
            try
            {
                await connection.ExecuteAsync(new CommandDefinition(shard.Sql.InsertLink(link.Name),
                    new { event_id = eventId, target = link.Target, type = link.Type }, tx, cancellationToken: ct)).ConfigureAwait(false);
            }
            catch (DbException e) when (dialect.IsLinkRejected(e))
            {
                throw new InvalidLinkException(shard.Table, recordId, eventId, link, e);
            }
        }
        return hash;
    }

    /// <summary>
    /// Appends a savepoint of <paramref name="record"/>, after proving it: the state its payload rebuilds must
    /// equal the record, or the Savepoint hook leaves something out and nothing is stored.
    /// </summary>
    private static Task<byte[]?> AppendSavepointAsync<T>(DbConnection connection, DbTransaction tx, Dialect dialect, EventedType<T> type,
        EventShard shard, T record,
        Guid recordId, Guid eventId, long seq, byte[]? previousHash, CancellationToken ct) where T : class
    {
        var now = Clock.UtcNow();
        var payload = Payload.Build(type.CreateSavepoint(record, type.Version), type.Version, eventId, now, EventActions.Savepoint);
        var restored = type.Create(recordId);
        type.Apply(new Changeset<T>(type, restored, "savepoint", type.Version, eventId, Attrs.Parse(payload), isReplay: true));
        if (type.Diff(record, restored) is { Count: > 0 } missing)
            throw new ChangesetInvalidException(type.Name, "savepoint", type.Log.Table, recordId, eventId,
                missing.ToDictionary(key => key, _ => (IReadOnlyList<string>)["is not restored by the Savepoint hook's attrs"]));
        return AppendRowAsync(connection, tx, dialect, type.Log, shard, previousHash, eventId, recordId, seq, type.SchemaIndex, EventActions.Savepoint, now,
            payload, null, ct);
    }

    /// <summary>
    /// Takes the shard's chain lock (held to commit) and reads the hash of its last event. Where the lock is a
    /// statement, both go in one round trip: the lock is held for every round trip until commit, so each one
    /// saved there is throughput for all writers. The head read is a statement of its own, so it reads with a
    /// snapshot taken after the lock was granted.
    /// </summary>
    private static async Task<byte[]> ChainHeadAsync(DbConnection connection, DbTransaction tx, Dialect dialect, EventShard shard, CancellationToken ct)
    {
        var lockSql = dialect.ChainLockSql;
        await using var command = connection.CreateCommand();
        command.Transaction = tx;
        command.CommandText = lockSql is null ? shard.Sql.ChainHead : $"{lockSql};\n{shard.Sql.ChainHead}";
        if (lockSql is not null) EventReader.AddParameter(command, "key", shard.ChainLockKey);
        await using var reader = await command.ExecuteReaderAsync(ct).ConfigureAwait(false);
        if (lockSql is not null) await reader.NextResultAsync(ct).ConfigureAwait(false);
        return await reader.ReadAsync(ct).ConfigureAwait(false) ? reader.GetFieldValue<byte[]>(0) : EventHash.Genesis.ToArray();
    }

    /// <summary>
    /// Runs the handler on the payload as it will be stored (parsed back from its JSON text), so the state
    /// written now is exactly the state a later replay rebuilds.
    /// </summary>
    private static Changeset<T> Handle<T>(EventedType<T> type, T record, string action, Guid recordId, Guid eventId, string payload) where T : class
    {
        var changeset = new Changeset<T>(type, record, action, type.Version, eventId, Attrs.Parse(payload), isReplay: false);
        type.Apply(changeset);
        if (!changeset.IsValid)
            throw new ChangesetInvalidException(type.Name, action, type.Log.Table, recordId, eventId, changeset.Errors);
        return changeset;
    }

    /// <summary>Writes the record table from the changeset's record, after the PrepareMaterialization hook.</summary>
    public static Task WriteRecordAsync<T>(DbConnection connection, DbTransaction tx, EventedType<T> type, string sql, Changeset<T> changeset,
        CancellationToken ct) where T : class =>
        connection.ExecuteAsync(new CommandDefinition(sql, RecordParameters(type, changeset), tx, cancellationToken: ct));

    /// <summary>The record's column values, after the PrepareMaterialization hook; errors it adds refuse the write.</summary>
    private static DynamicParameters RecordParameters<T>(EventedType<T> type, Changeset<T> changeset) where T : class
    {
        type.PrepareMaterialization(changeset);
        if (!changeset.IsValid)
            throw new ChangesetInvalidException(type.Name, changeset.Action, type.Log.Table, type.IdOf(changeset.Record), changeset.EventId,
                changeset.Errors);
        var parameters = new DynamicParameters();
        type.BindColumns(changeset.Record, parameters);
        return parameters;
    }

    /// <summary>A 32-bit advisory-lock key from the random tail of the record id (the head of a UUIDv7 is its timestamp).</summary>
    private static int LockKey(Guid id)
    {
        Span<byte> bytes = stackalloc byte[16];
        id.TryWriteBytes(bytes);
        return BitConverter.ToInt32(bytes[12..]);
    }
}
