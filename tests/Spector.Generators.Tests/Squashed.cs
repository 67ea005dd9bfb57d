using System.Text.RegularExpressions;

namespace Spector.Generators.Tests;

/// <summary>
/// Code with its layout taken out: no whitespace, and a literal split as <c>"a " + "b"</c> joined again. Tests look
/// for a member or a call in generated code this way, so they hold however the emitter wraps its lines.
/// </summary>
internal static partial class Squashed
{
    public static string Of(string code) => Whitespace().Replace(code, "").Replace("\"+\"", "");

    [GeneratedRegex(@"\s+")]
    private static partial Regex Whitespace();
}
