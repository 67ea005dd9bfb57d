using System;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.Composition;
using System.IO;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CodeActions;
using Microsoft.CodeAnalysis.CodeFixes;
using Microsoft.CodeAnalysis.Text;
using Spector.Analyzers.SchemaLock;

namespace Spector.CodeFixes;

/// <summary>
/// The fixes that edit spector.lock: retire (SPEC019, SPEC022), record a renamed type (SPEC020), add the missing line
/// or every missing line (SPEC023), create the file (SPEC041). Fix all applies every edit of one kind in one rewrite.
/// </summary>
[ExportCodeFixProvider(LanguageNames.CSharp, Name = nameof(LockFileFix)), Shared]
public sealed class LockFileFix : CodeFixProvider
{
    private const string Retire = "SpectorLock.Retire";
    private const string Rename = "SpectorLock.RenameType";
    private const string AddLine = "SpectorLock.AddLine";
    private const string RecordAll = "SpectorLock.RecordAll";
    private const string Create = "SpectorLock.Create";

    public override ImmutableArray<string> FixableDiagnosticIds { get; } =
        ImmutableArray.Create("SPEC019", "SPEC020", "SPEC022", "SPEC023", "SPEC041");

    public override FixAllProvider GetFixAllProvider() => new LockFixAll();

    public override Task RegisterCodeFixesAsync(CodeFixContext context)
    {
        var project = context.Document.Project;
        foreach (var diagnostic in context.Diagnostics)
        {
            var lines = Property(diagnostic, SchemaLockAnalyzer.LockLinesProperty);
            switch (diagnostic.Id)
            {
                case "SPEC019" or "SPEC022" when lines.Length > 0 && LockDocument(project) is not null:
                    Register(context, diagnostic, $"Retire '{lines[0]}' in spector.lock", Retire);
                    break;
                case "SPEC020"
                    when LockDocument(project) is not null
                        && Property(diagnostic, SchemaLockAnalyzer.LockedTypeProperty).FirstOrDefault() is { } from
                        && Property(diagnostic, SchemaLockAnalyzer.ListedTypeProperty).FirstOrDefault() is { } to:
                    Register(context, diagnostic, $"Record '{to}' as '{from}' renamed in spector.lock", Rename);
                    break;
                case "SPEC023" when lines.Length > 0 && LockDocument(project) is not null:
                    Register(context, diagnostic, $"Add '{lines[0]}' to spector.lock", AddLine);
                    Register(context, diagnostic, "Record the new entries in spector.lock", RecordAll);
                    break;
                case "SPEC041" when LockDocument(project) is null:
                    Register(context, diagnostic, "Create spector.lock from the source", Create);
                    break;
            }
        }
        return Task.CompletedTask;
    }

    private static void Register(CodeFixContext context, Diagnostic diagnostic, string title, string key) =>
        context.RegisterCodeFix(
            CodeAction.Create(
                title,
                ct => ApplyAsync(context.Document.Project, ImmutableArray.Create(diagnostic), key, ct),
                key
            ),
            diagnostic
        );

    /// <summary>One rewrite of the project's lock for every diagnostic given; a no-op when nothing applies.</summary>
    private static async Task<Solution> ApplyAsync(
        Project project,
        ImmutableArray<Diagnostic> diagnostics,
        string key,
        CancellationToken ct
    )
    {
        var lockDocument = LockDocument(project);
        if (key == Create)
        {
            if (
                lockDocument is not null
                || await project.GetCompilationAsync(ct).ConfigureAwait(false) is not { } fresh
            )
                return project.Solution;
            var text = LockFile.Format(LockRecording.Record(Array.Empty<LockEntry>(), EventsTables.Read(fresh)));
            // Beside the project file; a project without one (a script, a test workspace) beside its first source.
            var directory =
                Path.GetDirectoryName(project.FilePath ?? project.Documents.FirstOrDefault()?.FilePath ?? "") ?? "";
            return project
                .AddAdditionalDocument(
                    LockFile.FileName,
                    SourceText.From(text),
                    filePath: directory.Length == 0 ? null : Path.Combine(directory, LockFile.FileName)
                )
                .Project.Solution;
        }
        if (lockDocument is null)
            return project.Solution;
        var (entries, invalid) = LockFile.Parse((await lockDocument.GetTextAsync(ct).ConfigureAwait(false)).ToString());
        if (invalid.Count > 0)
            return project.Solution;

        switch (key)
        {
            case Retire:
                entries = LockRecording.Retire(
                    entries,
                    diagnostics.SelectMany(d => Property(d, SchemaLockAnalyzer.LockLinesProperty)).ToList()
                );
                break;
            case Rename:
                foreach (var d in diagnostics)
                    entries = LockRecording.RenameType(
                        entries,
                        Property(d, SchemaLockAnalyzer.TableProperty).Single(),
                        Property(d, SchemaLockAnalyzer.LockedTypeProperty).Single(),
                        Property(d, SchemaLockAnalyzer.ListedTypeProperty).Single()
                    );
                break;
            case AddLine:
                entries = LockRecording.Upsert(
                    entries,
                    diagnostics
                        .SelectMany(d => Property(d, SchemaLockAnalyzer.LockLinesProperty))
                        .Select(LockFile.ParseLine)
                        .Where(e => e is not null)
                        .Select(e => e!)
                );
                break;
            case RecordAll when await project.GetCompilationAsync(ct).ConfigureAwait(false) is { } compilation:
                entries = LockRecording.Record(entries, EventsTables.Read(compilation));
                break;
        }
        return project.Solution.WithAdditionalDocumentText(lockDocument.Id, SourceText.From(LockFile.Format(entries)));
    }

    internal static TextDocument? LockDocument(Project project) =>
        project.AdditionalDocuments.FirstOrDefault(d =>
            string.Equals(Path.GetFileName(d.FilePath ?? d.Name), LockFile.FileName, StringComparison.OrdinalIgnoreCase)
        );

    private static string[] Property(Diagnostic diagnostic, string name) =>
        diagnostic.Properties.TryGetValue(name, out var value) && !string.IsNullOrEmpty(value)
            ? value!.Split(new[] { '\n' }, StringSplitOptions.RemoveEmptyEntries)
            : Array.Empty<string>();

    /// <summary>The lock is one file per project: fix all gathers the project's diagnostics and rewrites it
    /// once.</summary>
    private sealed class LockFixAll : FixAllProvider
    {
        public override async Task<CodeAction?> GetFixAsync(FixAllContext context)
        {
            var key = context.CodeActionEquivalenceKey;
            if (key is null)
                return null;
            var projects =
                context.Scope == FixAllScope.Solution
                    ? context.Solution.Projects.ToList()
                    : new List<Project> { context.Project };
            var work = new List<(ProjectId Id, ImmutableArray<Diagnostic> Diagnostics)>();
            foreach (var project in projects)
            {
                var all = await context.GetAllDiagnosticsAsync(project).ConfigureAwait(false);
                work.Add((project.Id, all.Where(d => context.DiagnosticIds.Contains(d.Id)).ToImmutableArray()));
            }
            return CodeAction.Create(
                "Apply to spector.lock",
                async ct =>
                {
                    var solution = context.Solution;
                    foreach (var (id, diagnostics) in work.Where(w => w.Diagnostics.Length > 0))
                        solution = await ApplyAsync(solution.GetProject(id)!, diagnostics, key, ct)
                            .ConfigureAwait(false);
                    return solution;
                },
                key
            );
        }
    }
}
