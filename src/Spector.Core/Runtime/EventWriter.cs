using System.Data.Common;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Dapper;

namespace Spector;

/// <summary>
/// Appends events on the heads table. A write locks its record's head row (PostgreSQL <c>SELECT ... FOR
/// UPDATE</c>; SQLite's write transaction holds the lock from <c>BEGIN IMMEDIATE</c>), replays from the savepoint
/// the head names, runs the handler, appends seq n+1 and advances the head in the same transaction. Writers of
/// one record queue on the row; nothing is retried and no error is parsed to find a conflict. A table chain's
/// head row is locked only after user code has run, then the event time is read, so time, position and chain
/// order agree.
/// </summary>
internal static class EventWriter
{
    public static async Task<T> InsertAsync<T>(
        EventedType<T> type,
        SpectorSession? session,
        Attrs attrs,
        WriteOptions? options,
        CancellationToken ct
    )
        where T : class
    {
        ArgumentNullException.ThrowIfNull(attrs);
        var id = Guid.CreateVersion7();
        var request = new WriteRequest<T>(type, id, id, EventActions.Insert, "insert", attrs, options)
        {
            Creates = true,
        };
        return (await WriteAsync(request, session, ct).ConfigureAwait(false))!;
    }

    public static async Task<T> UpdateAsync<T>(
        EventedType<T> type,
        SpectorSession? session,
        Guid id,
        Attrs attrs,
        WriteOptions? options,
        CancellationToken ct
    )
        where T : class
    {
        ArgumentNullException.ThrowIfNull(attrs);
        var request = new WriteRequest<T>(
            type,
            id,
            Guid.CreateVersion7(),
            EventActions.Update,
            "update",
            attrs,
            options
        );
        return (await WriteAsync(request, session, ct).ConfigureAwait(false))!;
    }

    public static async Task<T> ExecuteAsync<T>(
        EventedType<T> type,
        SpectorSession? session,
        Guid id,
        int actionCode,
        string action,
        Attrs attrs,
        WriteOptions? options,
        CancellationToken ct
    )
        where T : class
    {
        ArgumentNullException.ThrowIfNull(attrs);
        if (actionCode < ActionCodes.FirstCustomCode || type.Log.ActionName(actionCode) != action)
            throw new ArgumentException(
                $"'{action}' (code {actionCode}) is not a custom action of events table {type.Log.Table}.",
                nameof(action)
            );
        var request = new WriteRequest<T>(type, id, Guid.CreateVersion7(), actionCode, action, attrs, options);
        return (await WriteAsync(request, session, ct).ConfigureAwait(false))!;
    }

    /// <summary>
    /// Appends the first event of a record brought up from an existing row: an insert, or the custom action
    /// <paramref name="action"/>; <paramref name="metadata"/> says where it came from.
    /// </summary>
    public static async Task<T> ImportAsync<T>(
        EventedType<T> type,
        SpectorSession session,
        Attrs attrs,
        int actionCode,
        string action,
        JsonObject metadata,
        CancellationToken ct
    )
        where T : class
    {
        var id = Guid.CreateVersion7();
        var request = new WriteRequest<T>(type, id, id, actionCode, action, attrs, null)
        {
            Creates = true,
            Metadata = metadata,
        };
        return (await WriteAsync(request, session, ct).ConfigureAwait(false))!;
    }

    public static Task DeleteAsync<T>(
        EventedType<T> type,
        SpectorSession? session,
        Guid id,
        WriteOptions? options,
        CancellationToken ct
    )
        where T : class =>
        WriteAsync(
            new WriteRequest<T>(type, id, Guid.CreateVersion7(), EventActions.Delete, "delete", null, options),
            session,
            ct
        );

    /// <summary>
    /// Appends a savepoint of the record's current state. <paramref name="expected"/>, when given, must equal the
    /// replayed state (a guard against saving a stale object).
    /// </summary>
    public static async Task<T> SavepointAsync<T>(
        EventedType<T> type,
        SpectorSession? session,
        Guid id,
        T? expected,
        WriteOptions? options,
        CancellationToken ct
    )
        where T : class
    {
        if (!type.HasSavepoint)
            throw new InvalidOperationException(
                $"{type.Name} has no Savepoint hook: add 'static Attrs Savepoint({type.Name} record, int version)'."
            );
        var request = new WriteRequest<T>(
            type,
            id,
            Guid.CreateVersion7(),
            EventActions.Savepoint,
            "savepoint",
            null,
            options
        )
        {
            Expected = expected,
        };
        return (await WriteAsync(request, session, ct).ConfigureAwait(false))!;
    }

