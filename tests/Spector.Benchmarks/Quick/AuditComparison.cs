using System.Diagnostics;
using Dapper;
using Microsoft.Data.Sqlite;
using Npgsql;
using NpgsqlTypes;
using Spector.Benchmarks.Harness;
using Spector.Benchmarks.Model;

namespace Spector.Benchmarks.Quick;

/// <summary>
/// The audit trail's ratios (docs/audit-trail.md): a timeline page of one actor against the same query by hand
/// with Dapper, an as-of read in the middle of a long history with savepoints against GetAsync, and a write
/// under a context (scope and activity) against the same write without one.
/// </summary>
internal static class AuditComparison
{
    private const int Rounds = 5;
    private const int Actors = 1_000;
    private static readonly ActivitySource Requests = new("Spector.Benchmarks.Requests");

    public static async Task RunAsync(string database, BenchDatabase db, Report report, long events)
    {
        BenchAuditEvents.Log.Use(db.Store);
        await BenchAuditEvents.Log.MigrateDownAsync();
        await BenchAuditEvents.Log.MigrateUpAsync();
        var clock = Stopwatch.StartNew();
        await LoadAsync(db.Store, events);
        Console.WriteLine(
            $"audit: loaded {events:N0} events of {Actors:N0} actors in {clock.Elapsed.TotalSeconds:F1} s"
        );

        await TimelineAsync(database, db, report, events);
        await AsOfAsync(database, db, report);
        await WriteWithContextAsync(database, report);
    }

    private static async Task TimelineAsync(string database, BenchDatabase db, Report report, long events)
    {
        var query = new TimelineQuery { Actor = new Actor("user", "u7") };
        var sql =
            $"SELECT {EventLogSqlColumns} FROM \"bench_audit_events\" "
            + "WHERE \"actor_type\" = @type AND \"actor_id\" = @id "
            + "ORDER BY \"position\" DESC LIMIT 100";
        async Task SpectorAsync(int _)
        {
            var page = await BenchAuditEvents.Log.Audit.TimelinePageAsync(query, 100);
            if (page.Events.Count != 100)
                throw new InvalidOperationException("a short timeline page");
        }
        async Task DapperAsync(int _)
        {
            await using var connection = await db.Store.OpenConnectionAsync();
            var rows = (await connection.QueryAsync<TimelineRow>(sql, new { type = "user", id = "u7" })).AsList();
            if (rows.Count != 100)
                throw new InvalidOperationException("a short page");
        }
        await Measure.RateAsync(50, SpectorAsync);
        await Measure.RateAsync(50, DapperAsync);
        var rates = await Measure.InterleavedAsync(
            Rounds,
            _ => Measure.RateAsync(200, SpectorAsync),
            _ => Measure.RateAsync(200, DapperAsync)
        );
        report.Throughput($"timeline-actor-page-vs-dapper/{database}", rates[0], rates[1], atLeast: 0.8);
        Console.WriteLine($"  (first page of 100 of one actor's {events / Actors:N0} events among {events:N0})");
    }

    /// <summary>
    /// GetAsOfAsync half way through a 10,000-event history with a savepoint every 20 events, against GetAsync (whose
    /// last event is a savepoint). The ratio compares equal replays: as of the savepoint at seq 5,000, both replay one
    /// event, so it measures finding the instant. As of seq 5,019 (19 events after the savepoint, the worst case) it
    /// also replays 18 more updates: printed beside it, without a target.
    /// </summary>
    private static async Task AsOfAsync(string database, BenchDatabase db, Report report)
    {
        var id = (await Histories.LoadAsync(db, savepoints: true, 10_000, 1))[0];
        var history = await BenchEvents.Log.EventsOfAsync(id);
        var atSavepoint = history[4_999].InsertedAt;
        var beforeSavepoint = history[5_018].InsertedAt;
        Func<int, Task> AsOfRead(DateTimeOffset at, decimal balance) =>
            async _ =>
            {
                if ((await SavedAccount.GetAsOfAsync(id, at))?.Balance != balance)
                    throw new InvalidOperationException("wrong as-of state");
            };
        async Task GetAsync(int _)
        {
            if (await SavedAccount.GetAsync(id) is null)
                throw new InvalidOperationException("no record");
        }
        // The same 19 events replayed by sequence: what the worst case costs without any search by time.
        async Task GetAtSameSeqAsync(int _)
        {
            if ((await SavedAccount.GetAtAsync(id, 5_019))?.Balance != 5_019m)
                throw new InvalidOperationException("wrong state");
        }
        var (aligned, worst) = (AsOfRead(atSavepoint, 4_999m), AsOfRead(beforeSavepoint, 5_019m));
        await Measure.RateAsync(50, aligned);
        await Measure.RateAsync(50, worst);
        await Measure.RateAsync(50, GetAsync);
        await Measure.RateAsync(50, GetAtSameSeqAsync);
        var rates = await Measure.InterleavedAsync(
            Rounds,
            _ => Measure.RateAsync(300, aligned),
            _ => Measure.RateAsync(300, worst),
            _ => Measure.RateAsync(300, GetAsync),
            _ => Measure.RateAsync(300, GetAtSameSeqAsync)
        );
        report.Throughput($"asof-10000-savepoints-vs-get/{database}", rates[0], rates[2], atLeast: 0.8);
        report.Throughput($"asof-10000-savepoints-19-after-vs-get/{database}", rates[1], rates[2]);
        report.Throughput($"asof-10000-savepoints-19-after-vs-get-at-same-seq/{database}", rates[1], rates[3]);
    }

