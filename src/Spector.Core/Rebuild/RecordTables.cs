using System.Data.Common;
using Dapper;

namespace Spector;

/// <summary>
/// Record tables rebuilt from the log, and brought in line with their class. The log is the truth: a record
/// table can always be thrown away and built again from it.
/// </summary>
public static class RecordTables
{
    /// <summary>
    /// Rebuilds <paramref name="type"/>'s record table from the log (pass <c>MyRecord.SpectorType</c>). Every
    /// record is replayed in parallel batches into a table built beside it (<c>&lt;table&gt;__rebuild</c>), which
    /// survives a crash: running again resumes it. Then one transaction catches up the records written meanwhile
    /// and copies the new rows in, so readers see the old rows until it commits, never an empty table. The
    /// PrepareMaterialization hook runs for every row, as on a write.
    /// </summary>
    [System.Diagnostics.CodeAnalysis.RequiresDynamicCode(SqlArgs.DapperMapsRows)]
    public static Task<RebuildResult> RebuildAsync<T>(
        EventedType<T> type,
        RebuildOptions? options = null,
        CancellationToken cancellationToken = default
    )
        where T : class => RunAsync(type, options ?? new RebuildOptions(), recreate: false, cancellationToken);

    /// <summary>
    /// Brings <paramref name="type"/>'s record table in line with the class: creates it when missing, adds new
    /// nullable columns in place, and makes every other change (a renamed, dropped or retyped column, a new required
    /// column) by rebuilding the table from the log with the class's current columns.
    /// </summary>
    [System.Diagnostics.CodeAnalysis.RequiresDynamicCode(SqlArgs.DapperMapsRows)]
    public static async Task<RecordTableMigration> MigrateAsync<T>(
        EventedType<T> type,
        RebuildOptions? options = null,
        CancellationToken cancellationToken = default
    )
        where T : class
    {
        var table = RequireTable(type);
        var log = type.Log;
        var sql = new RebuildSql(table, log.Store.Dialect);
        Dictionary<string, string> live;
        await using (var connection = await log.Store.OpenConnectionAsync(cancellationToken).ConfigureAwait(false))
        {
            live = (
                await connection
                    .QueryAsync<(string Name, string Type)>(
                        new CommandDefinition(
                            sql.LiveColumns,
                            new { table = table.Name },
                            cancellationToken: cancellationToken
                        )
                    )
                    .ConfigureAwait(false)
            ).ToDictionary(c => c.Name, c => c.Type, StringComparer.Ordinal);
            if (live.Count == 0)
            {
                await connection
                    .ExecuteAsync(new CommandDefinition(sql.CreateLive, cancellationToken: cancellationToken))
                    .ConfigureAwait(false);
                return new RecordTableMigration(
                    table.Name,
                    RecordTableChange.Created,
                    [.. sql.DeclaredColumns.Keys],
                    [],
                    [],
                    null
                );
            }
        }
        var added = sql.DeclaredColumns.Keys.Where(c => !live.ContainsKey(c)).ToList();
        var removed = live.Keys.Where(c => !sql.DeclaredColumns.ContainsKey(c)).ToList();
        var retyped = sql
            .DeclaredColumns.Where(c =>
                live.TryGetValue(c.Key, out var t)
                && !string.Equals(t, sql.Reported(c.Value), StringComparison.OrdinalIgnoreCase)
            )
            .Select(c => c.Key)
            .ToList();
        if (added.Count == 0 && removed.Count == 0 && retyped.Count == 0)
            return new RecordTableMigration(table.Name, RecordTableChange.None, [], [], [], null);
        if (removed.Count == 0 && retyped.Count == 0 && added.All(sql.NullableColumns.Contains))
        {
            await using var connection = await log.Store.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
            await using var tx = await Dialect
                .For(log.Store)
                .BeginWriteAsync(connection, cancellationToken)
                .ConfigureAwait(false);
            foreach (var column in added)
                await connection
                    .ExecuteAsync(
                        new CommandDefinition(
                            sql.AddColumn(column),
                            transaction: tx,
                            cancellationToken: cancellationToken
                        )
                    )
                    .ConfigureAwait(false);
            await tx.CommitAsync(cancellationToken).ConfigureAwait(false);
            return new RecordTableMigration(table.Name, RecordTableChange.ColumnsAdded, added, [], [], null);
        }
        var rebuilt = await RunAsync(type, options ?? new RebuildOptions(), recreate: true, cancellationToken)
            .ConfigureAwait(false);
        return new RecordTableMigration(table.Name, RecordTableChange.Rebuilt, added, removed, retyped, rebuilt);
    }

