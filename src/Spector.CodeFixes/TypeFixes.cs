using System.Collections.Immutable;
using System.Composition;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CodeActions;
using Microsoft.CodeAnalysis.CodeFixes;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Spector.Analyzers.Usage;

namespace Spector.CodeFixes;

/// <summary>SPEC005: adds <c>partial</c> to the type and to every containing type that lacks it.</summary>
[ExportCodeFixProvider(LanguageNames.CSharp, Name = nameof(MakePartialFix)), Shared]
public sealed class MakePartialFix : CodeFixProvider
{
    public override ImmutableArray<string> FixableDiagnosticIds { get; } = ImmutableArray.Create("SPEC005");

    public override FixAllProvider GetFixAllProvider() => WellKnownFixAllProviders.BatchFixer;

    public override async Task RegisterCodeFixesAsync(CodeFixContext context)
    {
        var root = await context.Document.GetSyntaxRootAsync(context.CancellationToken).ConfigureAwait(false);
        if (root is null || SyntaxEdits.TypeAt(root, context.Span) is not { } type)
            return;
        context.RegisterCodeFix(
            CodeAction.Create(
                $"Make '{type.Identifier.Text}' partial",
                _ =>
                    Task.FromResult(
                        context.Document.WithSyntaxRoot(
                            root.ReplaceNodes(
                                type.AncestorsAndSelf()
                                    .OfType<TypeDeclarationSyntax>()
                                    .Where(t => !t.Modifiers.Any(SyntaxKind.PartialKeyword)),
                                (_, t) =>
                                    t.AddModifiers(
                                        SyntaxFactory
                                            .Token(SyntaxKind.PartialKeyword)
                                            .WithTrailingTrivia(SyntaxFactory.Space)
                                    )
                            )
                        )
                    ),
                nameof(MakePartialFix)
            ),
            context.Diagnostics
        );
    }
}

/// <summary>SPEC006 and SPEC025: adds a handler stub with the signature the generator expects.</summary>
[ExportCodeFixProvider(LanguageNames.CSharp, Name = nameof(AddHandlerFix)), Shared]
public sealed class AddHandlerFix : CodeFixProvider
{
    public override ImmutableArray<string> FixableDiagnosticIds { get; } = ImmutableArray.Create("SPEC006", "SPEC025");

    // Several handlers may go into one type: fix all adds every stub of a document in one edit, not as clashing
    // inserts.
    public override FixAllProvider GetFixAllProvider() =>
        FixAllProvider.Create(
            async (_, document, diagnostics) =>
            {
                var root = await document.GetSyntaxRootAsync().ConfigureAwait(false);
                if (root is null)
                    return document;
                var stubs = diagnostics
                    .Select(d => (Type: SyntaxEdits.TypeAt(root, d.Location.SourceSpan), Stub: Stub(d, root)))
                    .Where(s => s.Type is not null && s.Stub is not null)
                    .ToList();
                return document.WithSyntaxRoot(
                    root.ReplaceNodes(
                        stubs.Select(s => s.Type!).Distinct(),
                        (original, _) =>
                            original.AddMembers(
                                stubs
                                    .Where(s => s.Type == original)
                                    .Select(s => SyntaxEdits.Member(s.Stub!.Value.Code))
                                    .ToArray()
                            )
                    )
                );
            }
        );

    public override async Task RegisterCodeFixesAsync(CodeFixContext context)
    {
        var root = await context.Document.GetSyntaxRootAsync(context.CancellationToken).ConfigureAwait(false);
        if (root is null || SyntaxEdits.TypeAt(root, context.Span) is not { } type)
            return;
        foreach (var diagnostic in context.Diagnostics)
        {
            if (Stub(diagnostic, root) is not var (title, code, key))
                continue;
            context.RegisterCodeFix(
                CodeAction.Create(
                    title,
                    _ =>
                        Task.FromResult(
                            context.Document.WithSyntaxRoot(
                                root.ReplaceNode(type, type.AddMembers(SyntaxEdits.Member(code)))
                            )
                        ),
                    key
                ),
                diagnostic
            );
        }
    }

    private static (string Title, string Code, string Key)? Stub(Diagnostic diagnostic, SyntaxNode root)
    {
        if (SyntaxEdits.TypeAt(root, diagnostic.Location.SourceSpan) is not { } type)
            return null;
        var name = type.Identifier.Text;
        if (diagnostic.Id == "SPEC006")
            return (
                $"Add the default handler 'Changeset(Changeset<{name}> c)'",
                $"static void Changeset(Spector.Changeset<{name}> c)\n{{\n}}\n",
                "SpectorDefaultHandler"
            );
        if (
            diagnostic.Properties.TryGetValue(ActionHandlerAnalyzer.ActionProperty, out var action)
            && action is not null
        )
            return (
                $"Add a typed handler for action '{action}'",
                $"[Spector.OnAction(\"{action}\")]\n"
                    + $"static void {SyntaxEdits.PascalCase(action)}(Spector.Changeset<{name}> c)\n{{\n}}\n",
                "SpectorTypedHandler"
            );
        return null;
    }
}
