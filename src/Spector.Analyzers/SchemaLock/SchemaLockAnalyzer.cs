using System;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.IO;
using System.Linq;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Diagnostics;
using Microsoft.CodeAnalysis.Text;
using Spector.Diagnostics;

namespace Spector.Analyzers.SchemaLock;

/// <summary>
/// Checks the events tables against the committed spector.lock: a shipped schema index, action code or version
/// can only be kept, aliased or explicitly retired, never silently lost. Without a lock file nothing is checked.
/// </summary>
[DiagnosticAnalyzer(LanguageNames.CSharp)]
public sealed class SchemaLockAnalyzer : DiagnosticAnalyzer
{
    /// <summary>Diagnostic property holding the complete updated lock text, for the code fix.</summary>
    public const string UpdatedLockProperty = "SpectorUpdatedLock";

    public override ImmutableArray<DiagnosticDescriptor> SupportedDiagnostics { get; } =
    [
        DiagnosticDescriptors.LockedSchemaRemoved, DiagnosticDescriptors.LockedSchemaReassigned, DiagnosticDescriptors.LockedVersionLowered,
        DiagnosticDescriptors.LockedActionRemoved, DiagnosticDescriptors.NotInLock, DiagnosticDescriptors.InvalidLockLine,
    ];

    public override void Initialize(AnalysisContext context)
    {
        context.ConfigureGeneratedCodeAnalysis(GeneratedCodeAnalysisFlags.None);
        context.EnableConcurrentExecution();
        context.RegisterCompilationAction(Analyze);
    }

    private static void Analyze(CompilationAnalysisContext context)
    {
        var file = context.Options.AdditionalFiles.FirstOrDefault(f =>
            string.Equals(Path.GetFileName(f.Path), LockFile.FileName, StringComparison.OrdinalIgnoreCase));
        if (file?.GetText(context.CancellationToken) is not { } text) return;

        var (locked, invalid) = LockFile.Parse(text.ToString());
        foreach (var (line, content) in invalid)
            context.ReportDiagnostic(Diagnostic.Create(DiagnosticDescriptors.InvalidLockLine, LineLocation(file.Path, text, line), line, content));
        if (invalid.Count > 0) return;

        var tables = EventsTables.Read(context.Compilation).ToDictionary(t => t.Name, StringComparer.Ordinal);
        var updated = UpdatedEntries(locked, tables.Values);
        var properties = ImmutableDictionary<string, string?>.Empty.Add(UpdatedLockProperty, LockFile.Format(updated));

        foreach (var entry in locked)
        {
            if (!tables.TryGetValue(entry.Table, out var table))
            {
                if (!entry.Retired && entry.IsSchema)
                    context.ReportDiagnostic(Diagnostic.Create(DiagnosticDescriptors.LockedSchemaRemoved, LineLocation(file.Path, text, entry.Line),
                        entry.Index, entry.Table, entry.Type));
                continue;
            }
            if (entry.IsSchema) CheckSchema(context, entry, table);
            else if (!entry.Retired) CheckAction(context, entry, table);
        }

        // Anything live that the lock does not record yet (or records at a lower version) is reported once per place.
        var lockedKeys = locked.ToDictionary(e => e.Key, StringComparer.Ordinal);
        foreach (var table in tables.Values)
        foreach (var schema in table.Schemas)
        {
            var key = LockEntry.SchemaKey(table.Name, schema.Index);
            if (!lockedKeys.TryGetValue(key, out var entry) || (!entry.Retired && entry.Version < schema.Version && entry.Type == schema.TypeName))
                context.ReportDiagnostic(Diagnostic.Create(DiagnosticDescriptors.NotInLock, schema.SchemaLocation, properties,
                    entry is null ? $"Schema index {schema.Index} ('{schema.TypeName}') of events table '{table.Name}'"
                                  : $"Version {schema.Version} of '{schema.TypeName}'"));
            foreach (var action in schema.Actions.Where(a => !lockedKeys.ContainsKey(LockEntry.ActionKey(table.Name, schema.TypeName, a))))
                context.ReportDiagnostic(Diagnostic.Create(DiagnosticDescriptors.NotInLock, schema.EventedLocation, properties,
                    $"Action '{action}' of '{schema.TypeName}'"));
        }
    }

    private static void CheckSchema(CompilationAnalysisContext context, LockEntry entry, DeclaredTable table)
    {
        var listed = table.Schemas.FirstOrDefault(s => s.Index == entry.Index);
        if (entry.Retired)
        {
            // A retired index still has events in old rows: it can never mean another type.
            if (listed is not null && listed.TypeName != entry.Type)
                context.ReportDiagnostic(Diagnostic.Create(DiagnosticDescriptors.LockedSchemaReassigned, listed.SchemaLocation,
                    entry.Index, entry.Table, entry.Type, listed.TypeName));
            return;
        }
        if (listed is null)
        {
            context.ReportDiagnostic(Diagnostic.Create(DiagnosticDescriptors.LockedSchemaRemoved, table.Location, entry.Index, entry.Table, entry.Type));
            return;
        }
        if (listed.TypeName != entry.Type)
        {
            context.ReportDiagnostic(Diagnostic.Create(DiagnosticDescriptors.LockedSchemaReassigned, listed.SchemaLocation,
                entry.Index, entry.Table, entry.Type, listed.TypeName));
            return;
        }
        if (listed.Version < entry.Version)
            context.ReportDiagnostic(Diagnostic.Create(DiagnosticDescriptors.LockedVersionLowered, listed.EventedLocation,
                listed.TypeName, listed.Version, entry.Version));
    }

    private static void CheckAction(CompilationAnalysisContext context, LockEntry entry, DeclaredTable table)
    {
        var kept = table.Schemas.Any(s => s.Actions.Any(a => table.CodeOf(a) == entry.Code));
        if (kept) return;
        var owner = table.Schemas.FirstOrDefault(s => s.TypeName == entry.Type);
        context.ReportDiagnostic(Diagnostic.Create(DiagnosticDescriptors.LockedActionRemoved, owner?.EventedLocation ?? table.Location,
            entry.Action, entry.Type, entry.Code, entry.Table, table.Class.Name));
    }

    /// <summary>The lock after recording the current source: every locked line kept, new entries added, versions raised.</summary>
    private static List<LockEntry> UpdatedEntries(List<LockEntry> locked, IEnumerable<DeclaredTable> tables)
    {
        var byKey = locked.ToDictionary(e => e.Key, StringComparer.Ordinal);
        foreach (var table in tables)
        foreach (var schema in table.Schemas)
        {
            var key = LockEntry.SchemaKey(table.Name, schema.Index);
            if (!byKey.TryGetValue(key, out var entry))
                byKey[key] = new LockEntry(false, true, table.Name, schema.Index, schema.TypeName, schema.Version, "", 0, 0);
            else if (!entry.Retired && entry.Type == schema.TypeName && entry.Version < schema.Version)
                byKey[key] = entry with { Version = schema.Version };
            foreach (var action in schema.Actions)
            {
                var actionKey = LockEntry.ActionKey(table.Name, schema.TypeName, action);
                if (!byKey.ContainsKey(actionKey))
                    byKey[actionKey] = new LockEntry(false, false, table.Name, 0, schema.TypeName, 0, action, table.CodeOf(action), 0);
            }
        }
        return byKey.Values.ToList();
    }

    private static Location LineLocation(string path, SourceText text, int line)
    {
        var span = text.Lines[Math.Min(line, text.Lines.Count) - 1].Span;
        return Location.Create(path, span, text.Lines.GetLinePositionSpan(span));
    }
}
