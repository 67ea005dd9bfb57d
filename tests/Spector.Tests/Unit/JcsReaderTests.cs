using System.Buffers;
using System.Globalization;
using System.Text;
using System.Text.Json;
using CsCheck;

namespace Spector.Tests;

/// <summary>
/// The chain canonicalizes by reading UTF-8 text once (<c>Jcs.WriteUtf8</c>), from a string or from a
/// <see cref="JsonElement"/>'s text; <see cref="ReferenceJcs"/> walks the parsed document instead. Both must give the
/// same bytes for any JSON text, however it is spelled, and verification's spelling check must flag a number exactly
/// when one is not written as Spector writes it.
/// </summary>
public sealed class JcsReaderTests
{
    [Test]
    public void Any_json_text_canonicalizes_as_its_document_does()
    {
        JsonText.Value.Sample(
            text =>
            {
                var (fromText, flag) = ReaderPath(text);
                var reference = DocumentPath(text);
                Assert.That(fromText, Is.EqualTo(reference), text);
                using (var document = JsonDocument.Parse(text))
                    Assert.That(Jcs.Canonicalize(document.RootElement), Is.EqualTo(reference), text);
                var misspelled = Misspelled(text);
                Assert.That(flag, Is.EqualTo(misspelled.FirstOrDefault()), text);
            },
            iter: 5_000
        );
    }

    [TestCase("{\"a\":1,\"a\":2,\"a\":0}", "{\"a\":1,\"a\":2,\"a\":0}")]
    [TestCase("[-0, 0.0, -0.0e5, 1E+2, 1.50]", "[0,0,0,100,1.5]")]
    [TestCase("[9007199254740993, -9223372036854775808]", "[9007199254740992,-9223372036854776000]")]
    [TestCase("\"\\u0041\\/\\u00e9\\ud83d\\ude00\"", "\"A/é😀\"")]
    [TestCase("{\"\\ue000\":1,\"\\ud83d\\ude00\":2}", "{\"😀\":2,\"\ue000\":1}")]
    public void Edge_spellings_canonicalize_alike(string json, string expected)
    {
        Assert.That(Encoding.UTF8.GetString(ReaderPath(json).Bytes), Is.EqualTo(expected));
        Assert.That(Encoding.UTF8.GetString(DocumentPath(json)), Is.EqualTo(expected));
    }

    [TestCase("-0", "-0")]
    [TestCase("[0, 0.0, -0.0]", "-0.0")]
    [TestCase("{\"a\":1,\"b\":-0e5}", "-0e5")]
    [TestCase("[-1e-400]", "-1e-400")]
    [TestCase("[0, 0.0, 0e3, 1.50]", null)]
    public void A_negative_zero_is_flagged_as_not_written_by_spector(string json, string? flagged)
    {
        var (bytes, flag) = ReaderPath(json);
        Assert.That(flag, Is.EqualTo(flagged));
        Assert.That(Encoding.UTF8.GetString(bytes), Does.Not.Contain("-"), "RFC 8785 writes every zero as 0");
    }

    [Test]
    public void An_element_canonicalizes_whatever_its_document_accepted()
    {
        var lenient = new JsonDocumentOptions
        {
            CommentHandling = JsonCommentHandling.Skip,
            AllowTrailingCommas = true,
            MaxDepth = 200,
        };
        var deep = new string('[', 100) + "1.50" + new string(']', 100);
        using var commented = JsonDocument.Parse("{\"b\": [1, /* two */ 2,], // end\n \"a\": true,}", lenient);
        using var nested = JsonDocument.Parse(deep, lenient);

        Assert.That(
            Encoding.UTF8.GetString(Jcs.Canonicalize(commented.RootElement)),
            Is.EqualTo("{\"a\":true,\"b\":[1,2]}")
        );
        Assert.That(Jcs.Canonicalize(nested.RootElement), Is.EqualTo(ReferenceJcs.Canonicalize(nested.RootElement)));
        Assert.That(
            Encoding.UTF8.GetString(Jcs.Canonicalize(commented.RootElement.GetProperty("b")[1])),
            Is.EqualTo("2")
        );
    }

    [Test]
    public void Objects_larger_than_the_pooled_scratch_canonicalize_as_their_document_does()
    {
        // Scratch starts at 8 members, 128 name bytes and 256 value bytes; this object outgrows each, in reverse
        // order, with members that are objects themselves (each level rents its own scratch).
        var members = Enumerable
            .Range(0, 300)
            .Reverse()
            .Select(i =>
                $"\"{new string((char)('a' + i % 26), 1 + i % 40)}{i:D3}\":"
                + (i % 3 == 0 ? $"{{\"z{i}\":[{i},\"{new string('v', i)}\"],\"a\":{{}}}}" : $"{i}.5")
            );
        var json = "{" + string.Join(",", members) + "}";
        Assert.That(ReaderPath(json).Bytes, Is.EqualTo(DocumentPath(json)));
        // The pooled arrays came back clean for the next caller: the same text gives the same bytes again.
        Assert.That(ReaderPath(json).Bytes, Is.EqualTo(DocumentPath(json)));
    }

    [TestCase("")]
    [TestCase("{} {}")]
    [TestCase("{\"a\":1,}")]
    [TestCase("[1e400]")]
    [TestCase("\"\\ud800\"")]
    public void Text_that_is_not_one_finite_json_value_is_refused_as_by_a_document(string json)
    {
        var byReader = Refusal(() => ReaderPath(json));
        var byDocument = Refusal(() => DocumentPath(json));
        Assert.That(byReader, Is.Not.Null, "the reader path accepted it");
        Assert.That(byDocument, Is.Not.Null, "the document path accepted it");
        Assert.That(Family(byReader!), Is.EqualTo(Family(byDocument!)));
    }

