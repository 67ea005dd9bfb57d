using System;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.Composition;
using System.Globalization;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CodeActions;
using Microsoft.CodeAnalysis.CodeFixes;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Spector.Analyzers.SchemaLock;

namespace Spector.CodeFixes;

/// <summary>SPEC001: lists the type on an events table under the next free schema index (one fix per table).</summary>
[ExportCodeFixProvider(LanguageNames.CSharp, Name = nameof(AddEventSchemaFix)), Shared]
public sealed class AddEventSchemaFix : CodeFixProvider
{
    private const string KeyPrefix = "SpectorAddSchema:";

    public override ImmutableArray<string> FixableDiagnosticIds { get; } = ImmutableArray.Create("SPEC001");

    public override FixAllProvider GetFixAllProvider() => new AddAllSchemas();

    public override async Task RegisterCodeFixesAsync(CodeFixContext context)
    {
        var compilation = await context
            .Document.Project.GetCompilationAsync(context.CancellationToken)
            .ConfigureAwait(false);
        if (
            compilation is null
            || await TypeOfAsync(context.Document, context.Span, compilation, context.CancellationToken)
                .ConfigureAwait(false)
                is not { } type
        )
            return;
        foreach (var table in EventsTables.Read(compilation))
        {
            var next = NextFreeIndex(context.Document.Project, table);
            var title = $"Add [EventSchema(typeof({type.Name}), {next})] to '{table.Class.Name}'";
            // One key per table, so fixing all lists every orphan on the table the user picked.
            context.RegisterCodeFix(
                CodeAction.Create(
                    title,
                    ct => AddAsync(context.Document.Project.Solution, table, new[] { type }, next, ct),
                    KeyPrefix + table.Name
                ),
                context.Diagnostics
            );
        }
    }

    /// <summary>Indexes of retired schemas still have stored events: they are never handed out again.</summary>
    private static int NextFreeIndex(Project project, DeclaredTable table)
    {
        var locked =
            LockFileFix.LockDocument(project) is { } lockDocument && lockDocument.TryGetText(out var text)
                ? LockFile
                    .Parse(text.ToString())
                    .Entries.Where(e => e.IsSchema && e.Table == table.Name)
                    .Select(e => e.Index)
                : Enumerable.Empty<int>();
        var used = table.Schemas.Select(s => s.Index).Concat(locked).ToList();
        return used.Count == 0 ? 0 : used.Max() + 1;
    }

    private static async Task<INamedTypeSymbol?> TypeOfAsync(
        Document document,
        Microsoft.CodeAnalysis.Text.TextSpan span,
        Compilation compilation,
        CancellationToken ct
    )
    {
        var root = await document.GetSyntaxRootAsync(ct).ConfigureAwait(false);
        if (root is null || SyntaxEdits.TypeAt(root, span) is not { } syntax)
            return null;
        return compilation.GetSemanticModel(syntax.SyntaxTree).GetDeclaredSymbol(syntax, ct) as INamedTypeSymbol;
    }

    private static async Task<Solution> AddAsync(
        Solution solution,
        DeclaredTable table,
        IEnumerable<INamedTypeSymbol> types,
        int first,
        CancellationToken ct
    )
    {
        var attributes = types.Select(
            (type, i) =>
            {
                var name = type.ToDisplayString(SymbolDisplayFormat.FullyQualifiedFormat);
                return SyntaxEdits.Attribute($"Spector.EventSchema(typeof({name}), {first + i})");
            }
        );
        return await SyntaxEdits.AddAttributesAsync(solution, table.Class, attributes, ct).ConfigureAwait(false);
    }

