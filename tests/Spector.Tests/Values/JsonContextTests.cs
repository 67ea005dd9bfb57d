using System.Text.Json;
using System.Text.Json.Serialization;

namespace Spector.Tests;

/// <summary>The metadata of the test model's non-scalar values, made at build time as an AOT app makes it.</summary>
[JsonSerializable(typeof(List<decimal>))]
[JsonSerializable(typeof(Dictionary<string, decimal>))]
internal sealed partial class ValueJson : JsonSerializerContext;

/// <summary>
/// An events table given a JsonSerializerContext (docs/aot.md) reads and writes non-scalar values through it, and
/// stores them in the same form as without it, so history does not depend on how the app was compiled.
/// </summary>
[TestFixture(Db.Sqlite)]
[TestFixture(Db.Postgres)]
public sealed class JsonContextTests(Db db) : DatabaseTest(db)
{
    private JsonSerializerOptions _before = null!;

    [SetUp]
    public void UseContext()
    {
        _before = ValueEvents.Log.JsonOptions;
        ValueEvents.Log.UseJson(ValueJson.Default);
    }

    [TearDown]
    public void RestoreOptions() => ValueEvents.Log.JsonOptions = _before;

    [Test]
    public void The_table_takes_its_metadata_from_the_context()
    {
        var typeInfo = ValueEvents.Log.JsonOptions.GetTypeInfo(typeof(List<decimal>));
        Assert.That(typeInfo.OriginatingResolver, Is.SameAs(ValueJson.Default));
        Assert.That(_before.GetTypeInfo(typeof(List<decimal>)).OriginatingResolver, Is.Not.SameAs(ValueJson.Default));
    }

    [Test]
    public async Task Lists_written_through_the_context_keep_their_stored_form_and_replay()
    {
        var sample = await Sample.InsertAsync(
            new Attrs
            {
                ["text"] = "t",
                ["prices"] = ValueEvents.Log.ToNode(new List<decimal> { 1.50m, 3m }),
                ["free"] = ValueEvents.Log.ToNode(new Dictionary<string, decimal> { ["a"] = 1.10m, ["z"] = 2m }),
            }
        );
        await sample.RepriceAsync(7, [2.000m, 0.1000000000000000055m], 'x');

        var events = await Sample.AllEventsAsync(sample.Id);
        Assert.That(
            Text(events[0].Payload, "prices"),
            Is.EqualTo("""["1.50","3"]"""),
            "decimals as strings, as without it"
        );
        Assert.That(Text(events[0].Payload, "free"), Is.EqualTo("""{"a":"1.10","z":"2"}"""));
        Assert.That(Text(events[1].Payload, "prices"), Is.EqualTo("""["2.000","0.1000000000000000055"]"""));
        var replayed = (await Sample.GetAsync(sample.Id))!;
        Assert.That(
            replayed.Prices.Select(decimal.GetBits),
            Is.EqualTo(new[] { 2.000m, 0.1000000000000000055m }.Select(decimal.GetBits)),
            "every digit and the scale"
        );
        Assert.That((await ValueEvents.Log.VerifyHashChainAsync()).IsValid, Is.True);
    }

    [Test]
    public async Task Dictionaries_with_string_keys_read_back_with_and_without_the_context()
    {
        var sample = await Sample.InsertAsync(
            new Attrs
            {
                ["text"] = "t",
                ["free"] = ValueEvents.Log.ToNode(new Dictionary<string, decimal> { ["a"] = 1.10m, ["b"] = 2m }),
            }
        );
        var stored = (await Sample.AllEventsAsync(sample.Id))[0].Payload.GetProperty("free");

        var expected = new Dictionary<string, decimal> { ["a"] = 1.10m, ["b"] = 2m };
        Assert.That(
            AttrConvert.ToObject<Dictionary<string, decimal>>(stored, ValueEvents.Log.JsonOptions),
            Is.EqualTo(expected)
        );
        Assert.That(AttrConvert.ToObject<Dictionary<string, decimal>>(stored), Is.EqualTo(expected));
    }

    [Test]
    public async Task A_dictionary_key_that_is_not_unicode_text_is_refused_and_nothing_is_stored()
    {
        var refused = Assert.ThrowsAsync<ChangesetInvalidException>(() =>
            Sample.InsertAsync(
                new Attrs
                {
                    ["text"] = "t",
                    ["free"] = ValueEvents.Log.ToNode(new Dictionary<string, decimal> { ["\ud800"] = 1m }),
                }
            )
        );
        Assert.That(refused!.Errors.Keys, Is.EqualTo(new[] { "free" }));
        Assert.That(refused.Errors["free"][0], Does.Contain("surrogate"));
        await using var connection = await ValueEvents.Log.Store.OpenConnectionAsync();
        await using var count = connection.CreateCommand();
        count.CommandText = "SELECT COUNT(*) FROM value_events";
        Assert.That(Convert.ToInt64(await count.ExecuteScalarAsync()), Is.Zero);
    }

    private static string Text(JsonElement payload, string key) =>
        System.Text.Json.Nodes.JsonNode.Parse(payload.GetProperty(key).GetRawText())!.ToJsonString();
}