    private static RecordTable RequireTable<T>(EventedType<T> type)
        where T : class =>
        type.Table
        ?? throw new InvalidOperationException(
            $"{type.Name} is embedded (no Table): it has no record table to rebuild; "
                + $"its state lives only in events table {type.Log.Table}."
        );

    private static async Task<RebuildResult> RunAsync<T>(
        EventedType<T> type,
        RebuildOptions options,
        bool recreate,
        CancellationToken ct
    )
        where T : class
    {
        if (options.BatchSize < 1 || options.Parallelism < 1 || options.LogEvery < 1)
            throw new ArgumentOutOfRangeException(
                nameof(options),
                "Batch size, parallelism and log interval must be positive."
            );
        var table = RequireTable(type);
        var log = type.Log;
        var store = log.Store;
        var dialect = Dialect.For(store);
        var sql = new RebuildSql(table, store.Dialect);

        // Phase 1: the table beside, the horizon every later write is measured against (kept for a resume), and heads
        // for records imported around Spector.
        Dictionary<string, (long TxId, long Position)> horizon;
        bool resumed;
        await using (var connection = await store.OpenConnectionAsync(ct).ConfigureAwait(false))
        await using (var tx = await dialect.BeginWriteAsync(connection, ct).ConfigureAwait(false))
        {
            await connection
                .ExecuteAsync(new CommandDefinition(RebuildSql.CreateProgress, transaction: tx, cancellationToken: ct))
                .ConfigureAwait(false);
            horizon = (
                await connection
                    .QueryAsync<(string Table, long TxId, long Position)>(
                        new CommandDefinition(
                            RebuildSql.ReadProgress,
                            new { table = table.Name },
                            tx,
                            cancellationToken: ct
                        )
                    )
                    .ConfigureAwait(false)
            ).ToDictionary(r => r.Table, r => (r.TxId, r.Position));
            resumed = horizon.Count == log.Shards.Count;
            if (!resumed)
            {
                await connection
                    .ExecuteAsync(
                        new CommandDefinition(
                            RebuildSql.ClearProgress,
                            new { table = table.Name },
                            tx,
                            cancellationToken: ct
                        )
                    )
                    .ConfigureAwait(false);
                await connection
                    .ExecuteAsync(new CommandDefinition(sql.DropBeside, transaction: tx, cancellationToken: ct))
                    .ConfigureAwait(false);
                horizon.Clear();
                foreach (var shard in log.Shards)
                {
                    var (txId, position) = await connection
                        .QuerySingleAsync<(long, long)>(
                            new CommandDefinition(sql.Horizon(shard.Table), transaction: tx, cancellationToken: ct)
                        )
                        .ConfigureAwait(false);
                    horizon[shard.Table] = (txId, position);
                    await connection
                        .ExecuteAsync(
                            new CommandDefinition(
                                RebuildSql.AddProgress,
                                new
                                {
                                    table = table.Name,
                                    events_table = shard.Table,
                                    tx_id = txId,
                                    position,
                                },
                                tx,
                                cancellationToken: ct
                            )
                        )
                        .ConfigureAwait(false);
                }
            }
            await connection
                .ExecuteAsync(new CommandDefinition(sql.CreateBeside, transaction: tx, cancellationToken: ct))
                .ConfigureAwait(false);
            foreach (var shard in log.Shards)
                await connection
                    .ExecuteAsync(
                        new CommandDefinition(
                            RebuildSql.BackfillHeads(shard.Table, log.Hashed),
                            transaction: tx,
                            cancellationToken: ct
                        )
                    )
                    .ConfigureAwait(false);
            await tx.CommitAsync(ct).ConfigureAwait(false);
        }
        options.Log?.Invoke($"Rebuilding {table.Name} from {log.Table}{(resumed ? ", resuming" : "")}.");

        // Phase 2: every live record not built yet (listed from the heads), in parallel batches, each batch replayed
        // outside a transaction and
        // written in a short one.
        var batches = new List<(EventShard Shard, List<Guid> Ids)>();
        long total = 0;
        await using (var connection = await store.OpenConnectionAsync(ct).ConfigureAwait(false))
        {
            foreach (var shard in log.Shards)
            {
                var ids = await ReadIdsAsync(
                        connection,
                        null,
                        sql.PendingIds(shard.Table),
                        ct,
                        ("schema", type.SchemaIndex)
                    )
                    .ConfigureAwait(false);
                total += ids.Count;
                batches.AddRange(ids.Chunk(options.BatchSize).Select(chunk => (shard, chunk.ToList())));
            }
        }
        long done = 0;
        await Parallel
            .ForEachAsync(
                batches,
                new ParallelOptions { MaxDegreeOfParallelism = options.Parallelism, CancellationToken = ct },
                async (batch, token) =>
                {
                    await using var connection = await store.OpenConnectionAsync(token).ConfigureAwait(false);
                    var states = await ReplayAsync(type, sql, batch.Shard, connection, null, batch.Ids, token)
                        .ConfigureAwait(false);
                    await using var tx = await dialect.BeginWriteAsync(connection, token).ConfigureAwait(false);
                    await WriteAsync(connection, tx, type, sql, batch.Ids, states, token).ConfigureAwait(false);
                    await tx.CommitAsync(token).ConfigureAwait(false);
                    var now = Interlocked.Add(ref done, batch.Ids.Count);
                    options.Progress?.Report(new RebuildProgress(table.Name, now, total));
                    if (options.Log is { } line && now / options.LogEvery != (now - batch.Ids.Count) / options.LogEvery)
                        line($"Rebuilding {table.Name}: {now} of {total} records.");
                }
            )
            .ConfigureAwait(false);

        // Phase 3: one transaction. Writers of the live table wait (SQLite: the write lock; PostgreSQL: an EXCLUSIVE
        // lock, which readers pass); records written since the horizon are replayed again; the rows are swapped in.
        long caughtUp = 0,
            rows;
        await using (var connection = await store.OpenConnectionAsync(ct).ConfigureAwait(false))
        await using (var tx = await dialect.BeginWriteAsync(connection, ct).ConfigureAwait(false))
        {
            if (sql.LockLive is { } lockSql)
                await connection
                    .ExecuteAsync(new CommandDefinition(lockSql, transaction: tx, cancellationToken: ct))
                    .ConfigureAwait(false);
            foreach (var shard in log.Shards)
            {
                var (txId, position) = horizon[shard.Table];
                var changed = await ReadIdsAsync(
                        connection,
                        tx,
                        sql.ChangedIds(shard.Table),
                        ct,
                        ("schema", type.SchemaIndex),
                        sql.Postgres ? ("tx_id", txId) : ("position", position)
                    )
                    .ConfigureAwait(false);
                var states = await ReplayAsync(type, sql, shard, connection, tx, changed, ct).ConfigureAwait(false);
                await WriteAsync(connection, tx, type, sql, changed, states, ct).ConfigureAwait(false);
                caughtUp += changed.Count;
            }
            foreach (
                var statement in recreate
                    ? [sql.DropLive, sql.CreateLive, sql.CopyIn]
                    : new[] { sql.ClearLive, sql.CopyIn }
            )
                await connection
                    .ExecuteAsync(new CommandDefinition(statement, transaction: tx, cancellationToken: ct))
                    .ConfigureAwait(false);
            await connection
                .ExecuteAsync(new CommandDefinition(sql.DropBeside, transaction: tx, cancellationToken: ct))
                .ConfigureAwait(false);
            await connection
                .ExecuteAsync(
                    new CommandDefinition(
                        RebuildSql.ClearProgress,
                        new { table = table.Name },
                        tx,
                        cancellationToken: ct
                    )
                )
                .ConfigureAwait(false);
            rows = await connection
                .ExecuteScalarAsync<long>(new CommandDefinition(sql.CountLive, transaction: tx, cancellationToken: ct))
                .ConfigureAwait(false);
            await tx.CommitAsync(ct).ConfigureAwait(false);
        }
        options.Log?.Invoke($"Rebuilt {table.Name}: {rows} rows from {done} records, {caughtUp} caught up.");
        return new RebuildResult(table.Name, done, rows, caughtUp, resumed, recreate);
    }

