using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using Spector.Benchmarks.Harness;
using Spector.Benchmarks.Model;

namespace Spector.Benchmarks.Quick;

/// <summary>
/// Followers and rebuilds against a raw read of the same rows (docs/followers.md): a no-op follower catching up,
/// a record-table rebuild, and the lag of a live follower behind eight writers.
/// </summary>
internal static class FollowerComparison
{
    private const int Rounds = 3,
        History = 100;

    public static async Task RunAsync(string database, Report report, int events)
    {
        await using var db = await BenchDatabase.OpenAsync(database);
        await db.ResetAsync();
        await Histories.LoadAsync(db, savepoints: false, History, events / History);
        await SettleAsync(db);
        // Every variant runs once unmeasured, as the raw read always did: the first run of a path pays for the JIT
        // (a catch-up's first round took twice the CPU of its third here), which a long-running process pays once.
        var round = 0;
        Func<int, Task<double>>[] variants =
        [
            _ => RawReadAsync(db.Store),
            async _ =>
            {
                var follower = new Follower(
                    new FollowerOptions($"bench-{round++}", BenchEvents.Log)
                    {
                        BatchSize = 1000,
                        UseNotifications = false,
                    },
                    (_, _) => Task.CompletedTask
                );
                await follower.MigrateAsync();
                var clock = Stopwatch.StartNew();
                var passed = await follower.CatchUpAsync();
                return passed / clock.Elapsed.TotalSeconds;
            },
            async _ =>
            {
                var clock = Stopwatch.StartNew();
                await RecordTables.RebuildAsync(
                    Account.SpectorType,
                    new RebuildOptions { BatchSize = 50, Parallelism = 2 }
                );
                return events / clock.Elapsed.TotalSeconds;
            },
        ];
        foreach (var variant in variants)
            await variant(-1);
        var rates = await Measure.InterleavedAsync(Rounds, variants);
        var size = $"{events / 1000}k-events-{events / History}-records";
        report.Line(
            $"follower-catch-up-vs-raw-read/{database}",
            rates[1] / rates[0],
            Events(rates[1]),
            Events(rates[0]) + ", " + size,
            (">=", 0.8)
        );
        report.Line(
            $"rebuild-vs-raw-read/{database}",
            rates[2] / rates[0],
            Events(rates[2]),
            Events(rates[0]) + ", " + size,
            (">=", 0.5)
        );
        await LiveLagAsync(database, db, report);
    }

    /// <summary>
    /// PostgreSQL: vacuums and analyzes the freshly loaded table before any variant reads it, as autovacuum does to
    /// any table in service. Without it the first reader sets every row's hint bits, the raw read has no statistics
    /// (it sorted the whole table, spilling 52 MB to disk at 200,000 events, instead of walking the position index),
    /// and autovacuum comes when it likes: at 1,000,000 events it vacuumed and analyzed the table in the middle of a
    /// run, changing the raw read's plan and taking a core from whichever variant it met.
    /// </summary>
    private static async Task SettleAsync(BenchDatabase db)
    {
        if (db.Store.Dialect != SqlDialect.PostgreSql)
            return;
        await using var connection = await db.Store.OpenConnectionAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = "VACUUM (ANALYZE) \"bench_events\"";
        command.CommandTimeout = 0;
        await command.ExecuteNonQueryAsync();
    }

    /// <summary>Every row of the events table, every column a follower reads, in position order: events/s.</summary>
    private static async Task<double> RawReadAsync(SpectorStore store)
    {
        var clock = Stopwatch.StartNew();
        await using var connection = await store.OpenConnectionAsync();
        await using var command = connection.CreateCommand();
        command.CommandText =
            "SELECT \"position\", \"id\", \"parent_id\", \"seq\", \"schema\", \"action\", \"payload\", "
            + "\"metadata\", \"inserted_at\" FROM \"bench_events\" ORDER BY \"position\"";
        long rows = 0,
            checksum = 0;
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            checksum +=
                reader.GetInt64(0)
                + reader.GetGuid(1).GetHashCode()
                + reader.GetGuid(2).GetHashCode()
                + reader.GetInt64(3)
                + reader.GetInt32(4)
                + reader.GetInt32(5)
                + reader.GetString(6).Length
                + (reader.IsDBNull(7) ? 0 : 1)
                + reader.GetValue(8).GetHashCode();
            rows++;
        }
        GC.KeepAlive(checksum);
        return rows / clock.Elapsed.TotalSeconds;
    }

    /// <summary>p99 of (delivery time - insert time) for a live follower while eight writers insert for three
    /// seconds.</summary>
    private static async Task LiveLagAsync(string database, BenchDatabase db, Report report)
    {
        var lags = new ConcurrentBag<double>();
        var follower = new Follower(
            new FollowerOptions("bench-live", BenchEvents.Log) { BatchSize = 500 },
            (e, _) =>
            {
                lags.Add((DateTimeOffset.UtcNow - e.Event.InsertedAt).TotalMilliseconds);
                return Task.CompletedTask;
            }
        );
        await follower.MigrateAsync();
        await follower.StartAtEndAsync();
        using var stop = new CancellationTokenSource();
        var running = follower.RunAsync(stop.Token);
        var writes = await Measure.ConcurrentRateAsync(8, TimeSpan.FromSeconds(3), Workloads.UnhashedAppends());
        while ((await follower.ReadStatusAsync()).LagEvents > 0)
            await Task.Delay(10);
        stop.Cancel();
        await running;
        var sorted = lags.Order().ToList();
        var p99 = sorted[(int)Math.Min(sorted.Count - 1, Math.Ceiling(sorted.Count * 0.99) - 1)];
        var p50 = sorted[sorted.Count / 2];
        report.Line(
            $"follower-live-lag-p99/{database}",
            p99,
            string.Create(
                CultureInfo.InvariantCulture,
                $"p99 {p99:F1} ms, p50 {p50:F1} ms over {sorted.Count:N0} events"
            ),
            string.Create(CultureInfo.InvariantCulture, $"8 writers at {writes:N0} ops/s"),
            database == "postgres" ? ("<=", 100) : null
        );
    }

    private static string Events(double perSecond) =>
        string.Create(CultureInfo.InvariantCulture, $"{perSecond:N0} events/s");
}
