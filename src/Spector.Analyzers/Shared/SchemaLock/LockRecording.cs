using System;
using System.Collections.Generic;
using System.Linq;

namespace Spector.Analyzers.SchemaLock;

/// <summary>
/// What recording the source in spector.lock means, shared by the analyzer's code fixes and the generator that renders
/// the file for <c>dotnet build -t:SpectorLock</c>: every locked and retired line is kept, new entries are added and
/// versions raised. Nothing locked is ever dropped, so recording can never hide a lock error.
/// </summary>
internal static class LockRecording
{
    public static List<LockEntry> Record(IEnumerable<LockEntry> locked, IEnumerable<DeclaredTable> tables)
    {
        var byKey = new Dictionary<string, LockEntry>(StringComparer.Ordinal);
        foreach (var entry in locked)
            byKey[entry.Key] = entry;
        foreach (var entry in tables.SelectMany(Declared))
        {
            if (!byKey.TryGetValue(entry.Key, out var old))
                byKey[entry.Key] = entry;
            else if (entry.IsSchema && !old.Retired && old.Type == entry.Type && old.Version < entry.Version)
                byKey[entry.Key] = old with { Version = entry.Version };
        }
        return byKey.Values.ToList();
    }

    /// <summary>The lock lines the table declares now: one per schema index and one per (type, action) pair.</summary>
    public static IEnumerable<LockEntry> Declared(DeclaredTable table)
    {
        foreach (var schema in table.Schemas)
        {
            yield return LockEntry.Schema(table.Name, schema.Index, schema.TypeName, schema.Version);
            foreach (var action in schema.Actions)
                yield return LockEntry.ForAction(table.Name, schema.TypeName, action, table.CodeOf(action));
        }
    }

    /// <summary>The lock with the given lines (as <see cref="LockEntry.Text"/> prints them) prefixed with
    /// 'retired'.</summary>
    public static List<LockEntry> Retire(IEnumerable<LockEntry> locked, ICollection<string> lines) =>
        locked.Select(e => !e.Retired && lines.Contains(e.Text) ? e with { Retired = true } : e).ToList();

    /// <summary>The lock with the live entries of <paramref name="from"/> in <paramref name="table"/> moved to a
    /// renamed type.</summary>
    public static List<LockEntry> RenameType(IEnumerable<LockEntry> locked, string table, string from, string to) =>
        locked.Select(e => !e.Retired && e.Table == table && e.Type == from ? e with { Type = to } : e).ToList();

    /// <summary>The lock with the given entries added, or replacing the entries of the same key.</summary>
    public static List<LockEntry> Upsert(IEnumerable<LockEntry> locked, IEnumerable<LockEntry> entries)
    {
        var byKey = new Dictionary<string, LockEntry>(StringComparer.Ordinal);
        foreach (var entry in locked)
            byKey[entry.Key] = entry;
        foreach (var entry in entries)
            byKey[entry.Key] = entry;
        return byKey.Values.ToList();
    }
}