    /// <summary>Fix all: every orphan of the scope on the chosen table, with consecutive free indexes.</summary>
    private sealed class AddAllSchemas : FixAllProvider
    {
        public override async Task<CodeAction?> GetFixAsync(FixAllContext context)
        {
            if (context.CodeActionEquivalenceKey?.StartsWith(KeyPrefix, StringComparison.Ordinal) != true)
                return null;
            var tableName = context.CodeActionEquivalenceKey.Substring(KeyPrefix.Length);
            var project = context.Project;
            var compilation = await project.GetCompilationAsync(context.CancellationToken).ConfigureAwait(false);
            if (
                compilation is null
                || EventsTables.Read(compilation).FirstOrDefault(t => t.Name == tableName) is not { } table
            )
                return null;
            var types = new List<INamedTypeSymbol>();
            foreach (var diagnostic in await context.GetAllDiagnosticsAsync(project).ConfigureAwait(false))
                // Generator diagnostics carry a path, not the tree: find the document by its path.
                if (
                    diagnostic.Id == "SPEC001"
                    && project.Documents.FirstOrDefault(d => d.FilePath == diagnostic.Location.GetLineSpan().Path)
                        is { } document
                    && await TypeOfAsync(
                            document,
                            diagnostic.Location.SourceSpan,
                            compilation,
                            context.CancellationToken
                        )
                        .ConfigureAwait(false)
                        is { } type
                    && !types.Contains(type, SymbolEqualityComparer.Default)
                )
                    types.Add(type);
            var next = NextFreeIndex(project, table);
            return CodeAction.Create(
                $"List {types.Count} types on '{table.Class.Name}'",
                ct => AddAsync(context.Solution, table, types, next, ct),
                context.CodeActionEquivalenceKey
            );
        }
    }
}

/// <summary>
/// The source side of the lock fixes: put a locked schema back (SPEC019), move a type off a locked index (SPEC020),
/// restore a lowered version (SPEC021), alias a renamed action to its stored code (SPEC022).
/// </summary>
[ExportCodeFixProvider(LanguageNames.CSharp, Name = nameof(LockedSchemaSourceFix)), Shared]
public sealed class LockedSchemaSourceFix : CodeFixProvider
{
    public override ImmutableArray<string> FixableDiagnosticIds { get; } =
        ImmutableArray.Create("SPEC019", "SPEC020", "SPEC021", "SPEC022");

    // Versions and aliases touch one attribute each, so a batch of them never overlaps; new indexes would collide.
    public override FixAllProvider? GetFixAllProvider() => WellKnownFixAllProviders.BatchFixer;

