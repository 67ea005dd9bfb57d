using System.Globalization;
using Spector.Benchmarks.Harness;
using Spector.Benchmarks.Model;

namespace Spector.Benchmarks.Quick;

/// <summary>
/// The quick comparison: every DESIGN.md section 7 ratio on one database, each variant measured in five
/// interleaved rounds and reduced to its median, sized to finish in a few minutes per database. Write samples are
/// long enough (1,500 inserts, 800 updates) that a WAL checkpoint (SQLite) or a slow fsync (PostgreSQL) weighs on
/// every sample about alike instead of deciding one ratio.
/// </summary>
internal static class QuickComparison
{
    private const int Rounds = 5;
    private const int HashedRounds = 9;
    private const int Updates = 800;

    /// <summary>Runs the parts <paramref name="runs"/> selects (insert, update, replay, hashed, contention,
    /// expected-seq).</summary>
    public static async Task RunAsync(string database, Report report, Func<string, bool> runs)
    {
        string[] parts = ["insert", "update", "replay", "hashed", "contention", "expected-seq"];
        if (!parts.Any(runs))
            return;
        await using var db = await BenchDatabase.OpenAsync(database);
        await db.ResetAsync();
        var w = new Workloads(db);

        // Warm-up: JIT, pools and the first-touch cost of each table.
        await Measure.RateAsync(50, w.SpectorInsertAsync);
        await Measure.RateAsync(50, w.SpectorHashedInsertAsync);
        await Measure.RateAsync(50, Workloads.RecordHashedAppends());
        await Measure.RateAsync(50, w.HandWrittenInsertAsync);
        await Measure.RateAsync(50, w.EfCoreInsertAsync);

        if (runs("insert"))
            await InsertAsync(database, w, report);
        if (runs("update"))
            await UpdateAsync(database, db, w, report);
        if (runs("replay"))
            await ReplayAsync(database, db, w, report);
        if (runs("hashed"))
            await HashedAsync(database, report);
        if (runs("contention"))
            await ContentionAsync(database, report);
        if (runs("expected-seq"))
            await ExpectedSeqAsync(database, report);
    }

    private static async Task InsertAsync(string database, Workloads w, Report report)
    {
        const int n = 1_500;
        var rates = await Measure.InterleavedAsync(
            Rounds,
            _ => Measure.RateAsync(n, w.SpectorInsertAsync),
            _ => Measure.RateAsync(n, w.HandWrittenInsertAsync),
            _ => Measure.RateAsync(n, w.EfCoreInsertAsync)
        );
        report.Throughput($"insert-vs-handwritten/{database}", rates[0], rates[1], atLeast: 0.9);
        report.Throughput($"insert-vs-efcore/{database}", rates[0], rates[2], atLeast: 1.5);
    }

    /// <summary>
    /// Updates on records with 10, 1,000 and 10,000 events, without and with savepoints. Each round gets fresh
    /// records, enough that the measured updates grow no history by more than about 5 %.
    /// </summary>
    private static async Task UpdateAsync(string database, BenchDatabase db, Workloads w, Report report)
    {
        var handWrittenIds = new List<Guid>();
        var efIds = new List<Guid>();
        for (var i = 0; i < 50; i++)
        {
            handWrittenIds.Add(await db.HandWritten.InsertAsync("owner", i));
            efIds.Add(await db.EfCore.InsertAsync("owner", i));
        }

        var histories = new[] { 10, 1_000, 10_000 };
        var variants = new List<Func<int, Task<double>>>();
        foreach (var savepoints in new[] { false, true })
        foreach (var history in histories)
        {
            // Without savepoints every update replays the whole history: fewer operations for the long ones.
            var n =
                savepoints || history == 10 ? Updates
                : history == 1_000 ? 30
                : 8;
            variants.Add(async _ =>
            {
                var ids = await Histories.LoadAsync(
                    db,
                    savepoints,
                    history,
                    Math.Clamp((int)Math.Ceiling(n * 20.0 / history), 1, n)
                );
                return await Measure.RateAsync(
                    n,
                    i => Workloads.SpectorUpdateAsync(ids[i % ids.Length], savepoints, i)
                );
            });
        }
        variants.Add(_ =>
            Measure.RateAsync(Updates, i => w.HandWrittenUpdateAsync(handWrittenIds[i % handWrittenIds.Count], i))
        );
        variants.Add(_ => Measure.RateAsync(Updates, i => w.EfCoreUpdateAsync(efIds[i % efIds.Count], i)));
        var rates = await Measure.InterleavedAsync(Rounds, [.. variants]);
        var (handWritten, efCore) = (rates[6], rates[7]);

        report.Throughput($"update-10-vs-efcore/{database}", rates[0], efCore, atLeast: 1.5);
        for (var i = 0; i < 6; i++)
        {
            // Targets: an update of a short history, and of any history once savepoints bound the replay.
            double? target = i == 0 || (i >= 3 && histories[i % 3] != 1_000) ? 0.8 : null;
            report.Throughput(
                $"update{(i >= 3 ? "-savepoints" : "")}-{histories[i % 3]}-vs-handwritten/{database}",
                rates[i],
                handWritten,
                target
            );
        }
        report.Cost($"update-savepoints-10000-vs-10/{database}", 1000 / rates[5], 1000 / rates[3], atMost: 1.5);
        report.Cost($"update-10000-vs-10/{database}", 1000 / rates[2], 1000 / rates[0]);
    }

