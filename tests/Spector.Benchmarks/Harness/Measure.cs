using System.Diagnostics;

namespace Spector.Benchmarks.Harness;

/// <summary>Throughput of an operation: run sequentially a fixed number of times, or by several writers for a fixed
/// time.</summary>
internal static class Measure
{
    /// <summary>Operations per second of <paramref name="count"/> sequential calls.</summary>
    public static async Task<double> RateAsync(int count, Func<int, Task> operation)
    {
        var clock = Stopwatch.StartNew();
        for (var i = 0; i < count; i++)
            await operation(i);
        return count / clock.Elapsed.TotalSeconds;
    }

    /// <summary>Operations per second of <paramref name="writers"/> concurrent loops over <paramref
    /// name="duration"/>.</summary>
    public static async Task<double> ConcurrentRateAsync(int writers, TimeSpan duration, Func<int, Task> operation)
    {
        long done = 0;
        var clock = Stopwatch.StartNew();
        await Task.WhenAll(
            Enumerable
                .Range(0, writers)
                .Select(w =>
                    Task.Run(async () =>
                    {
                        for (var i = 0; clock.Elapsed < duration; i++)
                        {
                            await operation(w * 1_000_000 + i);
                            Interlocked.Increment(ref done);
                        }
                    })
                )
        );
        return done / clock.Elapsed.TotalSeconds;
    }

    /// <summary>
    /// Runs each variant once per round, in forward then reverse order, and returns each variant's median: the
    /// machine's drift and any warm-up hit all variants alike.
    /// </summary>
    public static async Task<double[]> InterleavedAsync(int rounds, params Func<int, Task<double>>[] variants)
    {
        var results = variants.Select(_ => new List<double>()).ToArray();
        for (var round = 0; round < rounds; round++)
        {
            var order = Enumerable.Range(0, variants.Length);
            foreach (var v in round % 2 == 0 ? order : order.Reverse())
                results[v].Add(await variants[v](round));
        }
        return results.Select(Median).ToArray();
    }

    /// <summary>
    /// CPU time per call of two operations, run by one writer in alternating blocks of <paramref name="block"/> calls
    /// for <paramref name="rounds"/> rounds: each variant's median microseconds per call, and the median of the
    /// per-round ratios <c>b / a</c>. Pairing each block with its neighbour cancels the machine's drift, and CPU time
    /// (getrusage, microsecond resolution) leaves out time spent waiting; it is the whole cost of a write only for an
    /// engine in the process, such as SQLite.
    /// </summary>
    public static async Task<(double A, double B, double PairedRatio)> PairedCpuAsync(
        int rounds,
        int block,
        Func<int, Task> a,
        Func<int, Task> b
    )
    {
        var (costsA, costsB, ratios) = (new List<double>(), new List<double>(), new List<double>());
        var next = 0;
        async Task<double> MicrosPerCallAsync(Func<int, Task> operation)
        {
            var start = Environment.CpuUsage.TotalTime;
            for (var i = 0; i < block; i++)
                await operation(next++);
            return (Environment.CpuUsage.TotalTime - start).TotalMicroseconds / block;
        }
        for (var round = 0; round < rounds; round++)
        {
            double costA,
                costB;
            if (round % 2 == 0)
                (costA, costB) = (await MicrosPerCallAsync(a), await MicrosPerCallAsync(b));
            else
                (costB, costA) = (await MicrosPerCallAsync(b), await MicrosPerCallAsync(a));
            costsA.Add(costA);
            costsB.Add(costB);
            ratios.Add(costB / costA);
        }
        return (Median(costsA), Median(costsB), Median(ratios));
    }

    public static double Median(List<double> values)
    {
        values.Sort();
        return values.Count % 2 == 1
            ? values[values.Count / 2]
            : (values[values.Count / 2 - 1] + values[values.Count / 2]) / 2;
    }
}
