using System.Globalization;

namespace Spector.Benchmarks.Harness;

/// <summary>
/// Prints one line per comparison, <c>ratio &lt;name&gt; &lt;spector/baseline&gt; (&lt;spector&gt; vs
/// &lt;baseline&gt;)</c>,
/// and at the end how each ratio stands against its DESIGN.md target.
/// </summary>
internal sealed class Report
{
    private readonly List<string> _targets = [];

    /// <summary>Higher is better for both figures (operations per second).</summary>
    public void Throughput(string name, double spector, double baseline, double? atLeast = null) =>
        Line(name, spector / baseline, Ops(spector), Ops(baseline), atLeast is null ? null : (">=", atLeast.Value));

    /// <summary>Lower is better for both figures (milliseconds per operation).</summary>
    public void Cost(string name, double spectorMs, double baselineMs, double? atMost = null) =>
        Line(name, spectorMs / baselineMs, Ms(spectorMs), Ms(baselineMs), atMost is null ? null : ("<=", atMost.Value));

    public void Line(
        string name,
        double ratio,
        string spector,
        string baseline,
        (string Op, double Bound)? target = null
    )
    {
        Console.WriteLine(
            string.Create(CultureInfo.InvariantCulture, $"ratio {name} {ratio:F2} ({spector} vs {baseline})")
        );
        if (target is not { } t)
            return;
        var met = t.Op == ">=" ? ratio >= t.Bound : ratio <= t.Bound;
        _targets.Add(
            string.Create(
                CultureInfo.InvariantCulture,
                $"target {name} {t.Op} {t.Bound:F2}: {(met ? "met" : "MISSED")} ({ratio:F2})"
            )
        );
    }

    public void PrintTargets()
    {
        foreach (var line in _targets)
            Console.WriteLine(line);
    }

    public static string Ops(double perSecond) => string.Create(CultureInfo.InvariantCulture, $"{perSecond:N0} ops/s");

    public static string Ms(double ms) => string.Create(CultureInfo.InvariantCulture, $"{ms:F2} ms");
}
