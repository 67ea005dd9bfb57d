using System.Text.RegularExpressions;

namespace Spector;

/// <summary>
/// Table, column and link names are checked against one conservative rule before they reach SQL text,
/// then always double-quoted, which both PostgreSQL and SQLite accept.
/// </summary>
public static partial class SqlIdentifier
{
    /// <summary>Letters, digits and underscores, not starting with a digit, at most 63 characters (PostgreSQL's
    /// limit).</summary>
    public static bool IsValid(string? name) => name is not null && Rule().IsMatch(name);

    /// <summary>Returns <paramref name="name"/> or throws a clear <see cref="ArgumentException"/>.</summary>
    public static string Validate(string? name, string what) =>
        IsValid(name)
            ? name!
            : throw new ArgumentException(
                $"'{name}' is not a valid {what} name: "
                    + "use letters, digits and underscores, not starting with a digit, at most 63 characters.",
                nameof(name)
            );

    /// <summary>The name in double quotes, after validation.</summary>
    public static string Quote(string name) => "\"" + Validate(name, "SQL") + "\"";

    private const int MaxLength = 63;

    /// <summary>
    /// The name of an object Spector derives from a table (index, trigger, heads table): <c>table_suffix</c>
    /// when that fits 63 characters, else its first 54 characters, an underscore and 8 hex digits of its
    /// SHA-256, so every valid table name yields a valid, stable name and two long names never share one.
    /// </summary>
    internal static string Derived(string table, string suffix)
    {
        var name = $"{table}_{suffix}";
        if (name.Length <= MaxLength)
            return name;
        var digest = System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(name));
        return $"{name[..(MaxLength - 9)]}_{Convert.ToHexStringLower(digest)[..8]}";
    }

    [GeneratedRegex("^[A-Za-z_][A-Za-z0-9_]{0,62}$", RegexOptions.CultureInvariant)]
    private static partial Regex Rule();
}