    public override async Task RegisterCodeFixesAsync(CodeFixContext context)
    {
        var root = await context.Document.GetSyntaxRootAsync(context.CancellationToken).ConfigureAwait(false);
        var compilation = await context
            .Document.Project.GetCompilationAsync(context.CancellationToken)
            .ConfigureAwait(false);
        if (root is null || compilation is null)
            return;
        var solution = context.Document.Project.Solution;
        foreach (var diagnostic in context.Diagnostics)
        {
            var attribute = root.FindNode(diagnostic.Location.SourceSpan).FirstAncestorOrSelf<AttributeSyntax>();
            switch (diagnostic.Id)
            {
                case "SPEC019"
                    when Lines(diagnostic).Select(LockFile.ParseLine).FirstOrDefault() is { IsSchema: true } locked
                        && compilation.GetTypeByMetadataName(locked.Type) is { } type
                        && EventsTables.Read(compilation).FirstOrDefault(t => t.Name == locked.Table) is { } table:
                    var title = $"Put back [EventSchema(typeof({type.Name}), {locked.Index})]";
                    var typeName = type.ToDisplayString(SymbolDisplayFormat.FullyQualifiedFormat);
                    var schema = SyntaxEdits.Attribute($"Spector.EventSchema(typeof({typeName}), {locked.Index})");
                    context.RegisterCodeFix(
                        CodeAction.Create(
                            title,
                            ct => SyntaxEdits.AddAttributesAsync(solution, table.Class, new[] { schema }, ct),
                            "SpectorPutBackSchema"
                        ),
                        diagnostic
                    );
                    break;
                case "SPEC020"
                    when attribute?.ArgumentList?.Arguments.Count == 2
                        && Number(diagnostic, SchemaLockAnalyzer.NextIndexProperty) is { } next:
                    context.RegisterCodeFix(
                        CodeAction.Create(
                            $"Use the free schema index {next}",
                            _ =>
                                Task.FromResult(
                                    context.Document.WithSyntaxRoot(
                                        root.ReplaceNode(
                                            attribute.ArgumentList.Arguments[1].Expression,
                                            Literal(next).WithTriviaFrom(attribute.ArgumentList.Arguments[1].Expression)
                                        )
                                    )
                                ),
                            "SpectorFreeIndex"
                        ),
                        diagnostic
                    );
                    break;
                case "SPEC021"
                    when attribute is not null
                        && Number(diagnostic, SchemaLockAnalyzer.LockedVersionProperty) is { } version:
                    context.RegisterCodeFix(
                        CodeAction.Create(
                            $"Set Version = {version}",
                            _ =>
                                Task.FromResult(
                                    context.Document.WithSyntaxRoot(
                                        root.ReplaceNode(attribute, WithVersion(attribute, version))
                                    )
                                ),
                            "SpectorRestoreVersion"
                        ),
                        diagnostic
                    );
                    break;
                case "SPEC022"
                    when Lines(diagnostic).Select(LockFile.ParseLine).FirstOrDefault() is { IsSchema: false } action
                        && EventsTables.Read(compilation).FirstOrDefault(t => t.Name == action.Table) is { } owner:
                    foreach (
                        var candidate in Value(diagnostic, SchemaLockAnalyzer.AliasCandidatesProperty)?.Split('\n')
                            ?? Array.Empty<string>()
                    )
                    {
                        var alias = $"Spector.ActionAlias(\"{candidate}\", \"{action.Action}\")";
                        context.RegisterCodeFix(
                            CodeAction.Create(
                                $"Add [ActionAlias(\"{candidate}\", \"{action.Action}\")] to '{owner.Class.Name}'",
                                ct =>
                                    SyntaxEdits.AddAttributesAsync(
                                        solution,
                                        owner.Class,
                                        new[] { SyntaxEdits.Attribute(alias) },
                                        ct
                                    ),
                                "SpectorAlias:" + candidate
                            ),
                            diagnostic
                        );
                    }
                    break;
            }
        }
    }

    private static AttributeSyntax WithVersion(AttributeSyntax attribute, int version)
    {
        var arguments = attribute.ArgumentList ?? SyntaxFactory.AttributeArgumentList();
        var existing = arguments.Arguments.FirstOrDefault(a => a.NameEquals?.Name.Identifier.Text == "Version");
        var updated = existing is not null
            ? arguments.ReplaceNode(existing.Expression, Literal(version).WithTriviaFrom(existing.Expression))
            : arguments.AddArguments(
                SyntaxFactory.AttributeArgument(SyntaxFactory.NameEquals("Version"), null, Literal(version))
            );
        return attribute.WithArgumentList(updated);
    }

    private static LiteralExpressionSyntax Literal(int value) =>
        SyntaxFactory.LiteralExpression(SyntaxKind.NumericLiteralExpression, SyntaxFactory.Literal(value));

    private static IEnumerable<string> Lines(Diagnostic diagnostic) =>
        Value(diagnostic, SchemaLockAnalyzer.LockLinesProperty)?.Split('\n') ?? Array.Empty<string>();

    private static string? Value(Diagnostic diagnostic, string name) =>
        diagnostic.Properties.TryGetValue(name, out var value) && !string.IsNullOrEmpty(value) ? value : null;

    private static int? Number(Diagnostic diagnostic, string name) =>
        int.TryParse(Value(diagnostic, name), NumberStyles.None, CultureInfo.InvariantCulture, out var n) ? n : null;
}