    /// <summary>One write as asked for: what the typed method was given.</summary>
    private sealed record WriteRequest<T>(
        EventedType<T> Type,
        Guid RecordId,
        Guid EventId,
        int Action,
        string ActionName,
        Attrs? Attrs,
        WriteOptions? Options
    )
        where T : class
    {
        /// <summary>The write creates the record (insert, or the first event of a brought-up row).</summary>
        public bool Creates { get; init; }

        /// <summary>A savepoint's guard: the caller's copy, which must equal the replayed state.</summary>
        public T? Expected { get; init; }

        /// <summary>Metadata stored with the event (bring-up).</summary>
        public JsonObject? Metadata { get; init; }

        public string? Key => Options?.IdempotencyKey;
    }

    /// <summary>A record's head row as locked by a write.</summary>
    private readonly record struct RecordHead(
        int Schema,
        long LastSeq,
        byte[]? LastHash,
        bool Deleted,
        long SavepointSeq,
        DateTimeOffset? LastAt = null
    );

    /// <summary>The event stored under a write's idempotency key.</summary>
    private sealed record KeyedEvent(Guid Id, Guid ParentId, long Seq, int Schema, int Action, string Payload);

    /// <summary>What a write will store, built from the replayed record outside the table chain's lock.</summary>
    private sealed record Built<T>(
        DateTimeOffset Now,
        string Payload,
        EventDraft? Draft,
        RecordWrite? RecordWrite,
        T? Result
    )
        where T : class
    {
        /// <summary>The event's metadata in its stored form, checked like a payload value.</summary>
        public string? Metadata { get; init; }
    }

