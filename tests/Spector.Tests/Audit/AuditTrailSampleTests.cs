namespace Spector.Tests;

/// <summary>samples/AuditTrail runs its whole tour on both databases and prints what the audit trail knows.</summary>
[TestFixture(Db.Sqlite)]
[TestFixture(Db.Postgres)]
public sealed class AuditTrailSampleTests(Db db) : DatabaseTest(db)
{
    [Test]
    public async Task The_sample_prints_the_timeline_field_history_as_of_state_causation_chain_and_bucket_chart()
    {
        var output = new StringWriter();
        await AuditTrailSample.Demo.RunAsync(Log.Store, output);
        var text = output.ToString();

        Assert.That(text, Does.Contain("user:bob    reprice  Product  summer sale"));
        Assert.That(text, Does.Contain("Bob's events: reprice\n"));
        Assert.That(text, Does.Contain("seq 2 reprice  by bob    price: 40 -> 35"));
        Assert.That(text, Does.Contain("seq 3 update   by alice  stock: 10 -> 8"));
        Assert.That(text, Does.Match(@"before the sale\): price 40, stock 10"));
        var chain = text[
            text.IndexOf("Caused by order", StringComparison.Ordinal)..text.IndexOf(
                "Events per hour",
                StringComparison.Ordinal
            )
        ];
        var trace = System.Text.RegularExpressions.Regex.Match(chain, @"\(trace ([0-9a-f]{32})\)").Groups[1].Value;
        Assert.That(chain.Split('\n').Count(line => line.Contains($"trace {trace}")), Is.EqualTo(4), chain);
        Assert.That(
            chain,
            Does.Contain("insert   Order").And.Contain("update   Product").And.Contain("ship     Order")
        );
        // Five events over the chart's hours (two bars when the tour straddles an hour), each bar as long as its count.
        var bars = System.Text.RegularExpressions.Regex.Matches(
            text[text.IndexOf("Events per hour", StringComparison.Ordinal)..],
            @"\n  \d\d:\d\d (#*) +(\d+)"
        );
        Assert.That(bars, Has.Count.EqualTo(3));
        Assert.That(bars.Sum(bar => int.Parse(bar.Groups[2].Value)), Is.EqualTo(5));
        Assert.That(bars.All(bar => bar.Groups[1].Length == int.Parse(bar.Groups[2].Value)), Is.True);
    }
}