    private static async Task ReplayAsync(string database, BenchDatabase db, Workloads w, Report report)
    {
        var id = (await Histories.LoadAsync(db, savepoints: false, 10_000, 1))[0];
        await Workloads.SpectorReplayAsync(id);
        await w.HandWrittenReadAsync(id);
        var rates = await Measure.InterleavedAsync(
            Rounds,
            _ => Measure.RateAsync(10, _ => Workloads.SpectorReplayAsync(id)),
            _ => Measure.RateAsync(10, _ => w.HandWrittenReadAsync(id))
        );
        report.Throughput($"replay-10000-vs-dapper-read/{database}", rates[0], rates[1], atLeast: 0.9);
    }

    /// <summary>
    /// Chained appends (inserts and updates, <see cref="Workloads.Appends"/>) against unhashed ones, with one
    /// chain over the table and with per-record chains.
    /// </summary>
    private static async Task HashedAsync(string database, Report report)
    {
        // Longer and more rounds than the other parts: eight SQLite writers sleep in the busy handler at random, and
        // with 0.6 s x 5 rounds two identical variants came out up to 0.10 apart.
        var duration = TimeSpan.FromSeconds(1);
        foreach (var writers in new[] { 1, 8 })
        {
            var rates = await Measure.InterleavedAsync(
                HashedRounds,
                _ => Measure.ConcurrentRateAsync(writers, duration, Workloads.TableHashedAppends()),
                _ => Measure.ConcurrentRateAsync(writers, duration, Workloads.RecordHashedAppends()),
                _ => Measure.ConcurrentRateAsync(writers, duration, Workloads.UnhashedAppends())
            );
            var suffix = $"{writers}-writer{(writers > 1 ? "s" : "")}/{database}";
            report.Throughput($"hashed-vs-unhashed-{suffix}", rates[0], rates[2], atLeast: writers == 8 ? 0.5 : null);
            report.Throughput(
                $"record-hashed-vs-unhashed-{suffix}",
                rates[1],
                rates[2],
                atLeast: writers == 8 ? 0.95 : null
            );
        }
        if (database != "sqlite")
            return;
        // The per-record chain's own cost, without the 8-writer line's scheduling noise: SQLite runs in this process,
        // so its CPU time is the whole write. Identical variants measured this way agree within about 1.5 %.
        var cpu = await Measure.PairedCpuAsync(
            rounds: 40,
            block: 600,
            Workloads.RecordHashedAppends(),
            Workloads.UnhashedAppends()
        );
        report.Line(
            $"record-hashed-vs-unhashed-cpu-per-write/{database}",
            cpu.PairedRatio,
            CpuPerWrite(cpu.A),
            CpuPerWrite(cpu.B)
        );
    }

    private static string CpuPerWrite(double micros) =>
        string.Create(CultureInfo.InvariantCulture, $"{micros:F1} us CPU/write");

    /// <summary>
    /// 32 writers updating one record against 1 writer updating one record (ops/s). Writers queue on the record's
    /// head row, so the rate should hold; savepoints keep the replay short as the history grows.
    /// </summary>
    private static async Task ContentionAsync(string database, Report report)
    {
        var duration = TimeSpan.FromSeconds(0.6);
        async Task<double> RunAsync(int writers)
        {
            var id = (await SavedAccount.InsertAsync(new Attrs { ["owner"] = "owner", ["balance"] = 0 })).Id;
            return await Measure.ConcurrentRateAsync(
                writers,
                duration,
                i => Workloads.SpectorUpdateAsync(id, savepoints: true, i)
            );
        }
        var rates = await Measure.InterleavedAsync(Rounds, _ => RunAsync(32), _ => RunAsync(1));
        report.Throughput($"contention-32-vs-1-writer/{database}", rates[0], rates[1], atLeast: 0.8);
    }

    /// <summary>Updates that state the seq they expect against the same updates without, on fresh records.</summary>
    private static async Task ExpectedSeqAsync(string database, Report report)
    {
        const int n = 200;
        async Task<double> RunAsync(bool expected)
        {
            var id = (await Account.InsertAsync(new Attrs { ["owner"] = "owner", ["balance"] = 0 })).Id;
            return await Measure.RateAsync(
                n,
                i =>
                    new Account { Id = id }.UpdateAsync(
                        new Attrs { ["balance"] = i },
                        expected ? new WriteOptions { ExpectedSeq = i + 1 } : null
                    )
            );
        }
        var rates = await Measure.InterleavedAsync(
            Rounds,
            _ => RunAsync(expected: true),
            _ => RunAsync(expected: false)
        );
        report.Throughput($"update-expected-seq-vs-update/{database}", rates[0], rates[1]);
    }
}