    /// <summary>The ids' states from their events, read <see cref="ReplayChunk"/> records per query.</summary>
    private static async Task<Dictionary<Guid, EventReader.Replayed<T>>> ReplayAsync<T>(
        EventedType<T> type,
        RebuildSql sql,
        EventShard shard,
        DbConnection connection,
        DbTransaction? tx,
        IReadOnlyList<Guid> ids,
        CancellationToken ct
    )
        where T : class
    {
        var states = new Dictionary<Guid, EventReader.Replayed<T>>(ids.Count);
        foreach (var chunk in ids.Chunk(ReplayChunk))
        {
            await using var command = connection.CreateCommand();
            command.Transaction = tx;
            command.CommandText = sql.ReplayMany(shard.Table, chunk.Length, type.HasSavepoint);
            if (sql.Postgres)
                EventReader.AddParameter(command, "ids", "{" + string.Join(",", chunk) + "}");
            else
                for (var i = 0; i < chunk.Length; i++)
                    EventReader.AddParameter(command, "id" + i, chunk[i]);
            foreach (
                var (id, replayed) in await EventReader
                    .ReplayManyAsync(type, command, type.HasSavepoint, ct)
                    .ConfigureAwait(false)
            )
                states[id] = replayed;
        }
        return states;
    }

    // A hundred records per query keep a sort of their events (PostgreSQL orders them by record) in memory.
    private const int ReplayChunk = 100;

