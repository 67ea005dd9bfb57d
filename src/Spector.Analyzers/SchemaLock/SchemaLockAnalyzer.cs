using System;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.Globalization;
using System.IO;
using System.Linq;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Diagnostics;
using Microsoft.CodeAnalysis.Text;
using Spector.Diagnostics;

namespace Spector.Analyzers.SchemaLock;

/// <summary>
/// Checks the events tables against the committed spector.lock: a shipped schema index, (type, action) code or version
/// can only be kept, aliased or explicitly retired, never silently lost. Without a lock file it asks for one.
/// </summary>
[DiagnosticAnalyzer(LanguageNames.CSharp)]
public sealed class SchemaLockAnalyzer : DiagnosticAnalyzer
{
    /// <summary>Lock lines a fix retires or adds, one per line (as spector.lock prints them).</summary>
    public const string LockLinesProperty = "SpectorLockLines";

    /// <summary>SPEC020: the type the lock records under the reassigned index and the type listed now, for the rename
    /// fix.</summary>
    public const string LockedTypeProperty = "SpectorLockedType";
    public const string ListedTypeProperty = "SpectorListedType";

    /// <summary>SPEC020: the events table name; SPEC021: the locked version; SPEC022: new names an alias may
    /// take.</summary>
    public const string TableProperty = "SpectorTable";
    public const string LockedVersionProperty = "SpectorLockedVersion";
    public const string AliasCandidatesProperty = "SpectorAliasCandidates";

    /// <summary>SPEC019/SPEC020: the next schema index no type and no lock line has used.</summary>
    public const string NextIndexProperty = "SpectorNextIndex";

    public override ImmutableArray<DiagnosticDescriptor> SupportedDiagnostics { get; } =
        ImmutableArray.Create(
            DiagnosticDescriptors.LockedSchemaRemoved,
            DiagnosticDescriptors.LockedSchemaReassigned,
            DiagnosticDescriptors.LockedVersionLowered,
            DiagnosticDescriptors.LockedActionRemoved,
            DiagnosticDescriptors.NotInLock,
            DiagnosticDescriptors.InvalidLockLine,
            DiagnosticDescriptors.LockedTableGone,
            DiagnosticDescriptors.NoLockFile
        );

    public override void Initialize(AnalysisContext context)
    {
        context.ConfigureGeneratedCodeAnalysis(GeneratedCodeAnalysisFlags.None);
        context.EnableConcurrentExecution();
        context.RegisterCompilationAction(Analyze);
    }

    private static void Analyze(CompilationAnalysisContext context)
    {
        var file = context.Options.AdditionalFiles.FirstOrDefault(f =>
            string.Equals(Path.GetFileName(f.Path), LockFile.FileName, StringComparison.OrdinalIgnoreCase)
        );
        if (file?.GetText(context.CancellationToken) is not { } text)
        {
            foreach (var table in EventsTables.Read(context.Compilation).Where(t => t.Schemas.Count > 0))
                context.ReportDiagnostic(
                    Diagnostic.Create(DiagnosticDescriptors.NoLockFile, table.Location, table.Name)
                );
            return;
        }

        var (locked, invalid) = LockFile.Parse(text.ToString());
        foreach (var (line, content) in invalid)
            context.ReportDiagnostic(
                Diagnostic.Create(
                    DiagnosticDescriptors.InvalidLockLine,
                    LineLocation(file.Path, text, line),
                    line,
                    content
                )
            );
        if (invalid.Count > 0)
            return;

        var tables = EventsTables.Read(context.Compilation).ToDictionary(t => t.Name, StringComparer.Ordinal);
        foreach (var gone in locked.Where(e => !e.Retired && !tables.ContainsKey(e.Table)).GroupBy(e => e.Table))
            context.ReportDiagnostic(
                Diagnostic.Create(
                    DiagnosticDescriptors.LockedTableGone,
                    LineLocation(file.Path, text, gone.First().Line),
                    gone.Key,
                    gone.Count()
                )
            );

        foreach (var entry in locked.Where(e => tables.ContainsKey(e.Table)))
        {
            var table = tables[entry.Table];
            if (entry.IsSchema)
                CheckSchema(context, entry, table, locked);
            else if (!entry.Retired)
                CheckAction(context, entry, table, locked);
        }
        ReportUnrecorded(context, locked, tables.Values);
    }

