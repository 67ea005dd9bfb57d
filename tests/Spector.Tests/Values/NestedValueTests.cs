using System.Numerics;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Spector.Tests;

/// <summary>A value nested in a collection, dictionary or object is stored in the form it has as an
/// attribute.</summary>
[TestFixture(Db.Sqlite)]
[TestFixture(Db.Postgres)]
public sealed class NestedValueTests(Db db) : DatabaseTest(db)
{
    public sealed record Inner(decimal Money, DateTime At, long Count, BigInteger Big, Plan Plan);

    private static readonly DateTime LocalTime = new(2026, 3, 8, 2, 30, 0, DateTimeKind.Local);

    [Test]
    public async Task Nested_values_keep_decimal_scale_utc_times_and_big_integers_as_strings()
    {
        var unspecified = new DateTime(2026, 3, 8, 2, 30, 0, DateTimeKind.Unspecified);
        var sample = await Sample.InsertAsync(
            new Attrs
            {
                ["text"] = "n",
                ["prices"] = JsonValue.Create(new List<decimal> { 1.50m, 3m, 0.1000000000000000055m }),
                ["free"] = JsonValue.Create(new Dictionary<string, decimal> { ["a"] = 1.10m }),
                ["extra"] = JsonValue.Create(
                    new Inner(1.50m, LocalTime, 9_007_199_254_740_993, BigInteger.Pow(10, 30), Plan.Pro)
                ),
                ["times"] = JsonValue.Create(new[] { LocalTime, unspecified }),
            }
        );

        var payload = (await Sample.AllEventsAsync(sample.Id))[0].Payload;
        Assert.That(Text(payload, "prices"), Is.EqualTo("""["1.50","3","0.1000000000000000055"]"""));
        Assert.That(Text(payload, "free"), Is.EqualTo("""{"a":"1.10"}"""));
        var utc = LocalTime.ToUniversalTime().ToString("yyyy-MM-dd'T'HH:mm:ss'Z'");
        Assert.That(payload.GetProperty("extra").GetProperty("Money").GetString(), Is.EqualTo("1.50"));
        Assert.That(payload.GetProperty("extra").GetProperty("At").GetString(), Is.EqualTo(utc), "a UTC instant");
        Assert.That(payload.GetProperty("extra").GetProperty("Count").GetString(), Is.EqualTo("9007199254740993"));
        Assert.That(payload.GetProperty("extra").GetProperty("Big").GetString(), Is.EqualTo("1" + new string('0', 30)));
        Assert.That(payload.GetProperty("extra").GetProperty("Plan").GetString(), Is.EqualTo("Pro"), "by name");
        Assert.That(
            Text(payload, "times"),
            Is.EqualTo($"""["{utc}","2026-03-08T02:30:00Z"]"""),
            "unspecified is UTC, as at the top level"
        );

        var replayed = (await Sample.GetAsync(sample.Id))!;
        Assert.That(
            replayed.Prices.Select(decimal.GetBits),
            Is.EqualTo(new[] { 1.50m, 3m, 0.1000000000000000055m }.Select(decimal.GetBits)),
            "every digit and the scale"
        );
        var inner = AttrConvert.ToObject<Inner>(payload.GetProperty("extra"))!;
        Assert.That(
            inner,
            Is.EqualTo(
                new Inner(1.50m, LocalTime.ToUniversalTime(), 9_007_199_254_740_993, BigInteger.Pow(10, 30), Plan.Pro)
            )
        );
        Assert.That(inner.At.Kind, Is.EqualTo(DateTimeKind.Utc));
        Assert.That((await ValueEvents.Log.VerifyHashChainAsync()).IsValid, Is.True);
    }