    [Test]
    public void A_nesting_deeper_than_64_is_refused_by_both()
    {
        var json = new string('[', 65) + new string(']', 65);
        Assert.That(Refusal(() => ReaderPath(json)), Is.InstanceOf<JsonException>());
        Assert.That(Refusal(() => DocumentPath(json)), Is.InstanceOf<JsonException>());
    }

    private static (byte[] Bytes, string? Flag) ReaderPath(string json)
    {
        var buffer = new ArrayBufferWriter<byte>();
        string? flag = null;
        Jcs.WriteText(buffer, json, checkSpelling: true, ref flag);
        return (buffer.WrittenSpan.ToArray(), flag);
    }

    private static byte[] DocumentPath(string json)
    {
        using var document = JsonDocument.Parse(json);
        return ReferenceJcs.Canonicalize(document.RootElement);
    }

    /// <summary>Numbers in text order that are a negative zero, or neither integers a double holds nor the
    /// shortest text of their double.</summary>
    private static List<string> Misspelled(string json)
    {
        var found = new List<string>();
        using var document = JsonDocument.Parse(json);
        Walk(document.RootElement);
        return found;

        void Walk(JsonElement element)
        {
            switch (element.ValueKind)
            {
                case JsonValueKind.Object:
                    foreach (var member in element.EnumerateObject())
                        Walk(member.Value);
                    break;
                case JsonValueKind.Array:
                    foreach (var item in element.EnumerateArray())
                        Walk(item);
                    break;
                case JsonValueKind.Number:
                    var text = element.GetRawText();
                    var exactInteger =
                        element.TryGetInt64(out var n) && n is >= -9_007_199_254_740_992 and <= 9_007_199_254_740_992;
                    // Spector stores -0 as 0: a negative zero replays otherwise than the 0 its hash covers.
                    var negativeZero = text[0] == '-' && element.GetDouble() == 0;
                    if (negativeZero || (!exactInteger && !NumberText.SameValue(text, element.GetDouble())))
                        found.Add(text);
                    break;
            }
        }
    }

    private static Exception? Refusal(Action action)
    {
        try
        {
            action();
            return null;
        }
        catch (Exception e)
        {
            return e;
        }
    }

    // JsonDocument and Utf8JsonReader throw internal subclasses; what a caller can catch is the family.
    private static string Family(Exception e) =>
        e switch
        {
            JsonException => nameof(JsonException),
            ArgumentException => nameof(ArgumentException),
            InvalidOperationException => nameof(InvalidOperationException),
            _ => e.GetType().Name,
        };
}

/// <summary>Random JSON text: random trees, each value spelled in one of the ways JSON allows.</summary>
internal static class JsonText
{
    private static readonly Gen<string> Space = Gen.OneOf("", "", "", " ", "\n\t ", "\r\n");

    private static readonly Gen<string> Character = Gen.Frequency(
        (6, Gen.Char['a', 'z'].Select(c => c.ToString())),
        (
            3,
            Gen.OneOf(
                "\\\"",
                "\\\\",
                "\\/",
                "\\n",
                "\\t",
                "\\b",
                "\\f",
                "\\r",
                "\\u0001",
                "\\u001F",
                "\\u0041",
                "\\u00e9",
                "\\uD83D\\uDE00",
                "\\uE000",
                "\\uFFFF",
                "/",
                "\u007f",
                "\u2028",
                "é",
                "€",
                "😀",
                "\U0010FFFF",
                "\uE000",
                "\uFB33",
                "_",
                "A",
                "Z",
                "0"
            )
        )
    );

    private static readonly Gen<string> String = Character
        .Array[0, 8]
        .Select(parts => "\"" + string.Concat(parts) + "\"");

    private static readonly Gen<string> Number = Gen.Frequency(
        (3, Gen.Long.Select(n => n.ToString(CultureInfo.InvariantCulture))),
        (2, Gen.Int[-1000, 1000].Select(n => n.ToString(CultureInfo.InvariantCulture))),
        (2, Gen.Double.Where(double.IsFinite).Select(d => d.ToString("R", CultureInfo.InvariantCulture))),
        (
            2,
            Gen.OneOf(
                "-0",
                "0.0",
                "-0.0e0",
                "1.0",
                "1.50",
                "1e2",
                "1E+20",
                "1e-7",
                "0.000001",
                "9007199254740992",
                "9007199254740993",
                "-9007199254740993",
                "9223372036854775807",
                "-9223372036854775808",
                "18446744073709551616",
                "16777217.0000000001",
                "333333333.33333329",
                "1e308",
                "5e-324",
                "123456789012345678901234567890"
            )
        )
    );

    private static readonly Gen<string> Scalar = Gen.Frequency(
        (4, String),
        (4, Number),
        (1, Gen.OneOf("true", "false", "null"))
    );

    private static Gen<string> Tree(int depth) =>
        depth == 0
            ? Scalar
            : Gen.Frequency(
                (4, Scalar),
                (2, Tree(depth - 1).Array[0, 5].Select(Array)),
                (2, Gen.Select(String, Tree(depth - 1)).Array[0, 6].Select(Object))
            );

    public static readonly Gen<string> Value = Gen.Select(Space, Tree(3), Space).Select((a, v, b) => a + v + b);

    private static string Array(string[] items) => "[" + string.Join(",", items) + "]";

    private static string Object((string Name, string Value)[] members) =>
        "{" + string.Join(",", members.Select(m => m.Name + ":" + m.Value)) + "}";
}
