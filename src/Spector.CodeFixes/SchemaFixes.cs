using System;
using System.Collections.Immutable;
using System.Composition;
using System.IO;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CodeActions;
using Microsoft.CodeAnalysis.CodeFixes;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Microsoft.CodeAnalysis.Text;
using Spector.Analyzers.SchemaLock;

namespace Spector.CodeFixes;

/// <summary>SPEC001: lists the type on an events table under the next free schema index (one fix per table).</summary>
[ExportCodeFixProvider(LanguageNames.CSharp, Name = nameof(AddEventSchemaFix)), Shared]
public sealed class AddEventSchemaFix : CodeFixProvider
{
    public override ImmutableArray<string> FixableDiagnosticIds { get; } = ["SPEC001"];

    public override FixAllProvider? GetFixAllProvider() => null;

    public override async Task RegisterCodeFixesAsync(CodeFixContext context)
    {
        var root = await context.Document.GetSyntaxRootAsync(context.CancellationToken).ConfigureAwait(false);
        var compilation = await context.Document.Project.GetCompilationAsync(context.CancellationToken).ConfigureAwait(false);
        if (root is null || compilation is null || SyntaxEdits.TypeAt(root, context.Span) is not { } typeSyntax) return;
        var model = compilation.GetSemanticModel(typeSyntax.SyntaxTree);
        if (model.GetDeclaredSymbol(typeSyntax, context.CancellationToken) is not INamedTypeSymbol type) return;

        var retired = RetiredIndexes(context.Document.Project);
        foreach (var table in EventsTables.Read(compilation))
        {
            // Indexes of retired schemas still have stored events: never hand them out again.
            var used = table.Schemas.Select(s => s.Index).Concat(retired.Where(r => r.Table == table.Name).Select(r => r.Index)).ToList();
            var next = used.Count == 0 ? 0 : used.Max() + 1;
            var title = $"Add [EventSchema(typeof({type.Name}), {next})] to '{table.Class.Name}'";
            context.RegisterCodeFix(CodeAction.Create(title, ct => AddAsync(context.Document.Project.Solution, table, type, next, ct), title),
                context.Diagnostics);
        }
    }

    private static ImmutableArray<LockEntry> RetiredIndexes(Project project) =>
        project.AdditionalDocuments.FirstOrDefault(d => string.Equals(Path.GetFileName(d.FilePath ?? d.Name), LockFile.FileName,
                StringComparison.OrdinalIgnoreCase)) is { } lockDocument && lockDocument.TryGetText(out var text)
            ? LockFile.Parse(text.ToString()).Entries.Where(e => e.IsSchema && e.Retired).ToImmutableArray()
            : ImmutableArray<LockEntry>.Empty;

    private static async Task<Solution> AddAsync(Solution solution, DeclaredTable table, INamedTypeSymbol type, int index, CancellationToken ct)
    {
        var reference = table.Class.DeclaringSyntaxReferences.First();
        var document = solution.GetDocument(reference.SyntaxTree);
        if (document is null) return solution;
        var root = await reference.SyntaxTree.GetRootAsync(ct).ConfigureAwait(false);
        var declaration = (TypeDeclarationSyntax)await reference.GetSyntaxAsync(ct).ConfigureAwait(false);
        var typeName = type.ToDisplayString(SymbolDisplayFormat.FullyQualifiedFormat);
        var updated = declaration.AddAttributeLists(SyntaxEdits.Attribute($"Spector.EventSchema(typeof({typeName}), {index})"));
        return solution.WithDocumentSyntaxRoot(document.Id, root.ReplaceNode(declaration, updated));
    }
}

/// <summary>SPEC023: rewrites spector.lock with the entries the source now declares (locked lines are kept).</summary>
[ExportCodeFixProvider(LanguageNames.CSharp, Name = nameof(UpdateSchemaLockFix)), Shared]
public sealed class UpdateSchemaLockFix : CodeFixProvider
{
    public override ImmutableArray<string> FixableDiagnosticIds { get; } = ["SPEC023"];

    public override FixAllProvider? GetFixAllProvider() => null;

    public override Task RegisterCodeFixesAsync(CodeFixContext context)
    {
        var project = context.Document.Project;
        var lockDocument = project.AdditionalDocuments.FirstOrDefault(d =>
            string.Equals(Path.GetFileName(d.FilePath ?? d.Name), LockFile.FileName, StringComparison.OrdinalIgnoreCase));
        foreach (var diagnostic in context.Diagnostics)
        {
            if (lockDocument is null || !diagnostic.Properties.TryGetValue(SchemaLockAnalyzer.UpdatedLockProperty, out var text) || text is null) continue;
            context.RegisterCodeFix(CodeAction.Create("Record the new entries in spector.lock",
                _ => Task.FromResult(project.Solution.WithAdditionalDocumentText(lockDocument.Id, SourceText.From(text))),
                nameof(UpdateSchemaLockFix)), diagnostic);
        }
        return Task.CompletedTask;
    }
}
