using System.Text.Json;
using System.Text.Json.Nodes;

namespace Spector.Tests;

/// <summary>
/// Replay converts stored payload values straight from the parsed JSON; a write converts nodes. Both forms must
/// accept the same values, produce the same results and refuse with the same exception types.
/// </summary>
public sealed class AttrConvertTests
{
    private static readonly string[] StoredValues =
    [
        "\"text\"", "\"\"", "12", "-3", "12.5", "1e3", "99999999999", "true", "false", "null", "{}", "[1,2]",
        "\"2026-01-02T03:04:05.123456Z\"", "\"0f8fad5b-d9cb-469f-a165-70867728950e\"", "\"Friday\"", "5", "\"Someday\"",
    ];

    private static readonly (string Name, Func<JsonNode?, object?> FromNode, Func<JsonElement, object?> FromStored)[] Conversions =
    [
        ("String", n => AttrConvert.ToString(n), e => AttrConvert.ToString(e)),
        ("NullableString", n => AttrConvert.ToNullableString(n), e => AttrConvert.ToNullableString(e)),
        ("Boolean", n => AttrConvert.ToBoolean(n), e => AttrConvert.ToBoolean(e)),
        ("NullableBoolean", n => AttrConvert.ToNullableBoolean(n), e => AttrConvert.ToNullableBoolean(e)),
        ("Int16", n => AttrConvert.ToInt16(n), e => AttrConvert.ToInt16(e)),
        ("Int32", n => AttrConvert.ToInt32(n), e => AttrConvert.ToInt32(e)),
        ("NullableInt32", n => AttrConvert.ToNullableInt32(n), e => AttrConvert.ToNullableInt32(e)),
        ("Int64", n => AttrConvert.ToInt64(n), e => AttrConvert.ToInt64(e)),
        ("Single", n => AttrConvert.ToSingle(n), e => AttrConvert.ToSingle(e)),
        ("Double", n => AttrConvert.ToDouble(n), e => AttrConvert.ToDouble(e)),
        ("Decimal", n => AttrConvert.ToDecimal(n), e => AttrConvert.ToDecimal(e)),
        ("NullableDecimal", n => AttrConvert.ToNullableDecimal(n), e => AttrConvert.ToNullableDecimal(e)),
        ("Guid", n => AttrConvert.ToGuid(n), e => AttrConvert.ToGuid(e)),
        ("DateTimeOffset", n => AttrConvert.ToDateTimeOffset(n), e => AttrConvert.ToDateTimeOffset(e)),
        ("NullableDateTime", n => AttrConvert.ToNullableDateTime(n), e => AttrConvert.ToNullableDateTime(e)),
        ("Enum", n => AttrConvert.ToEnum<DayOfWeek>(n), e => AttrConvert.ToEnum<DayOfWeek>(e)),
        ("NullableEnum", n => AttrConvert.ToNullableEnum<DayOfWeek>(n), e => AttrConvert.ToNullableEnum<DayOfWeek>(e)),
        ("Object", n => AttrConvert.ToObject<int[]>(n) is { } a ? string.Join(",", a) : null,
            e => AttrConvert.ToObject<int[]>(e) is { } a ? string.Join(",", a) : null),
    ];

    [Test]
    public void Stored_values_convert_exactly_as_their_nodes_do()
    {
        var compared = 0;
        var converted = 0;
        foreach (var json in StoredValues)
        foreach (var (name, fromNode, fromStored) in Conversions)
        {
            var viaNode = Outcome(() => fromNode(JsonNode.Parse(json)));
            var viaStored = Outcome(() => fromStored(JsonElement.Parse(json)));
            Assert.That(viaStored, Is.EqualTo(viaNode), $"{name} of {json}");
            compared++;
            if (!viaNode.StartsWith("threw", StringComparison.Ordinal)) converted++;
        }
        // The table exercises both sides: values that convert and values that are refused.
        Assert.That(converted, Is.GreaterThan(40).And.LessThan(compared - 100));
    }

    [Test]
    public void Reading_a_stored_payload_does_not_change_what_the_node_api_sees()
    {
        var attrs = Attrs.Parse("""{"__version__":2,"name":"Ann","age":null}""");

        Assert.That(attrs.ContainsKey("age"), Is.True);
        Assert.That(attrs.ContainsKey("email"), Is.False);
        Assert.That(attrs.Get<string>("name"), Is.EqualTo("Ann"));
        attrs.Rename("name", "full_name");
        Assert.That(attrs.ContainsKey("name"), Is.False);
        Assert.That(attrs.ToString(), Is.EqualTo("""{"__version__":2,"age":null,"full_name":"Ann"}"""));
    }

    private static string Outcome(Func<object?> convert)
    {
        try
        {
            return $"value {Convert.ToString(convert(), System.Globalization.CultureInfo.InvariantCulture) ?? "null"}";
        }
        catch (Exception e)
        {
            return $"threw {e.GetType().Name}";
        }
    }
}
