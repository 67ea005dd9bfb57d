using System.Globalization;
using System.Text.Json;

namespace Spector;

/// <summary>
/// RFC 8785 hashes a number as the double it parses to, so "16777217.0000000001" and "16777217" hash alike. Spector
/// writes every number in the shortest form that round-trips its double; verification refuses any other spelling,
/// which can only come from an edit outside Spector. Digits and exponent are compared, not formatting, since
/// PostgreSQL's jsonb re-spells numbers (1E+20 comes back as 100000000000000000000).
/// </summary>
internal static class CanonicalNumbers
{
    /// <summary>The text of the first number in <paramref name="json"/> not in its shortest form, or null.</summary>
    public static string? FirstNonCanonical(string? json)
    {
        if (json is null) return null;
        using var document = JsonDocument.Parse(json);
        return FirstNonCanonical(document.RootElement);
    }

    private static string? FirstNonCanonical(JsonElement element)
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.Object:
                foreach (var member in element.EnumerateObject())
                    if (FirstNonCanonical(member.Value) is { } found) return found;
                return null;
            case JsonValueKind.Array:
                foreach (var item in element.EnumerateArray())
                    if (FirstNonCanonical(item) is { } found) return found;
                return null;
            case JsonValueKind.Number:
                var text = element.GetRawText();
                var value = double.Parse(text, NumberStyles.Float, CultureInfo.InvariantCulture);
                return double.IsFinite(value) && NumberText.SameValue(text, value) ? null : text;
            default:
                return null;
        }
    }
}