    /// <summary>An insert inside a request's activity and a scope naming actor, correlation, causation and
    /// reason.</summary>
    private static async Task WriteWithContextAsync(string database, Report report)
    {
        using var listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name == "Spector.Benchmarks.Requests",
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
        };
        ActivitySource.AddActivityListener(listener);
        async Task WithContextOnAsync(SpectorSession session, int i)
        {
            using var request = Requests.StartActivity("POST /accounts");
            using var scope = SpectorContext.Begin(
                actor: new Actor("user", "u" + (i % 100)),
                reason: "signup",
                correlationId: "req-" + i,
                causationId: "msg-" + i
            );
            await Account.InsertAsync(session, new Attrs { ["owner"] = "owner", ["balance"] = i });
        }
        Task WithoutOnAsync(SpectorSession session, int i) =>
            Account.InsertAsync(session, new Attrs { ["owner"] = "owner", ["balance"] = i });
        Task WithContextAsync(int i) => WithContextOnAsync(BenchEvents.Log.Store, i);
        Task WithoutAsync(int i) => WithoutOnAsync(BenchEvents.Log.Store, i);
        await Measure.RateAsync(50, WithContextAsync);
        await Measure.RateAsync(50, WithoutAsync);
        var rates = await Measure.InterleavedAsync(
            Rounds,
            _ => Measure.RateAsync(400, WithContextAsync),
            _ => Measure.RateAsync(400, WithoutAsync)
        );
        report.Throughput($"write-with-context-vs-without/{database}", rates[0], rates[1], atLeast: 0.9);
        var (with, without) = (await WriteVolumeAsync(WithContextOnAsync), await WriteVolumeAsync(WithoutOnAsync));
        Console.WriteLine(
            BenchEvents.Log.Store.Dialect == SqlDialect.Sqlite
                ? $"  (pages written per write: {with:F1} with a context, {without:F1} without)"
                : $"  (WAL bytes per write: {with:F0} with a context, {without:F0} without)"
        );
    }

    /// <summary>
    /// What one write makes the database write, averaged over 200: SQLite pages (the connection's page-cache writes,
    /// each a WAL frame at commit), PostgreSQL WAL bytes. Unlike the rate, a busy machine cannot blur it: it shows
    /// what the context indexes add to every commit.
    /// </summary>
    private static async Task<double> WriteVolumeAsync(Func<SpectorSession, int, Task> write)
    {
        const int writes = 200;
        await using var connection = await BenchEvents.Log.Store.OpenConnectionAsync();
        var session = new SpectorSession(connection, store: BenchEvents.Log.Store);
        if (connection is SqliteConnection sqlite)
        {
            const int pagesWritten = 9; // SQLITE_DBSTATUS_CACHE_WRITE
            SQLitePCL.raw.sqlite3_db_status(sqlite.Handle, pagesWritten, out _, out _, 1);
            for (var i = 0; i < writes; i++)
                await write(session, i);
            SQLitePCL.raw.sqlite3_db_status(sqlite.Handle, pagesWritten, out var pages, out _, 1);
            return (double)pages / writes;
        }
        const string lsn = "SELECT pg_current_wal_insert_lsn() - '0/0'::pg_lsn";
        var before = await connection.ExecuteScalarAsync<decimal>(lsn);
        for (var i = 0; i < writes; i++)
            await write(session, i);
        return (double)(await connection.ExecuteScalarAsync<decimal>(lsn) - before) / writes;
    }

    private const string EventLogSqlColumns =
        "\"position\", \"id\", \"parent_id\", \"seq\", \"schema\", \"action\", \"payload\", \"metadata\", "
        + "\"inserted_at\", \"actor_type\", \"actor_id\", \"correlation_id\", \"causation_id\", \"reason\", "
        + "\"trace_id\", \"span_id\"";

    /// <summary>What a hand-written audit query maps each row to.</summary>
    private sealed class TimelineRow
    {
        public long Position { get; set; }
        public Guid Id { get; set; }
        public Guid Parent_Id { get; set; }
        public long Seq { get; set; }
        public int Schema { get; set; }
        public int Action { get; set; }
        public string Payload { get; set; } = "";
        public string? Metadata { get; set; }
        public object? Inserted_At { get; set; }
        public string? Actor_Type { get; set; }
        public string? Actor_Id { get; set; }
        public string? Correlation_Id { get; set; }
        public string? Causation_Id { get; set; }
        public string? Reason { get; set; }
        public string? Trace_Id { get; set; }
        public string? Span_Id { get; set; }
    }

    /// <summary>Records of ten events each, actor u(record % 1000), bulk-loaded (COPY, or large SQLite
    /// transactions).</summary>
    private static async Task LoadAsync(SpectorStore store, long events)
    {
        var start = DateTimeOffset.UtcNow.AddDays(-30);
        IEnumerable<(Guid Id, Guid Parent, long Seq, int Action, string Actor, DateTimeOffset At)> Rows()
        {
            for (long n = 0; n < events; n++)
            {
                var record = n / 10;
                var seq = n % 10 + 1;
                yield return (
                    Guid.CreateVersion7(),
                    RecordId(record),
                    seq,
                    seq == 1 ? EventActions.Insert : EventActions.Update,
                    "u" + record % Actors,
                    start.AddTicks(n * 10)
                );
            }
        }
        const string payload = """{"__version__":1,"name":"item"}""";
        const string columns =
            "\"id\", \"parent_id\", \"seq\", \"schema\", \"action\", \"payload\", \"inserted_at\", "
            + "\"actor_type\", \"actor_id\"";
        if (store.Dialect == SqlDialect.PostgreSql)
        {
            await using var connection = (NpgsqlConnection)await store.OpenConnectionAsync();
            await using (
                var writer = await connection.BeginBinaryImportAsync(
                    $"COPY \"bench_audit_events\" ({columns}) FROM STDIN (FORMAT BINARY)"
                )
            )
            {
                foreach (var row in Rows())
                {
                    await writer.StartRowAsync();
                    await writer.WriteAsync(row.Id, NpgsqlDbType.Uuid);
                    await writer.WriteAsync(row.Parent, NpgsqlDbType.Uuid);
                    await writer.WriteAsync(row.Seq, NpgsqlDbType.Bigint);
                    await writer.WriteAsync(0, NpgsqlDbType.Integer);
                    await writer.WriteAsync(row.Action, NpgsqlDbType.Integer);
                    await writer.WriteAsync(payload, NpgsqlDbType.Jsonb);
                    await writer.WriteAsync(row.At, NpgsqlDbType.TimestampTz);
                    await writer.WriteAsync("user", NpgsqlDbType.Text);
                    await writer.WriteAsync(row.Actor, NpgsqlDbType.Text);
                }
                await writer.CompleteAsync();
            }
            await connection.ExecuteAsync("ANALYZE \"bench_audit_events\"");
            return;
        }
        await using (var connection = (SqliteConnection)await store.OpenConnectionAsync())
        {
            var tx = connection.BeginTransaction();
            await using var insert = connection.CreateCommand();
            insert.CommandText =
                $"INSERT INTO \"bench_audit_events\" ({columns}) "
                + "VALUES ($id, $parent, $seq, 0, $action, $payload, $at, 'user', $actor)";
            var p = new[] { "$id", "$parent", "$seq", "$action", "$payload", "$at", "$actor" }
                .Select(name => insert.Parameters.Add(new SqliteParameter(name, null)))
                .ToArray();
            long count = 0;
            foreach (var row in Rows())
            {
                insert.Transaction = tx;
                (p[0].Value, p[1].Value, p[2].Value, p[3].Value) = (row.Id, row.Parent, row.Seq, row.Action);
                (p[4].Value, p[5].Value, p[6].Value) = (payload, EventHash.Micros(row.At), row.Actor);
                await insert.ExecuteNonQueryAsync();
                if (++count % 100_000 != 0)
                    continue;
                await tx.CommitAsync();
                tx = connection.BeginTransaction();
            }
            await tx.CommitAsync();
            await connection.ExecuteAsync("ANALYZE; PRAGMA wal_checkpoint(TRUNCATE)");
        }
    }

    private static Guid RecordId(long record)
    {
        Span<byte> bytes = stackalloc byte[16];
        BitConverter.TryWriteBytes(bytes, record);
        bytes[15] = 0x5a;
        return new Guid(bytes);
    }
}
