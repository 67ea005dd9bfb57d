using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Text;

namespace Spector.Analyzers.SchemaLock;

/// <summary>One line of spector.lock: a shipped schema index or action, live or retired.</summary>
internal sealed record LockEntry(
    bool Retired,
    bool IsSchema,
    string Table,
    int Index,
    string Type,
    int Version,
    string Action,
    int Code,
    int Line
)
{
    public string Text =>
        (Retired ? "retired " : "")
        + (
            IsSchema
                ? string.Format(CultureInfo.InvariantCulture, "schema {0} {1} {2} v{3}", Table, Index, Type, Version)
                : string.Format(CultureInfo.InvariantCulture, "action {0} {1} {2} {3}", Table, Type, Action, Code)
        );

    /// <summary>Schemas are identified by (table, index); actions by (table, type, name).</summary>
    public string Key => IsSchema ? SchemaKey(Table, Index) : ActionKey(Table, Type, Action);

    public static string SchemaKey(string table, int index) => $"schema {table} {index}";

    public static string ActionKey(string table, string type, string action) => $"action {table} {type} {action}";

    public static LockEntry Schema(string table, int index, string type, int version) =>
        new(false, true, table, index, type, version, "", 0, 0);

    public static LockEntry ForAction(string table, string type, string action, int code) =>
        new(false, false, table, 0, type, 0, action, code, 0);
}

/// <summary>
/// spector.lock: one entry per line, in the spirit of PublicAPI.Shipped.txt, so a review shows every change.
/// <code>
/// schema events 0 Shop.Order v2
/// action events Shop.Order archive 419300326
/// retired schema events 3 Shop.Legacy v1
/// </code>
/// </summary>
internal static class LockFile
{
    public const string FileName = "spector.lock";

    public const string Header =
        "# Spector schema lock: every schema index, action code and version shipped. "
        + "Commit it; see docs/schema-lock.md.";

    /// <summary>Reads entries; lines that cannot be read are returned with their number.</summary>
    public static (List<LockEntry> Entries, List<(int Line, string Text)> Invalid) Parse(string text)
    {
        var entries = new List<LockEntry>();
        var invalid = new List<(int, string)>();
        var lines = text.Split('\n');
        for (var i = 0; i < lines.Length; i++)
        {
            var line = lines[i].Trim();
            if (line.Length == 0 || line[0] == '#')
                continue;
            var parts = line.Split(new[] { ' ', '\t' }, StringSplitOptions.RemoveEmptyEntries).ToList();
            var retired = parts[0] == "retired";
            if (retired)
                parts.RemoveAt(0);
            var entry = parts.Count == 5 ? Read(parts, retired, i + 1) : null;
            if (entry is null)
                invalid.Add((i + 1, line));
            else
                entries.Add(entry);
        }
        return (entries, invalid);
    }

    private static LockEntry? Read(List<string> p, bool retired, int line)
    {
        var invariant = CultureInfo.InvariantCulture;
        if (
            p[0] == "schema"
            && int.TryParse(p[2], NumberStyles.None, invariant, out var index)
            && p[4].StartsWith("v", StringComparison.Ordinal)
            && int.TryParse(p[4].Substring(1), NumberStyles.None, invariant, out var version)
        )
            return new LockEntry(retired, true, p[1], index, p[3], version, "", 0, line);
        if (p[0] == "action" && int.TryParse(p[4], NumberStyles.None, invariant, out var code))
            return new LockEntry(retired, false, p[1], 0, p[2], 0, p[3], code, line);
        return null;
    }

    /// <summary>
    /// True when a name can be a field of a lock line: not empty, no whitespace or control characters (the fields
    /// are separated by spaces). The generator refuses other action names (SPEC029), so none is ever recorded.
    /// </summary>
    public static bool CanHold(string name) =>
        name.Length > 0 && !name.Any(c => char.IsWhiteSpace(c) || char.IsControl(c));

    /// <summary>Reads one line as <see cref="LockEntry.Text"/> prints it; null when it is not a lock line.</summary>
    public static LockEntry? ParseLine(string line)
    {
        var (entries, invalid) = Parse(line);
        return invalid.Count == 0 && entries.Count == 1 ? entries[0] : null;
    }

    /// <summary>The file's text: the header, then the entries sorted so that diffs stay small.</summary>
    public static string Format(IEnumerable<LockEntry> entries)
    {
        var text = new StringBuilder(Header).Append('\n');
        foreach (
            var entry in entries
                .OrderBy(e => e.Table, StringComparer.Ordinal)
                .ThenBy(e => e.IsSchema ? 0 : 1)
                .ThenBy(e => e.Index)
                .ThenBy(e => e.Type, StringComparer.Ordinal)
                .ThenBy(e => e.Action, StringComparer.Ordinal)
        )
            text.Append(entry.Text).Append('\n');
        return text.ToString();
    }
}
