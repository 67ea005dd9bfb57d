using System.Text;

namespace Spector.Tests;

/// <summary>RFC 8785 canonical JSON, checked against the RFC's own examples.</summary>
public sealed class JcsTests
{
    private static string Canonical(string json) => Encoding.UTF8.GetString(Jcs.Canonicalize(json));

    /// <summary>RFC 8785 Appendix B: IEEE 754 bit patterns and their canonical text.</summary>
    [TestCase(0x0000000000000000UL, "0")]
    [TestCase(0x8000000000000000UL, "0")]
    [TestCase(0x0000000000000001UL, "5e-324")]
    [TestCase(0x8000000000000001UL, "-5e-324")]
    [TestCase(0x7fefffffffffffffUL, "1.7976931348623157e+308")]
    [TestCase(0xffefffffffffffffUL, "-1.7976931348623157e+308")]
    [TestCase(0x4340000000000000UL, "9007199254740992")]
    [TestCase(0xc340000000000000UL, "-9007199254740992")]
    [TestCase(0x4430000000000000UL, "295147905179352830000")]
    [TestCase(0x44b52d02c7e14af5UL, "9.999999999999997e+22")]
    [TestCase(0x44b52d02c7e14af6UL, "1e+23")]
    [TestCase(0x44b52d02c7e14af7UL, "1.0000000000000001e+23")]
    [TestCase(0x444b1ae4d6e2ef4eUL, "999999999999999700000")]
    [TestCase(0x444b1ae4d6e2ef4fUL, "999999999999999900000")]
    [TestCase(0x444b1ae4d6e2ef50UL, "1e+21")]
    [TestCase(0x3eb0c6f7a0b5ed8cUL, "9.999999999999997e-7")]
    [TestCase(0x3eb0c6f7a0b5ed8dUL, "0.000001")]
    [TestCase(0x41b3de4355555553UL, "333333333.3333332")]
    [TestCase(0x41b3de4355555554UL, "333333333.33333325")]
    [TestCase(0x41b3de4355555555UL, "333333333.3333333")]
    [TestCase(0x41b3de4355555556UL, "333333333.3333334")]
    [TestCase(0x41b3de4355555557UL, "333333333.33333343")]
    [TestCase(0xbecbf647612f3696UL, "-0.0000033333333333333333")]
    [TestCase(0x43143ff3c1cb0959UL, "1424953923781206.2")]
    public void Numbers_follow_the_rfc_table(ulong bits, string expected)
    {
        Assert.That(Jcs.FormatNumber(BitConverter.UInt64BitsToDouble(bits)), Is.EqualTo(expected));
    }

    [Test]
    public void The_rfc_example_object_canonicalizes_exactly()
    {
        // RFC 8785 §3.2.3 input, written with escapes for the non-ASCII characters.
        const string input = """
            {
              "numbers": [333333333.33333329, 1E30, 4.50, 2e-3, 0.000000000000000000000000001],
              "string": "\u20ac$\u000F\u000aA'\u0042\u0022\u005c\\\"\/",
              "literals": [null, true, false]
            }
            """;
        const string expected =
            "{\"literals\":[null,true,false],\"numbers\":[333333333.3333333,1e+30,4.5,0.002,1e-27],"
            + "\"string\":\"€$\\u000f\\nA'B\\\"\\\\\\\\\\\"/\"}";

        Assert.That(Canonical(input), Is.EqualTo(expected));
    }

    [Test]
    public void Members_sort_by_utf16_code_units()
    {
        // RFC 8785 §3.2.3 sorting example.
        const string input = """
            {"\u20ac":"Euro Sign","\r":"Carriage Return","\ufb33":"Hebrew Letter Dalet With Dagesh","1":"One",
             "\ud83d\ude00":"Emoji: Grinning Face","\u0080":"Control","\u00f6":"Latin Small Letter O With Diaeresis"}
            """;

        var names = System
            .Text.Json.JsonDocument.Parse(Canonical(input))
            .RootElement.EnumerateObject()
            .Select(p => p.Value.GetString());

        Assert.That(
            names,
            Is.EqualTo(
                new[]
                {
                    "Carriage Return",
                    "One",
                    "Control",
                    "Latin Small Letter O With Diaeresis",
                    "Euro Sign",
                    "Emoji: Grinning Face",
                    "Hebrew Letter Dalet With Dagesh",
                }
            )
        );
    }

    [Test]
    public void Whitespace_goes_and_nesting_is_kept()
    {
        Assert.That(
            Canonical("""{ "b" : [ 1 , { "z":1, "a":[ ] } ], "a":{} }"""),
            Is.EqualTo("""{"a":{},"b":[1,{"a":[],"z":1}]}""")
        );
    }

    [Test]
    public void Numbers_beyond_a_double_are_refused()
    {
        Assert.Throws<System.Text.Json.JsonException>(() => Canonical("[1e400]"));
    }
}