    /// <summary>Record ids read as the events table stores them (SQLite hands back text or blobs, which Dapper does not
    /// map to Guid).</summary>
    private static async Task<List<Guid>> ReadIdsAsync(
        DbConnection connection,
        DbTransaction? tx,
        string sql,
        CancellationToken ct,
        params (string Name, object Value)[] parameters
    )
    {
        await using var command = connection.CreateCommand();
        command.Transaction = tx;
        command.CommandText = sql;
        foreach (var (name, value) in parameters)
            EventReader.AddParameter(command, name, value);
        var ids = new List<Guid>();
        await using var reader = await command.ExecuteReaderAsync(ct).ConfigureAwait(false);
        while (await reader.ReadAsync(ct).ConfigureAwait(false))
            ids.Add(reader.GetGuid(0));
        return ids;
    }

    /// <summary>
    /// The records' rows beside, through PrepareMaterialization, many rows per statement; a deleted (or absent) record
    /// has none.
    /// </summary>
    private static async Task WriteAsync<T>(
        DbConnection connection,
        DbTransaction tx,
        EventedType<T> type,
        RebuildSql sql,
        IReadOnlyList<Guid> ids,
        Dictionary<Guid, EventReader.Replayed<T>> states,
        CancellationToken ct
    )
        where T : class
    {
        var rows = new List<SqlArgs>(ids.Count);
        foreach (var id in ids)
        {
            if (states.GetValueOrDefault(id).Record is not { } record)
            {
                await connection
                    .ExecuteAsync(
                        new CommandDefinition(sql.DeleteBeside, SqlArgs.Of(("id", id)), tx, cancellationToken: ct)
                    )
                    .ConfigureAwait(false);
                continue;
            }
            var changeset = new Changeset<T>(type, record, "rebuild", type.Version, id, new Attrs(), isReplay: false);
            rows.Add(EventWriter.RecordParameters(type, changeset, sql.Kind));
        }
        foreach (var chunk in rows.Chunk(sql.RowsPerUpsert))
        {
            var parameters = new SqlArgs(chunk.Length * chunk[0].Count);
            for (var i = 0; i < chunk.Length; i++)
                parameters.AddAll(chunk[i], "__" + i.ToString(System.Globalization.CultureInfo.InvariantCulture));
            await connection
                .ExecuteAsync(
                    new CommandDefinition(sql.UpsertBeside(chunk.Length), parameters, tx, cancellationToken: ct)
                )
                .ConfigureAwait(false);
        }
    }
}
