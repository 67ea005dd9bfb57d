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
        "\"text\"",
        "\"\"",
        "12",
        "-3",
        "12.5",
        "1e3",
        "99999999999",
        "true",
        "false",
        "null",
        "{}",
        "[1,2]",
        "\"2026-01-02T03:04:05.123456Z\"",
        "\"0f8fad5b-d9cb-469f-a165-70867728950e\"",
        "\"Friday\"",
        "5",
        "\"Someday\"",
    ];

    private static readonly (
        string Name,
        Func<JsonNode?, object?> FromNode,
        Func<JsonElement, object?> FromStored
    )[] Conversions =
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
        (
            "Object",
            n => AttrConvert.ToObject<int[]>(n) is { } a ? string.Join(",", a) : null,
            e => AttrConvert.ToObject<int[]>(e) is { } a ? string.Join(",", a) : null
        ),
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
            if (!viaNode.StartsWith("threw", StringComparison.Ordinal))
                converted++;
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

    [TestCase("\"12345678901234.5678\"")]
    [TestCase("12345678901234.5678")]
    public void Decimals_read_from_strings_and_from_numbers_older_versions_stored(string json)
    {
        Assert.That(AttrConvert.ToDecimal(JsonElement.Parse(json)), Is.EqualTo(12345678901234.5678m));
        Assert.That(AttrConvert.ToDecimal(JsonNode.Parse(json)), Is.EqualTo(12345678901234.5678m));
    }

    [TestCase("\"9007199254740993\"")]
    [TestCase("9007199254740993")]
    public void Longs_past_two_to_the_53_read_from_both_forms(string json) =>
        Assert.That(AttrConvert.ToInt64(JsonElement.Parse(json)), Is.EqualTo(9_007_199_254_740_993L));

    [TestCase("\"2026-03-08T02:30:00\"", "2026-03-08T02:30:00.0000000+00:00")]
    [TestCase("\"2026-03-08T02:30:00Z\"", "2026-03-08T02:30:00.0000000+00:00")]
    [TestCase("\"2026-03-08T02:30:00+09:00\"", "2026-03-08T02:30:00.0000000+09:00")]
    [TestCase("\"2026-11-30 15:52:16.184428+00:00\"", "2026-11-30T15:52:16.1844280+00:00")]
    [TestCase("\"2026-11-30 15:52:16.184428\"", "2026-11-30T15:52:16.1844280+00:00")]
    public void Times_without_an_offset_are_utc_and_sqlite_record_table_text_is_read(string json, string expected)
    {
        var value = AttrConvert.ToDateTimeOffset(JsonElement.Parse(json));
        Assert.That(value.ToString("O", System.Globalization.CultureInfo.InvariantCulture), Is.EqualTo(expected));
        Assert.That(AttrConvert.ToDateTime(JsonNode.Parse(json)).Kind, Is.EqualTo(DateTimeKind.Utc));
    }

    [TestCase("1e400", "Double")]
    [TestCase("-1e400", "Double")]
    [TestCase("1e40", "Single")]
    [TestCase("99", "Enum")]
    [TestCase("\"99\"", "Enum")]
    [TestCase("\"friday\"", "Enum")]
    [TestCase("\" Friday\"", "Enum")]
    [TestCase("\"1.5.2\"", "Decimal")]
    [TestCase("\"1e5\"", "Int64")]
    public void Values_that_do_not_fit_are_refused_in_spectors_words(string json, string type)
    {
        Func<object?> convert = type switch
        {
            "Double" => () => AttrConvert.ToDouble(JsonElement.Parse(json)),
            "Single" => () => AttrConvert.ToSingle(JsonElement.Parse(json)),
            "Decimal" => () => AttrConvert.ToDecimal(JsonElement.Parse(json)),
            "Int64" => () => AttrConvert.ToInt64(JsonElement.Parse(json)),
            _ => () => AttrConvert.ToEnum<DayOfWeek>(JsonElement.Parse(json)),
        };
        var error = Assert.Throws<FormatException>(() => convert())!;
        Assert.That(error.Message, Does.Not.Contain("..").And.Not.Contain("System.").And.Not.EndWith("."));
    }

    [Test]
    public void Flags_combinations_of_defined_values_are_values_and_other_bits_are_not()
    {
        Assert.That(AttrConvert.ToEnum<Access>(JsonElement.Parse("3")), Is.EqualTo(Access.Read | Access.Write));
        Assert.That(
            AttrConvert.ToEnum<Access>(JsonElement.Parse("\"Read, Write\"")),
            Is.EqualTo(Access.Read | Access.Write)
        );
        Assert.Throws<FormatException>(() => AttrConvert.ToEnum<Access>(JsonElement.Parse("4")));
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
