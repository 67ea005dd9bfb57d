using System.Buffers;
using System.Globalization;
using System.Text;
using System.Text.Json;

namespace Spector.Tests;

/// <summary>
/// RFC 8785 by walking a parsed document, written apart from the library's reader so that tests have a second,
/// independent canonicalization to hold it to. Only the leaf formats (<see cref="Jcs.WriteString"/>, checked by the
/// RFC's escaping example, and <see cref="Jcs.FormatNumber"/>, checked by the RFC's number table) are shared.
/// </summary>
internal static class ReferenceJcs
{
    private const long MaxExactInteger = 9_007_199_254_740_992;

    public static byte[] Canonicalize(JsonElement value)
    {
        var output = new ArrayBufferWriter<byte>();
        Write(output, value);
        return output.WrittenSpan.ToArray();
    }

    private static void Write(ArrayBufferWriter<byte> output, JsonElement value)
    {
        switch (value.ValueKind)
        {
            case JsonValueKind.Object:
                var members = value
                    .EnumerateObject()
                    .Select((member, index) => (member.Name, member.Value, Index: index))
                    .OrderBy(m => m.Name, StringComparer.Ordinal)
                    .ThenBy(m => m.Index);
                Raw(output, "{");
                var firstMember = true;
                foreach (var (name, member, _) in members)
                {
                    Raw(output, firstMember ? "" : ",");
                    firstMember = false;
                    Jcs.WriteString(output, name);
                    Raw(output, ":");
                    Write(output, member);
                }
                Raw(output, "}");
                break;
            case JsonValueKind.Array:
                Raw(output, "[");
                var firstItem = true;
                foreach (var item in value.EnumerateArray())
                {
                    Raw(output, firstItem ? "" : ",");
                    firstItem = false;
                    Write(output, item);
                }
                Raw(output, "]");
                break;
            case JsonValueKind.String:
                Jcs.WriteString(output, value.GetString()!);
                break;
            case JsonValueKind.Number:
                if (value.TryGetInt64(out var integer) && integer is >= -MaxExactInteger and <= MaxExactInteger)
                    Raw(output, integer.ToString(CultureInfo.InvariantCulture));
                else if (value.TryGetDouble(out var number) && double.IsFinite(number))
                    Raw(output, Jcs.FormatNumber(number));
                else
                    throw new JsonException($"The number {value.GetRawText()} is not a finite double.");
                break;
            default:
                Raw(output, value.GetRawText()); // true, false, null
                break;
        }
    }

    private static void Raw(ArrayBufferWriter<byte> output, string text) => output.Write(Encoding.UTF8.GetBytes(text));
}
