using System.Text;
using System.Text.Json.Nodes;

namespace Spector.Tests;

/// <summary>
/// Random values of the awkward kinds a payload may hold: text from the whole of Unicode but U+0000 and lone
/// surrogates (characters outside the BMP beside U+E000-U+FFFF, controls, quotes, escapes), integers past 2^53,
/// decimals, doubles of any magnitude, parsed numbers a double does not hold, nested objects and arrays.
/// </summary>
internal static class AwkwardValues
{
    private static readonly string[] Characters =
    [
        "a",
        "Z",
        "0",
        "_",
        " ",
        "é",
        "\u00e9\u0301",
        "€",
        "\u05d3",
        "\u007f",
        "\u0080",
        "\u2028",
        "\u0001",
        "\u001f",
        "\t",
        "\n",
        "\"",
        "\\",
        "/",
        "<",
        "&",
        "\ud7ff",
        "\ue000",
        "\uf8ff",
        "\ufb33",
        "\ufeff",
        "\ufffd",
        "\uffff",
        "😀",
        "🚀",
        "\U00010000",
        "\U0010FFFF",
    ];

    public static string Text(Random random, int min, int max)
    {
        var text = new StringBuilder();
        for (var i = random.Next(min, max + 1); i > 0; i--)
            text.Append(Characters[random.Next(Characters.Length)]);
        return text.ToString();
    }

    public static JsonNode? Node(Random random, int depth)
    {
        switch (random.Next(depth > 0 ? 12 : 9))
        {
            case 0:
                return Text(random, 0, 10);
            case 1:
                return random.NextInt64(long.MinValue, long.MaxValue);
            case 2:
                return random.Next(-1000, 1000);
            case 3:
                return BitConverter.Int64BitsToDouble(random.NextInt64()) is var d && double.IsFinite(d) ? d : 0.1;
            case 4:
                return (decimal)random.NextInt64() / (decimal)Math.Pow(10, random.Next(0, 19));
            case 5:
                return JsonNode.Parse(
                    random.Next(4) switch
                    {
                        0 => "123456789012345678901234567890",
                        1 => "9007199254740993",
                        2 => "1E+20",
                        _ => "0.1000000000000000055",
                    }
                );
            case 6:
                return random.Next(2) == 0;
            case 7:
                return null;
            case 8:
                return random.NextDouble() * Math.Pow(10, random.Next(-30, 30));
            case 9:
            case 10:
                var obj = new JsonObject();
                for (var i = random.Next(0, 5); i > 0; i--)
                    obj[Text(random, 0, 4) + "#" + i] = Node(random, depth - 1);
                return obj;
            default:
                var array = new JsonArray();
                for (var i = random.Next(0, 5); i > 0; i--)
                    array.Add(Node(random, depth - 1));
                return array;
        }
    }

    // Context text refuses control characters (docs/audit-trail.md); everything else is fair.
    public static EventContext Context(Random random) =>
        new()
        {
            Actor = random.Next(2) == 0 ? null : new Actor("user", Printable(Text(random, 1, 8))),
            CorrelationId = random.Next(2) == 0 ? null : Printable(Text(random, 1, 8)),
            Reason = random.Next(2) == 0 ? null : Printable(Text(random, 1, 16)),
        };

    private static string Printable(string text) =>
        string.Concat(text.Where(c => !char.IsControl(c))) is { Length: > 0 } printable ? printable : "p";
}