    [Test]
    public async Task A_typed_action_takes_big_integer_and_collection_parameters_in_their_stored_forms()
    {
        var sample = await Sample.InsertAsync(new Attrs { ["text"] = "t" });
        var big = BigInteger.Parse("-123456789012345678901234567890");

        var repriced = await sample.RepriceAsync(big, [1.50m, 2.000m], 'é');

        var payload = (await Sample.AllEventsAsync(sample.Id))[1].Payload;
        Assert.That(payload.GetProperty("big").GetString(), Is.EqualTo(big.ToString()));
        Assert.That(Text(payload, "prices"), Is.EqualTo("""["1.50","2.000"]"""));
        var replayed = (await Sample.GetAsync(sample.Id))!;
        Assert.That(replayed.Big, Is.EqualTo(big));
        Assert.That(replayed.Prices.Select(decimal.GetBits), Is.EqualTo(repriced.Prices.Select(decimal.GetBits)));
        Assert.That(
            replayed.Prices.Select(decimal.GetBits),
            Is.EqualTo(new[] { 1.50m, 2.000m }.Select(decimal.GetBits))
        );
        Assert.That(replayed.Text, Is.EqualTo("é"));
    }

    private static IEnumerable<TestCaseData> Unserializable()
    {
        TestCaseData Case(string name, string field, Func<Attrs> attrs) =>
            new TestCaseData(field, attrs).SetName($"{{m}}({name})");
        yield return Case(
            "NaN in a list",
            "dbls",
            () => new() { ["dbls"] = JsonValue.Create(new List<double> { 1, double.NaN }) }
        );
        yield return Case(
            "NaN in an object",
            "obj",
            () => new() { ["obj"] = JsonValue.Create(new Dictionary<string, float> { ["x"] = float.PositiveInfinity }) }
        );
        yield return Case("lone surrogate key", "raw", () => new() { ["raw"] = JsonNode.Parse("{\"\\udfff\":1}") });
        yield return Case(
            "lone surrogate in a nested string",
            "obj",
            () => new() { ["obj"] = JsonValue.Create(new[] { "ok", "a\uD800" }) }
        );
    }

    [TestCaseSource(nameof(Unserializable))]
    public async Task A_value_that_cannot_be_serialized_is_refused_naming_its_field(string field, Func<Attrs> attrs)
    {
        var sample = await Sample.InsertAsync(new Attrs { ["text"] = "s" });
        var before = await CountAsync("value_events");

        var error = Assert.ThrowsAsync<ChangesetInvalidException>(() => sample.UpdateAsync(attrs()))!;

        Assert.That(error.Errors.Keys, Is.EqualTo(new[] { field }));
        Assert.That(await CountAsync("value_events"), Is.EqualTo(before), "nothing written");
    }

    [Test]
    public async Task A_lone_surrogate_in_a_typed_char_parameter_is_refused()
    {
        var sample = await Sample.InsertAsync(new Attrs { ["text"] = "c" });
        var before = await CountAsync("value_events");

        var error = Assert.ThrowsAsync<ChangesetInvalidException>(() => sample.RepriceAsync(1, [], '\uD800'))!;

        Assert.That(error.Errors.Keys, Is.EqualTo(new[] { "mark" }));
        Assert.That(await CountAsync("value_events"), Is.EqualTo(before));
    }

    [Test]
    public async Task Savepoints_of_a_record_with_nested_decimals_prove_and_keep_it_writable()
    {
        var receipt = await Receipt.InsertAsync(
            new Attrs
            {
                ["customer"] = "Ann",
                ["total"] = 10m,
                ["lines"] = JsonValue.Create(new List<decimal> { 1.50m, 2.0m }),
            }
        );
        for (var i = 0; i < 6; i++)
            receipt = await receipt.RefundAsync(0.10m);

        var replayed = (await Receipt.GetAsync(receipt.Id))!;
        Assert.That(replayed.Refunded, Is.EqualTo(0.60m));
        Assert.That(replayed.Lines.Select(decimal.GetBits), Is.EqualTo(new[] { 1.50m, 2.0m }.Select(decimal.GetBits)));
        Assert.That((await ReceiptEvents.Log.VerifyHashChainAsync()).IsValid, Is.True);
    }

    private static string Text(JsonElement payload, string key) =>
        JsonNode.Parse(payload.GetProperty(key).GetRawText())!.ToJsonString();
}
