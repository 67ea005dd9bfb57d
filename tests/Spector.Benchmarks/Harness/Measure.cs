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

    public static double Median(List<double> values)
    {
        values.Sort();
        return values.Count % 2 == 1
            ? values[values.Count / 2]
            : (values[values.Count / 2 - 1] + values[values.Count / 2]) / 2;
    }
}