    private static void CheckSchema(
        CompilationAnalysisContext context,
        LockEntry entry,
        DeclaredTable table,
        List<LockEntry> locked
    )
    {
        var listed = table.Schemas.FirstOrDefault(s => s.Index == entry.Index);
        var nextIndex = NextIndex(table, locked);
        if (entry.Retired)
        {
            // A retired index still has events in old rows: it can never mean another type.
            if (listed is not null && listed.TypeName != entry.Type)
                context.ReportDiagnostic(
                    Diagnostic.Create(
                        DiagnosticDescriptors.LockedSchemaReassigned,
                        listed.SchemaLocation,
                        Properties((NextIndexProperty, nextIndex)),
                        entry.Index,
                        entry.Table,
                        entry.Type,
                        listed.TypeName,
                        $"give '{listed.TypeName}' a new index ({nextIndex} is free): a retired index is never reused"
                    )
                );
            return;
        }
        if (listed is null)
        {
            // Retiring the schema retires its actions with it: their events belong to the same abandoned rows.
            var lines = locked
                .Where(e => !e.Retired && e.Table == entry.Table && e.Type == entry.Type)
                .Select(e => e.Text);
            context.ReportDiagnostic(
                Diagnostic.Create(
                    DiagnosticDescriptors.LockedSchemaRemoved,
                    table.Location,
                    Properties((LockLinesProperty, string.Join("\n", lines))),
                    entry.Index,
                    entry.Table,
                    entry.Type,
                    Version(entry.Version)
                )
            );
            return;
        }
        if (listed.TypeName != entry.Type)
        {
            context.ReportDiagnostic(
                Diagnostic.Create(
                    DiagnosticDescriptors.LockedSchemaReassigned,
                    listed.SchemaLocation,
                    Properties(
                        (NextIndexProperty, nextIndex),
                        (LockedTypeProperty, entry.Type),
                        (ListedTypeProperty, listed.TypeName),
                        (TableProperty, entry.Table)
                    ),
                    entry.Index,
                    entry.Table,
                    entry.Type,
                    listed.TypeName,
                    $"if '{listed.TypeName}' is '{entry.Type}' renamed, change the type on its spector.lock lines; "
                        + $"otherwise give '{listed.TypeName}' a new index ({nextIndex} is free)"
                )
            );
            return;
        }
        if (listed.Version < entry.Version)
            context.ReportDiagnostic(
                Diagnostic.Create(
                    DiagnosticDescriptors.LockedVersionLowered,
                    listed.VersionLocation,
                    Properties((LockedVersionProperty, Version(entry.Version))),
                    listed.TypeName,
                    listed.Version,
                    entry.Version
                )
            );
    }

