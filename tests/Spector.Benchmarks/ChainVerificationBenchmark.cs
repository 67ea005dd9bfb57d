using System.Diagnostics;
using System.Globalization;
using Spector.Benchmarks.Harness;

namespace Spector.Benchmarks;

/// <summary>
/// Verifies a hash chain of N events and reports events per second and the memory held while verifying.
/// The chain is bulk-loaded with correct hashes (COPY on PostgreSQL, batched inserts on SQLite): verification
/// reads rows the same way however they were written, and loading a million events one commit at a time
/// would measure the disk, not the verifier.
/// </summary>
internal static class ChainVerificationBenchmark
{
    private const string Table = "bench_chain";
    private const int EventsPerRecord = 10;

    public sealed record Result(
        string Database,
        long Events,
        double LoadSeconds,
        double VerifySeconds,
        long PeakManagedBytes,
        long PeakWorkingSetBytes
    )
    {
        public double EventsPerSecond => Events / VerifySeconds;

        public override string ToString() =>
            string.Create(
                CultureInfo.InvariantCulture,
                $"verify-chain {Database, -10} {Events, 9:N0} events: "
                    + $"{EventsPerSecond, 9:N0} events/s ({VerifySeconds:F1} s), "
                    + $"peak live heap {PeakManagedBytes / 1048576.0:F1} MiB, "
                    + $"peak working set {PeakWorkingSetBytes / 1048576.0:F1} MiB (load {LoadSeconds:F1} s)"
            );
    }

    public static async Task<Result> RunAsync(string database, SpectorStore store, long events)
    {
        var log = new EventLog(Table, [new EventSchemaInfo(0, "Bench")], [], hashed: true);
        log.Use(store);
        await log.MigrateDownAsync();
        await log.MigrateUpAsync(appendOnly: false);

        var load = Stopwatch.StartNew();
        await EventRowLoader.LoadAsync(store, Table, hashed: true, Chain(events));
        load.Stop();

        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        long peakManaged = 0,
            peakWorkingSet = 0;
        using var sampling = new CancellationTokenSource();
        // The heap is measured after a full collection: what verification keeps alive, not how much garbage the
        // allocator let pile up before its next gen-0 collection (that varied by half between runs).
        var sampler = Task.Run(async () =>
        {
            while (!sampling.IsCancellationRequested)
            {
                peakManaged = Math.Max(peakManaged, GC.GetTotalMemory(forceFullCollection: true));
                peakWorkingSet = Math.Max(peakWorkingSet, Environment.WorkingSet);
                await Task.Delay(100);
            }
        });
        var verify = Stopwatch.StartNew();
        var report = await log.VerifyHashChainAsync();
        verify.Stop();
        sampling.Cancel();
        await sampler;

        if (!report.IsValid || report.EventsChecked != events)
            throw new InvalidOperationException(
                $"verification failed: {report.FirstBreak?.Message} ({report.EventsChecked} events)"
            );
        await log.MigrateDownAsync();
        return new Result(
            database,
            events,
            load.Elapsed.TotalSeconds,
            verify.Elapsed.TotalSeconds,
            peakManaged,
            peakWorkingSet
        );
    }

    /// <summary>The chain's rows in order: 10 events per record, a ~150-byte payload each, hashes chained as Spector
    /// writes them.</summary>
    private static IEnumerable<EventRow> Chain(long events)
    {
        var previous = new byte[32];
        var start = new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);
        var parent = Guid.Empty;
        for (long i = 0; i < events; i++)
        {
            var seq = i % EventsPerRecord + 1;
            var id = Guid.CreateVersion7();
            if (seq == 1)
                parent = id;
            var at = start.AddTicks(i * 10);
            var payload = string.Create(
                CultureInfo.InvariantCulture,
                $$"""{"__version__":1,"__event_id__":"{{id}}","amount":{{i % 1000}}.25,"memo":"payment {{i}} ✓","""
                    + $$"""
                    "updated_at":"{{AttrConvert.FormatTimestamp(at)}}"}
                    """
            );
            var action = seq == 1 ? EventActions.Insert : EventActions.Update;
            var hash = EventHash.Compute(previous, id, parent, seq, 0, action, at, payload, null);
            previous = hash;
            yield return new EventRow(id, parent, seq, 0, action, payload, at, hash);
        }
    }
}