    private static async Task<T?> WriteAsync<T>(WriteRequest<T> request, SpectorSession? session, CancellationToken ct)
        where T : class
    {
        var (type, id) = (request.Type, request.RecordId);
        var log = type.Log;
        if (Payload.ReservedKeyIn(request.Attrs) is { } reserved)
            throw new ChangesetInvalidException(
                type.Name,
                request.ActionName,
                log.Table,
                id,
                request.EventId,
                new Dictionary<string, IReadOnlyList<string>>
                {
                    [reserved] = ["is reserved: keys starting with \"__\" are written by Spector"],
                }
            );
        // Checked before anything is opened: a value that cannot be stored exactly is refused, never altered.
        if (StoredJson.Check(request.Attrs) is { } unstorable)
            throw Unstorable(type, request.ActionName, id, request.EventId, unstorable);
        if (request.Key is { } key)
            WriteOptions.CheckKey(key);
        if (request.Options?.ExpectedSeq is { } expectedSeq && (request.Creates || expectedSeq < 1))
            throw new ArgumentOutOfRangeException(
                nameof(WriteOptions.ExpectedSeq),
                expectedSeq,
                request.Creates
                    ? "An insert creates a new record: it has no seq to expect."
                    : "Event sequence numbers start at 1."
            );

        var options = SpectorOptions.For(session, log);
        // Routed before anything is written: a bad route is a clear error, not a half-written event.
        var shard = log.ShardFor(id, type.Name);
        var dialect = session?.Dialect ?? Dialect.For(log.Store);
        // Taken once, where the caller's scope and activity are: the scope, the session's, the call's, then the trace.
        var perCall = request.Options?.Context is { } call
            ? (session?.Context ?? EventContext.Empty).Overlay(call)
            : session?.Context;
        var context = EventContext.Capture(perCall);
        // Not inside a caller's transaction: on SQLite it may hold the write lock the migration waits for.
        if (dialect.Kind == SqlDialect.Sqlite && session?.Transaction is null)
            await (session?.Store ?? log.Store).Migrations.WaitAsync(ct).ConfigureAwait(false);
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return await WriteTransaction
                    .RunAsync(
                        log,
                        session,
                        (lease, tx, inline) =>
                            AttemptAsync(
                                request,
                                context,
                                options,
                                shard,
                                lease,
                                tx,
                                dialect,
                                callerTransaction: session?.Transaction is not null,
                                inline,
                                ct
                            ),
                        ct
                    )
                    .ConfigureAwait(false);
            }
            catch (DbException e) when (dialect.IsSerializationFailure(e))
            {
                // Inside the caller's transaction a retry would read the same snapshot: only the caller can retry.
                // A write in its own transaction (a database whose default isolation is SERIALIZABLE) starts over.
                if (session?.Transaction is not null || attempt >= options.MaxWriteAttempts)
                    throw new SerializationFailureException(
                        type.Name,
                        request.ActionName,
                        log.Table,
                        id,
                        request.EventId,
                        e
                    )
                    {
                        Attempts = attempt,
                    };
                Instrument.WriteRetried(options, type.Name, log.Table, request.ActionName, id, attempt);
            }
        }
    }

    private static async Task<T?> AttemptAsync<T>(
        WriteRequest<T> request,
        EventContext context,
        SpectorOptions options,
        EventShard shard,
        ConnectionLease lease,
        DbTransaction? tx,
        Dialect dialect,
        bool callerTransaction,
        InlineCommit? inline,
        CancellationToken ct
    )
        where T : class
    {
        var connection = lease.Connection;
        var (type, id) = (request.Type, request.RecordId);
        var log = type.Log;
        // Before anything is read: a caller's stale snapshot is refused now, not after the busy timeout.
        if (callerTransaction)
            await dialect.TakeWriteLockAsync(connection, shard.Sql.WriteLock, ct).ConfigureAwait(false);
        T record;
        RecordHead head;
        if (request.Creates)
        {
            if (
                request.Key is { } key
                && await FindInsertTwinAsync(log, shard, lease, tx, dialect, key, ct).ConfigureAwait(false)
                    is var (twinShard, twin)
            )
                return await OriginalResultAsync(request, twinShard, twin, connection, tx, ct).ConfigureAwait(false);
            record = type.Create(id);
            head = new RecordHead(type.SchemaIndex, 0, log.Hashed ? EventHash.Genesis.ToArray() : null, false, 0);
        }
        else
        {
            // Marks the key as taken for a sharded log's inserts, which look in every shard (FindInsertTwinAsync).
            if (request.Key is { } key)
                await TakeKeyGateAsync(log, lease, tx, dialect, key, ct).ConfigureAwait(false);
            var (locked, twin, replayed) = await LockHeadAsync(request, options, shard, lease, tx, dialect, ct)
                .ConfigureAwait(false);
            if (
                locked is null
                && twin is null
                && await lease
                    .ExecuteAsync(shard.Sql.HeadFromLog, SqlArgs.Of(("parent_id", id)), tx, ct)
                    .ConfigureAwait(false) > 0
            )
                (locked, twin, replayed) = await LockHeadAsync(request, options, shard, lease, tx, dialect, ct)
                    .ConfigureAwait(false);
            if (twin is not null)
                return await OriginalResultAsync(request, shard, twin, connection, tx, ct).ConfigureAwait(false);
            if (locked is not { } found || found.Schema != type.SchemaIndex || found.Deleted)
                throw new RecordNotFoundException(
                    type.Name,
                    request.ActionName,
                    log.Table,
                    id,
                    locked is { Deleted: true }
                );
            if (request.Options?.ExpectedSeq is { } expected && expected != found.LastSeq)
                throw new ConcurrencyConflictException(
                    type.Name,
                    request.ActionName,
                    log.Table,
                    id,
                    expected,
                    found.LastSeq
                );
            if (replayed.Record is null || replayed.LastSeq != found.LastSeq)
                throw new StaleHeadException(
                    type.Name,
                    request.ActionName,
                    shard.Table,
                    shard.Sql.Heads,
                    id,
                    found.LastSeq,
                    replayed.LastSeq
                );
            if (request.Expected is not null && type.Diff(replayed.Record, request.Expected) is { Count: > 0 } stale)
                throw new StaleRecordException(type.Name, log.Table, id, stale);
            record = replayed.Record;
            head = found;
        }

        var seq = head.LastSeq + 1;
        // A record's events never go back in time, even when this server's clock is behind the one that wrote the
        // last event: as-of reads and time bounds then agree with sequence order.
        var eventTime =
            Clock.UtcNow() is var reading && head.LastAt is { } lastAt && lastAt > reading ? lastAt : reading;
        var built = await BuildAsync(request, context, shard, record, seq, eventTime, connection, tx, dialect, ct)
            .ConfigureAwait(false);
        var previousHash = log.Hashed ? head.LastHash ?? EventHash.Genesis.ToArray() : null;
        var tableChain = log is { Hashed: true, HashScope: HashScope.Table };
        if (tableChain)
        {
            var (chainHash, chainAt) = await LockChainAsync(shard, connection, tx, dialect, ct).ConfigureAwait(false);
            previousHash = chainHash;
            if (built.Now < chainAt)
            {
                // Rare: a writer whose time came later took the chain first. Build again with a time taken now,
                // under the lock, from a fresh replay (the handler changed the first copy), so time order stays
                // chain order.
                var now = Clock.UtcNow() is var clock && clock > chainAt ? clock : chainAt;
                var fresh = request.Creates
                    ? type.Create(id)
                    : (
                        await EventReader
                            .ReplayAsync(type, shard, connection, tx, id, null, ct, options: options)
                            .ConfigureAwait(false)
                    ).Record!;
                built = await BuildAsync(request, context, shard, fresh, seq, now, connection, tx, dialect, ct)
                    .ConfigureAwait(false);
            }
        }

        var row = new EventRow(
            request.EventId,
            id,
            seq,
            type.SchemaIndex,
            request.Action,
            built.Now,
            built.Payload,
            built.Metadata,
            built.Draft?.Links,
            request.Key,
            StoredContext.From(built.Draft?.Context ?? context)
        );
        var savepointDue =
            built.Result is not null
            && request.Action != EventActions.Savepoint
            && type is { HasSavepoint: true, SavepointEvery: > 0 }
            && seq % type.SavepointEvery == 0;
        var appended = await AppendAsync(
                type.Log,
                shard,
                lease,
                tx,
                dialect,
                row,
                head,
                previousHash,
                request.Creates,
                tableChain,
                built.RecordWrite,
                savepointDue ? null : inline,
                ct
            )
            .ConfigureAwait(false);
        if (appended is null)
        {
            // The key was stored by a concurrent twin that committed while this write waited for it.
            var twin =
                await FindKeyedAsync(shard, connection, tx, request.Key!, ct).ConfigureAwait(false)
                ?? throw new InvalidOperationException(
                    $"Idempotency key '{request.Key}' of events table {shard.Table} "
                        + "is taken but its event is not visible."
                );
            return await OriginalResultAsync(request, shard, twin, connection, tx, ct).ConfigureAwait(false);
        }

        if (savepointDue)
        {
            var advanced = head with { LastSeq = seq, LastHash = appended.Value.Hash ?? head.LastHash };
            var at = Clock.UtcNow() is var later && later > built.Now ? later : built.Now;
            await AppendSavepointAsync(
                    shard,
                    lease,
                    tx,
                    dialect,
                    type,
                    record: built.Result!,
                    advanced,
                    appended.Value.Hash,
                    tableChain,
                    at,
                    context,
                    inline,
                    ct
                )
                .ConfigureAwait(false);
        }
        return built.Result;
    }

    /// <summary>
    /// Locks the record's head row and, in the same round trip, reads the event under the write's idempotency key and
    /// the events to replay (statements after the lock read a snapshot that includes the writer before).
    /// </summary>
    private static async Task<(RecordHead? Head, KeyedEvent? Twin, EventReader.Replayed<T> Replayed)> LockHeadAsync<T>(
        WriteRequest<T> request,
        SpectorOptions options,
        EventShard shard,
        ConnectionLease lease,
        DbTransaction? tx,
        Dialect dialect,
        CancellationToken ct
    )
        where T : class
    {
        var type = request.Type;
        var command = lease.Command(
            shard.Sql.LockHeadAndReplay(dialect, type.HasSavepoint, request.Key is not null),
            tx
        );
        try
        {
            EventReader.AddParameter(command, "@parent_id", request.RecordId);
            if (request.Key is { } key)
                EventReader.AddParameter(command, "@key", key);
            await lease.PrepareAsync(command, ct).ConfigureAwait(false);
            return await ReadHeadAsync(request, options, shard, command, dialect, ct).ConfigureAwait(false);
        }
        finally
        {
            await lease.ReleaseAsync(command).ConfigureAwait(false);
        }
    }

    private static async Task<(RecordHead? Head, KeyedEvent? Twin, EventReader.Replayed<T> Replayed)> ReadHeadAsync<T>(
        WriteRequest<T> request,
        SpectorOptions options,
        EventShard shard,
        DbCommand command,
        Dialect dialect,
        CancellationToken ct
    )
        where T : class
    {
        var type = request.Type;
        await using var reader = await command.ExecuteReaderAsync(ct).ConfigureAwait(false);
        RecordHead? head = await reader.ReadAsync(ct).ConfigureAwait(false)
            ? new RecordHead(
                reader.GetInt32(0),
                reader.GetInt64(1),
                reader.IsDBNull(2) ? null : reader.GetFieldValue<byte[]>(2),
                reader.GetBoolean(3),
                reader.GetInt64(4),
                dialect.ReadTimestamp(reader, 5)
            )
            : null;
        await reader.NextResultAsync(ct).ConfigureAwait(false);
        KeyedEvent? twin = null;
        if (request.Key is not null)
        {
            if (await reader.ReadAsync(ct).ConfigureAwait(false))
                twin = ReadKeyed(reader);
            await reader.NextResultAsync(ct).ConfigureAwait(false);
        }
        var replayed =
            twin is null && head is { Deleted: false } live && live.Schema == type.SchemaIndex
                ? await Instrument
                    .ReplayAsync(
                        type,
                        shard.Table,
                        request.RecordId,
                        options,
                        () => EventReader.ReplayRowsAsync(type, reader, request.RecordId, type.HasSavepoint, ct)
                    )
                    .ConfigureAwait(false)
                : default;
        return (head, twin, replayed);
    }

    /// <summary>
    /// Locks the table chain's head row and reads its hash and time. The row is made from the log on the
    /// table's first chained write (or the first after the heads table was added).
    /// </summary>
    private static async Task<(byte[] Hash, DateTimeOffset At)> LockChainAsync(
        EventShard shard,
        DbConnection connection,
        DbTransaction? tx,
        Dialect dialect,
        CancellationToken ct
    )
    {
        for (var created = false; ; created = true)
        {
            await using (var command = connection.CreateCommand())
            {
                command.Transaction = tx;
                command.CommandText = shard.Sql.LockChain(dialect);
                EventReader.AddParameter(command, "__chain", Guid.Empty);
                await using var reader = await command.ExecuteReaderAsync(ct).ConfigureAwait(false);
                if (await reader.ReadAsync(ct).ConfigureAwait(false))
                    return (reader.GetFieldValue<byte[]>(0), dialect.ReadTimestamp(reader, 1));
            }
            if (created)
                throw new InvalidOperationException(
                    $"The chain head of events table {shard.Table} could not be created in {shard.Sql.Heads}."
                );
            await connection
                .ExecuteAsync(
                    new CommandDefinition(
                        dialect.CreateChainHeadSql(shard.Table, shard.Sql.Heads),
                        SqlArgs.Of(
                            ("__chain", Guid.Empty),
                            ("__genesis", EventHash.Genesis.ToArray()),
                            ("__epoch", dialect.Timestamp(DateTimeOffset.UnixEpoch))
                        ),
                        tx,
                        cancellationToken: ct
                    )
                )
                .ConfigureAwait(false);
        }
    }

    /// <summary>
    /// The event already stored under a keyed insert's key, and its shard. An insert's shard comes from the new id
    /// it is given, so on a sharded log a retry may be routed to another shard than its first attempt: every shard
    /// is searched, after the key's gate (<see cref="TakeKeyGateAsync"/>). On SQLite the write lock, held before
    /// this runs, already covers every shard of the database.
    /// </summary>
    private static async Task<(EventShard Shard, KeyedEvent Twin)?> FindInsertTwinAsync(
        EventLog log,
        EventShard shard,
        ConnectionLease lease,
        DbTransaction? tx,
        Dialect dialect,
        string key,
        CancellationToken ct
    )
    {
        var connection = lease.Connection;
        if (!log.IsSharded)
            return await FindKeyedAsync(shard, connection, tx, key, ct).ConfigureAwait(false) is { } own
                ? (shard, own)
                : null;
        await TakeKeyGateAsync(log, lease, tx, dialect, key, ct).ConfigureAwait(false);
        foreach (var candidate in log.Shards)
        {
            if (await FindKeyedAsync(candidate, connection, tx, key, ct).ConfigureAwait(false) is { } twin)
                return (candidate, twin);
        }
        return null;
    }

    /// <summary>
    /// On PostgreSQL, locks the gate row of <paramref name="key"/> in a sharded log's first heads table, held to the
    /// end of the transaction; every keyed write of a sharded log takes it. Writes of one key then take turns across
    /// shards, and a snapshot older than the gate's last change is refused (40001): an insert cannot miss a twin
    /// that committed after its snapshot in another shard. SQLite's write lock already serializes every write.
    /// </summary>
    private static async Task TakeKeyGateAsync(
        EventLog log,
        ConnectionLease lease,
        DbTransaction? tx,
        Dialect dialect,
        string key,
        CancellationToken ct
    )
    {
        if (!log.IsSharded || dialect.Kind != SqlDialect.PostgreSql)
            return;
        var gate = SqlArgs.Of(("__gate", KeyGateId(key)), ("__at", dialect.Timestamp(DateTimeOffset.UnixEpoch)));
        await lease.ExecuteAsync(log.Shards[0].Sql.KeyGate, gate, tx, ct).ConfigureAwait(false);
    }

    /// <summary>
    /// A key's gate row id: the first 16 bytes of the key's SHA-256 with the version nibble set to 0, so no record
    /// id (UUIDv7) or table chain head (the empty id) can take it. One row per key: different keys never wait for
    /// each other or deadlock over a shared gate.
    /// </summary>
    private static Guid KeyGateId(string key)
    {
        Span<byte> digest = stackalloc byte[32];
        SHA256.HashData(Encoding.UTF8.GetBytes(key), digest);
        digest[6] &= 0x0F; // the version nibble of a big-endian UUID
        return new Guid(digest[..16], bigEndian: true);
    }

    private static async Task<KeyedEvent?> FindKeyedAsync(
        EventShard shard,
        DbConnection connection,
        DbTransaction? tx,
        string key,
        CancellationToken ct
    )
    {
        await using var command = connection.CreateCommand();
        command.Transaction = tx;
        command.CommandText = shard.Sql.IdempotencyLookup;
        EventReader.AddParameter(command, "key", key);
        await using var reader = await command.ExecuteReaderAsync(ct).ConfigureAwait(false);
        return await reader.ReadAsync(ct).ConfigureAwait(false) ? ReadKeyed(reader) : null;
    }

    private static KeyedEvent ReadKeyed(DbDataReader reader) =>
        new(
            reader.GetGuid(0),
            reader.GetGuid(1),
            reader.GetInt64(2),
            reader.GetInt32(3),
            reader.GetInt32(4),
            reader.GetString(5)
        );

    /// <summary>
    /// A write whose key is already stored: the same write returns what the first one returned (the record as
    /// of that event; nothing for a delete), a different one is refused naming the first event.
    /// </summary>
    private static async Task<T?> OriginalResultAsync<T>(
        WriteRequest<T> request,
        EventShard shard,
        KeyedEvent twin,
        DbConnection connection,
        DbTransaction? tx,
        CancellationToken ct
    )
        where T : class
    {
        var type = request.Type;
        var difference =
            twin.Schema != type.SchemaIndex ? $"it wrote a record of schema {twin.Schema}, not {type.Name}"
            : request.Creates
                ? (
                    twin.Seq != 1 || twin.Action != request.Action
                        ? $"it is event {twin.Seq} of an existing record"
                        : null
                )
            : twin.ParentId != request.RecordId ? $"it wrote record {twin.ParentId}"
            : null;
        difference ??=
            twin.Action != request.Action
                ? "its action is "
                    + (type.Log.ActionName(twin.Action) ?? twin.Action.ToString(CultureInfo.InvariantCulture))
                    + ", "
                    + $"not {request.ActionName}"
            : request.Action is EventActions.Delete or EventActions.Savepoint
            || Payload.SameAttrs(request.Attrs, twin.Payload, request.Creates ? EventActions.Insert : request.Action)
                ? null
            : "its payload differs";
        if (difference is not null)
            throw new IdempotencyKeyReusedException(
                type.Name,
                request.ActionName,
                type.Log.Table,
                request.RecordId,
                request.Key!,
                twin.Id,
                twin.ParentId,
                difference
            );
        if (request.Action == EventActions.Delete)
            return null;
        return (
            await EventReader
                .ReplayAsync(type, shard, connection, tx, twin.ParentId, twin.Seq, ct)
                .ConfigureAwait(false)
        ).Record;
    }

    /// <summary>
    /// Runs user code on the replayed <paramref name="record"/> (handler, PrepareEvent, PrepareMaterialization)
    /// and builds the event's payload for time <paramref name="now"/>.
    /// </summary>
    private static async Task<Built<T>> BuildAsync<T>(
        WriteRequest<T> request,
        EventContext context,
        EventShard shard,
        T record,
        long seq,
        DateTimeOffset now,
        DbConnection connection,
        DbTransaction? tx,
        Dialect dialect,
        CancellationToken ct
    )
        where T : class
    {
        var (type, id, eventId) = (request.Type, request.RecordId, request.EventId);
        if (request.Action == EventActions.Savepoint)
            return new Built<T>(now, SavepointPayload(type, record, id, eventId, now), null, null, record);

        // A created record keeps the timestamps its attrs bring, whatever the action.
        var payload = Payload.Build(
            request.Attrs,
            type.Version,
            eventId,
            now,
            request.Creates ? EventActions.Insert : request.Action
        );
        var changeset =
            request.Action == EventActions.Delete
                ? null
                : Handle(type, record, request.ActionName, id, eventId, payload);
        var prepares = changeset is not null && type.HasPrepareEvent;
        EventDraft? draft = null;
        if (prepares || request.Metadata is not null || context.Metadata is not null)
        {
            draft = new EventDraft(type.Log, eventId, id, request.ActionName, Attrs.Parse(payload))
            {
                Context = context,
                Metadata = (JsonObject?)context.Metadata?.DeepClone(),
            };
            if (prepares)
            {
                IReadOnlyList<StoredEvent> previous = request.Creates
                    ? []
                    : await EventReader
                        .ReadEventsAsync(type.Log, shard, connection, tx, dialect, id, type.SchemaIndex, ct)
                        .ConfigureAwait(false);
                type.PrepareEvent(draft, previous);
            }
            if (request.Metadata is not null)
            {
                draft.Metadata ??= [];
                foreach (var (key, value) in request.Metadata)
                    draft.Metadata[key] = value?.DeepClone();
            }
        }
        // The record-table write shares the event's command: a round trip fewer per write.
        RecordWrite? recordWrite =
            type.Table is not { } table ? null
            : changeset is null ? new RecordWrite(table.DeleteSql, SqlArgs.Of(("id", id)))
            : new RecordWrite(
                request.Creates ? table.InsertSql : table.UpsertSql,
                RecordParameters(type, changeset, dialect.Kind)
            );
        string? metadata;
        try
        {
            metadata = draft?.Metadata is { } given ? StoredJson.Metadata(given) : null;
        }
        catch (UnstorableValueException e)
        {
            throw Unstorable(type, request.ActionName, id, eventId, e);
        }
        return new Built<T>(now, payload, draft, recordWrite, changeset is null ? null : record)
        {
            Metadata = metadata,
        };
    }

    /// <summary>A statement on the record's table, run in the same command as the event insert.</summary>
    private sealed record RecordWrite(string Sql, SqlArgs Parameters);

    /// <summary>One event row to insert.</summary>
    private sealed record EventRow(
        Guid EventId,
        Guid RecordId,
        long Seq,
        int Schema,
        int Action,
        DateTimeOffset Now,
        string Payload,
        string? Metadata,
        IReadOnlyList<EventLinkRow>? Links,
        string? Key,
        StoredContext Context
    );

    /// <summary>
    /// Inserts one event row, hashed onto <paramref name="previousHash"/> when the table is hashed, runs
    /// <paramref name="recordWrite"/>, and advances the record's head (and the table chain's) in one command; then
    /// inserts its links. Returns the event's hash, or null when its idempotency key turned out to be taken (then
    /// nothing was written). A link the same-record trigger refuses becomes <see cref="InvalidLinkException"/>.
    /// </summary>
    private static async Task<(byte[]? Hash, bool Stored)?> AppendAsync(
        EventLog log,
        EventShard shard,
        ConnectionLease lease,
        DbTransaction? tx,
        Dialect dialect,
        EventRow row,
        RecordHead head,
        byte[]? previousHash,
        bool creates,
        bool tableChain,
        RecordWrite? recordWrite,
        InlineCommit? inline,
        CancellationToken ct
    )
    {
        var hash = previousHash is null
            ? null
            : EventHash.Compute(
                previousHash,
                row.EventId,
                row.RecordId,
                row.Seq,
                row.Schema,
                row.Action,
                row.Now,
                row.Payload,
                row.Metadata,
                row.Links,
                row.Context
            );
        // Sized for everything bound below, so the list never grows: 13 event and head values, the context, the row.
        var parameters = new SqlArgs(13 + ContextColumns.Names.Length + (recordWrite?.Parameters.Count ?? 0));
        parameters.Add("__id", row.EventId);
        parameters.Add("__parent_id", row.RecordId);
        parameters.Add("__seq", row.Seq);
        parameters.Add("__schema", row.Schema);
        parameters.Add("__action", row.Action);
        parameters.Add("__payload", row.Payload);
        parameters.Add("__metadata", row.Metadata, System.Data.DbType.String);
        parameters.Add("__inserted_at", dialect.Timestamp(row.Now));
        parameters.Add("__key", row.Key, System.Data.DbType.String);
        parameters.Add("__hash", hash, System.Data.DbType.Binary);
        parameters.Add("__deleted", row.Action == EventActions.Delete);
        parameters.Add("__savepoint_seq", row.Action == EventActions.Savepoint ? row.Seq : head.SavepointSeq);
        if (tableChain)
            parameters.Add("__chain", Guid.Empty);
        var withContext = !row.Context.IsEmpty;
        if (withContext)
            ContextColumns.Bind(parameters, row.Context);

        var sql = shard.Sql;
        var keyed = row.Key is not null;
        if (keyed)
        {
            // A keyed event goes alone first: if a twin committed meanwhile it inserts nothing, and neither may the
            // rest.
            var keyedAppend = sql.Append(dialect, withContext, keyed: true, creates);
            var inserted = await lease.ExecuteAsync(keyedAppend, parameters, tx, ct).ConfigureAwait(false);
            if (inserted == 0)
                return null;
        }
        if (recordWrite is not null)
            parameters.AddAll(recordWrite.Parameters);
        // Read once: a projection added while this write runs must not find it committed (or half done).
        var projections = log.InlineProjections;
        // The last command of the write carries the COMMIT when nothing (links, inline projections) follows it.
        var commits = inline is not null && row.Links is not { Count: > 0 } && projections.Count == 0;
        var command = sql.AppendCommand(dialect, !keyed, withContext, creates, tableChain, recordWrite?.Sql, commits);
        await lease.ExecuteAsync(command, parameters, tx, ct).ConfigureAwait(false);
        var connection = lease.Connection;
        if (commits)
            inline!.MarkCommitted();
        Instrument.Appended(log, shard.Table, row.Action, row.RecordId, row.Seq);
        if (projections.Count > 0)
            await InlineProjection
                .ApplyAsync(
                    log,
                    projections,
                    shard,
                    connection,
                    tx,
                    row.EventId,
                    row.RecordId,
                    row.Seq,
                    row.Schema,
                    row.Action,
                    row.Now,
                    row.Payload,
                    row.Metadata,
                    row.Context,
                    ct
                )
                .ConfigureAwait(false);
        foreach (var link in row.Links ?? [])
        {
            try
            {
                await connection
                    .ExecuteAsync(
                        new CommandDefinition(
                            sql.InsertLink(link.Name),
                            SqlArgs.Of(("event_id", row.EventId), ("target", link.Target), ("type", link.Type)),
                            tx,
                            cancellationToken: ct
                        )
                    )
                    .ConfigureAwait(false);
            }
            catch (DbException e) when (dialect.IsLinkRejected(e))
            {
                throw new InvalidLinkException(shard.Table, row.RecordId, row.EventId, link, e);
            }
        }
        return (hash, true);
    }

    /// <summary>The payload of a savepoint of <paramref name="record"/>, after proving it rebuilds the
    /// record.</summary>
    private static string SavepointPayload<T>(
        EventedType<T> type,
        T record,
        Guid recordId,
        Guid eventId,
        DateTimeOffset now
    )
        where T : class
    {
        string payload;
        try
        {
            payload = Payload.Build(
                type.CreateSavepoint(record, type.Version),
                type.Version,
                eventId,
                now,
                EventActions.Savepoint
            );
        }
        catch (UnstorableValueException e)
        {
            throw Unstorable(type, "savepoint", recordId, eventId, e);
        }
        var restored = type.Create(recordId);
        type.Apply(
            new Changeset<T>(type, restored, "savepoint", type.Version, eventId, Attrs.Parse(payload), isReplay: true)
        );
        if (type.Diff(record, restored) is { Count: > 0 } missing)
            throw new ChangesetInvalidException(
                type.Name,
                "savepoint",
                type.Log.Table,
                recordId,
                eventId,
                missing.ToDictionary(
                    key => key,
                    _ => (IReadOnlyList<string>)["is not restored by the Savepoint hook's attrs"]
                )
            );
        return payload;
    }

    /// <summary>Appends the automatic savepoint that follows every <c>SavepointEvery</c>-th event, in the same
    /// transaction.</summary>
    private static async Task AppendSavepointAsync<T>(
        EventShard shard,
        ConnectionLease lease,
        DbTransaction? tx,
        Dialect dialect,
        EventedType<T> type,
        T record,
        RecordHead head,
        byte[]? previousHash,
        bool tableChain,
        DateTimeOffset now,
        EventContext context,
        InlineCommit? inline,
        CancellationToken ct
    )
        where T : class
    {
        var recordId = type.IdOf(record);
        var eventId = Guid.CreateVersion7();
        var seq = head.LastSeq + 1;
        var row = new EventRow(
            eventId,
            recordId,
            seq,
            type.SchemaIndex,
            EventActions.Savepoint,
            now,
            SavepointPayload(type, record, recordId, eventId, now),
            null,
            null,
            null,
            StoredContext.From(context)
        );
        await AppendAsync(
                type.Log,
                shard,
                lease,
                tx,
                dialect,
                row,
                head,
                previousHash,
                creates: false,
                tableChain,
                null,
                inline,
                ct
            )
            .ConfigureAwait(false);
    }

    /// <summary>
    /// Runs the handler on the payload as it will be stored (parsed back from its JSON text), so the state
    /// written now is exactly the state a later replay rebuilds.
    /// </summary>
    private static Changeset<T> Handle<T>(
        EventedType<T> type,
        T record,
        string action,
        Guid recordId,
        Guid eventId,
        string payload
    )
        where T : class
    {
        var changeset = new Changeset<T>(
            type,
            record,
            action,
            type.Version,
            eventId,
            Attrs.Parse(payload),
            isReplay: false
        );
        type.Apply(changeset);
        if (!changeset.IsValid)
            throw new ChangesetInvalidException(type.Name, action, type.Log.Table, recordId, eventId, changeset.Errors);
        return changeset;
    }

    /// <summary>Writes the record table from the changeset's record, after the PrepareMaterialization hook.</summary>
    public static Task WriteRecordAsync<T>(
        DbConnection connection,
        DbTransaction? tx,
        Dialect dialect,
        EventedType<T> type,
        string sql,
        Changeset<T> changeset,
        CancellationToken ct
    )
        where T : class =>
        connection.ExecuteAsync(
            new CommandDefinition(sql, RecordParameters(type, changeset, dialect.Kind), tx, cancellationToken: ct)
        );

    /// <summary>The record's column values, after the PrepareMaterialization hook; errors it adds refuse the
    /// write.</summary>
    internal static SqlArgs RecordParameters<T>(EventedType<T> type, Changeset<T> changeset, SqlDialect dialect)
        where T : class
    {
        type.PrepareMaterialization(changeset);
        if (!changeset.IsValid)
            throw new ChangesetInvalidException(
                type.Name,
                changeset.Action,
                type.Log.Table,
                type.IdOf(changeset.Record),
                changeset.EventId,
                changeset.Errors
            );
        var columns = new RecordColumns(type.Table?.Columns.Count ?? 8, decimalsAsText: dialect == SqlDialect.Sqlite);
        type.BindColumns(changeset.Record, columns);
        return columns.Args;
    }

    private static ChangesetInvalidException Unstorable<T>(
        EventedType<T> type,
        string action,
        Guid recordId,
        Guid eventId,
        UnstorableValueException e
    )
        where T : class =>
        new(
            type.Name,
            action,
            type.Log.Table,
            recordId,
            eventId,
            new Dictionary<string, IReadOnlyList<string>> { [e.Field] = [e.Reason] }
        );
}
