using System.Buffers;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;

namespace Spector;

/// <summary>
/// RFC 8785 JSON Canonicalization Scheme: the bytes Spector hashes. Object members are sorted by the UTF-16
/// code units of their names, strings escape only what JSON requires, numbers are written as ECMAScript
/// writes a double, and there is no whitespace. Any RFC 8785 library in another language produces the same
/// bytes from the same JSON.
/// </summary>
public static partial class Jcs
{
    /// <summary>The canonical UTF-8 bytes of a JSON value.</summary>
    public static byte[] Canonicalize(JsonElement value)
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        Write(buffer, value);
        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>The canonical UTF-8 bytes of JSON text.</summary>
    public static byte[] Canonicalize(string json)
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        string? ignored = null;
        WriteText(buffer, json, checkSpelling: false, ref ignored);
        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>Appends the canonical form of <paramref name="value"/>, read from the element's own text.</summary>
    public static void Write(IBufferWriter<byte> output, JsonElement value)
    {
        if (value.ValueKind == JsonValueKind.Undefined)
            throw new JsonException("Cannot canonicalize a JSON Undefined.");
        string? ignored = null;
        WriteUtf8(output, JsonMarshal.GetRawUtf8Value(value), ElementText, checkSpelling: false, ref ignored);
    }

    // An element's text is what its document accepted: comments and trailing commas if its options allowed them,
    // nesting as deep as they allowed.
    private static readonly JsonReaderOptions ElementText = new()
    {
        CommentHandling = JsonCommentHandling.Skip,
        AllowTrailingCommas = true,
        MaxDepth = int.MaxValue,
    };

    /// <summary>2^53: every integer up to it in magnitude is exactly a double.</summary>
    private const long MaxExactInteger = 9_007_199_254_740_992;

    /// <summary>A string with only <c>"</c>, <c>\</c> and control characters escaped, as RFC 8785 §3.2.2.2
    /// requires.</summary>
    public static void WriteString(IBufferWriter<byte> output, string value)
    {
        if (!NeedsEscaping(value))
        {
            var span = output.GetSpan(Encoding.UTF8.GetMaxByteCount(value.Length) + 2);
            span[0] = (byte)'"';
            var length = Encoding.UTF8.GetBytes(value, span[1..]);
            span[length + 1] = (byte)'"';
            output.Advance(length + 2);
            return;
        }
        var text = new StringBuilder(value.Length + 2).Append('"');
        foreach (var c in value)
        {
            switch (c)
            {
                case '"':
                    text.Append("\\\"");
                    break;
                case '\\':
                    text.Append("\\\\");
                    break;
                case '\b':
                    text.Append("\\b");
                    break;
                case '\f':
                    text.Append("\\f");
                    break;
                case '\n':
                    text.Append("\\n");
                    break;
                case '\r':
                    text.Append("\\r");
                    break;
                case '\t':
                    text.Append("\\t");
                    break;
                default:
                    if (c < 0x20)
                        text.Append("\\u").Append(((int)c).ToString("x4", CultureInfo.InvariantCulture));
                    else
                        text.Append(c);
                    break;
            }
        }
        Raw(output, text.Append('"').ToString());
    }

    /// <summary>
    /// ECMAScript's Number.prototype.toString for a finite double (ECMA-262 Number::toString): the shortest
    /// digits that round-trip, in plain notation for exponents from -7 to 20, otherwise in exponent notation.
    /// </summary>
    public static string FormatNumber(double value)
    {
        if (value == 0)
            return "0"; // also -0
        // "R" gives the shortest round-trip digits, e.g. "1.2345E-07", "123.45", "1E+21".
        var shortest = value.ToString("R", CultureInfo.InvariantCulture);
        var negative = shortest[0] == '-';
        if (negative)
            shortest = shortest[1..];
        var exponentAt = shortest.IndexOf('E');
        var mantissa = exponentAt < 0 ? shortest : shortest[..exponentAt];
        var exponent =
            exponentAt < 0
                ? 0
                : int.Parse(shortest[(exponentAt + 1)..], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture);
        var point = mantissa.IndexOf('.');
        var digits = point < 0 ? mantissa : mantissa.Remove(point, 1);
        var integerDigits = point < 0 ? mantissa.Length : point;
        var leadingZeros = digits.Length - digits.TrimStart('0').Length;
        digits = digits.Trim('0');
        // value = 0.d1d2...dk × 10^n
        var k = digits.Length;
        var n = integerDigits - leadingZeros + exponent;

        var result = new StringBuilder(negative ? "-" : "");
        if (k <= n && n <= 21)
            result.Append(digits).Append('0', n - k);
        else if (0 < n && n <= 21)
            result.Append(digits, 0, n).Append('.').Append(digits, n, k - n);
        else if (-6 < n && n <= 0)
            result.Append("0.").Append('0', -n).Append(digits);
        else
        {
            result.Append(digits[0]);
            if (k > 1)
                result.Append('.').Append(digits, 1, k - 1);
            result
                .Append('e')
                .Append(n - 1 >= 0 ? '+' : '-')
                .Append(Math.Abs(n - 1).ToString(CultureInfo.InvariantCulture));
        }
        return result.ToString();
    }

    private static bool NeedsEscaping(string value)
    {
        foreach (var c in value)
            if (c < 0x20 || c == '"' || c == '\\')
                return true;
        return false;
    }

    /// <summary>Appends <paramref name="text"/> as UTF-8, unquoted and unescaped.</summary>
    internal static void Raw(IBufferWriter<byte> output, string text)
    {
        var span = output.GetSpan(Encoding.UTF8.GetMaxByteCount(text.Length));
        output.Advance(Encoding.UTF8.GetBytes(text, span));
    }
}