    /// <summary>
    /// A locked action belongs to its type: another type of the table declaring the same name does not keep it, since
    /// replay dispatches the type's own stored codes to the type's own handlers.
    /// </summary>
    private static void CheckAction(
        CompilationAnalysisContext context,
        LockEntry entry,
        DeclaredTable table,
        List<LockEntry> locked
    )
    {
        // A type no longer listed is reported by its schema line (SPEC019/SPEC020), or was retired with its actions.
        var owner = table.Schemas.FirstOrDefault(s => s.TypeName == entry.Type);
        if (owner is null || owner.Actions.Any(a => table.CodeOf(a) == entry.Code))
            return;

        var retireLine = "retired " + entry.Text;
        var declaredElsewhere = table
            .Schemas.Where(s => s != owner && s.Actions.Contains(entry.Action))
            .Select(s => s.TypeName)
            .ToList();
        var candidates =
            declaredElsewhere.Count > 0 || table.Aliases.ContainsKey(entry.Action)
                ? new List<string>()
                : owner
                    .Actions.Where(a =>
                        !table.Aliases.ContainsKey(a)
                        && !locked.Any(e => e.Key == LockEntry.ActionKey(table.Name, owner.TypeName, a))
                    )
                    .ToList();
        var remedy =
            declaredElsewhere.Count > 0
                // An alias maps a name to a code for the whole table; with the old name still live on another type it
                // cannot.
                ? $"'{string.Join("', '", declaredElsewhere)}' still declares '{entry.Action}', "
                    + $"so an alias cannot rename it; declare '{entry.Action}' on '{entry.Type}' again, "
                    + $"or retire it with the spector.lock line '{retireLine}'"
                : $"if it was renamed, add [ActionAlias(\"<new name>\", \"{entry.Action}\")] to '{table.Class.Name}'; "
                    + $"if its events are abandoned, change its spector.lock line to '{retireLine}'";
        context.ReportDiagnostic(
            Diagnostic.Create(
                DiagnosticDescriptors.LockedActionRemoved,
                owner.ActionsLocation,
                Properties(
                    (LockLinesProperty, entry.Text),
                    (TableProperty, entry.Table),
                    (AliasCandidatesProperty, string.Join("\n", candidates))
                ),
                entry.Action,
                entry.Type,
                entry.Code,
                entry.Table,
                remedy
            )
        );
    }

    /// <summary>Anything live the lock does not record yet (or records at a lower version), with the exact line to
    /// add.</summary>
    private static void ReportUnrecorded(
        CompilationAnalysisContext context,
        List<LockEntry> locked,
        IEnumerable<DeclaredTable> tables
    )
    {
        var byKey = locked.ToDictionary(e => e.Key, StringComparer.Ordinal);
        foreach (var table in tables)
        foreach (var schema in table.Schemas)
        {
            var line = LockEntry.Schema(table.Name, schema.Index, schema.TypeName, schema.Version);
            if (!byKey.TryGetValue(line.Key, out var entry))
                Report(
                    schema.SchemaLocation,
                    $"Schema index {schema.Index} ('{schema.TypeName}') of events table '{table.Name}'",
                    line
                );
            else if (!entry.Retired && entry.Type == schema.TypeName && entry.Version < schema.Version)
                Report(schema.EventedLocation, $"Version {schema.Version} of '{schema.TypeName}'", line);
            // Actions of a type whose index is locked to another type wait for SPEC020 to be resolved.
            if (entry is not null && entry.Type != schema.TypeName)
                continue;
            foreach (var action in schema.Actions)
            {
                var actionLine = LockEntry.ForAction(table.Name, schema.TypeName, action, table.CodeOf(action));
                if (!byKey.ContainsKey(actionLine.Key))
                    Report(schema.EventedLocation, $"Action '{action}' of '{schema.TypeName}'", actionLine);
            }
        }

        void Report(Location location, string what, LockEntry line) =>
            context.ReportDiagnostic(
                Diagnostic.Create(
                    DiagnosticDescriptors.NotInLock,
                    location,
                    Properties((LockLinesProperty, line.Text)),
                    what,
                    line.Text
                )
            );
    }

    private static string NextIndex(DeclaredTable table, List<LockEntry> locked)
    {
        var used = table
            .Schemas.Select(s => s.Index)
            .Concat(locked.Where(e => e.IsSchema && e.Table == table.Name).Select(e => e.Index))
            .ToList();
        return Version(used.Count == 0 ? 0 : used.Max() + 1);
    }

    private static string Version(int value) => value.ToString(CultureInfo.InvariantCulture);

    private static ImmutableDictionary<string, string?> Properties(params (string Key, string Value)[] pairs) =>
        pairs.Aggregate(ImmutableDictionary<string, string?>.Empty, (all, pair) => all.Add(pair.Key, pair.Value));

    private static Location LineLocation(string path, SourceText text, int line)
    {
        var span = text.Lines[Math.Min(line, text.Lines.Count) - 1].Span;
        return Location.Create(path, span, text.Lines.GetLinePositionSpan(span));
    }
}
