namespace Spector;

/// <summary>
/// Checks the text of context fields before anything is written: each database refuses something (PostgreSQL
/// NUL, Npgsql lone surrogates), and an id that cannot be stored must fail as an argument, never as a raw
/// database error mid-write.
/// </summary>
internal static class ContextText
{
    public static string Require(string? value, string what, int maxLength, string parameter) =>
        Check(value, what, maxLength, parameter, allowLineBreaks: false)
        ?? throw new ArgumentException($"The {what} is required.", parameter);

    /// <summary>Null stays null; anything else must be non-empty, at most <paramref name="maxLength"/> characters and
    /// storable.</summary>
    public static string? Check(
        string? value,
        string what,
        int maxLength,
        string parameter,
        bool allowLineBreaks = false
    )
    {
        if (value is null)
            return null;
        if (value.Length == 0)
            throw new ArgumentException($"The {what} is empty: pass null to leave it out.", parameter);
        if (value.Length > maxLength)
            throw new ArgumentException(
                $"The {what} is {value.Length} UTF-16 code units long; at most {maxLength} are stored.",
                parameter
            );
        for (var i = 0; i < value.Length; i++)
        {
            var c = value[i];
            if (char.IsHighSurrogate(c) && i + 1 < value.Length && char.IsLowSurrogate(value[i + 1]))
            {
                i++;
                continue;
            }
            if (char.IsSurrogate(c))
                throw new ArgumentException(
                    $"The {what} holds a lone surrogate at index {i}: it is not valid Unicode text.",
                    parameter
                );
            if (char.IsControl(c) && !(allowLineBreaks && c is '\n' or '\r' or '\t'))
                throw new ArgumentException(
                    $"The {what} holds the control character U+{(int)c:X4} at index {i}.",
                    parameter
                );
        }
        return value;
    }

    /// <summary>A GUID in any spelling as lowercase hyphenated text; any other text as it is.</summary>
    public static string? CanonicalGuid(string? value) =>
        value is not null && Guid.TryParse(value, out var guid) ? guid.ToString("D") : value;

    /// <summary>A W3C trace id (32) or span id (16): lowercase hex, not all zeros.</summary>
    public static string? CheckHex(string? value, string what, int length, string parameter)
    {
        if (value is null)
            return null;
        var hex = value.Length == length && value.All(c => c is >= '0' and <= '9' or >= 'a' and <= 'f');
        if (!hex || value.All(c => c == '0'))
            throw new ArgumentException(
                $"The {what} '{Shorten(value)}' is not {length} lowercase hex digits (W3C trace context).",
                parameter
            );
        return value;
    }

    private static string Shorten(string value) => value.Length <= 40 ? value : value[..40] + "...";
}
