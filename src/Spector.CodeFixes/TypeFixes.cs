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
    public override ImmutableArray<string> FixableDiagnosticIds { get; } = ["SPEC005"];

    public override FixAllProvider GetFixAllProvider() => WellKnownFixAllProviders.BatchFixer;

    public override async Task RegisterCodeFixesAsync(CodeFixContext context)
    {
        var root = await context.Document.GetSyntaxRootAsync(context.CancellationToken).ConfigureAwait(false);
        if (root is null || SyntaxEdits.TypeAt(root, context.Span) is not { } type) return;
        context.RegisterCodeFix(CodeAction.Create($"Make '{type.Identifier.Text}' partial",
            _ => Task.FromResult(context.Document.WithSyntaxRoot(root.ReplaceNodes(
                type.AncestorsAndSelf().OfType<TypeDeclarationSyntax>().Where(t => !t.Modifiers.Any(SyntaxKind.PartialKeyword)),
                (_, t) => t.AddModifiers(SyntaxFactory.Token(SyntaxKind.PartialKeyword).WithTrailingTrivia(SyntaxFactory.Space))))),
            nameof(MakePartialFix)), context.Diagnostics);
    }
}

/// <summary>SPEC006 and SPEC025: adds a handler stub with the signature the generator expects.</summary>
[ExportCodeFixProvider(LanguageNames.CSharp, Name = nameof(AddHandlerFix)), Shared]
public sealed class AddHandlerFix : CodeFixProvider
{
    public override ImmutableArray<string> FixableDiagnosticIds { get; } = ["SPEC006", "SPEC025"];

    public override FixAllProvider? GetFixAllProvider() => null;

    public override async Task RegisterCodeFixesAsync(CodeFixContext context)
    {
        var root = await context.Document.GetSyntaxRootAsync(context.CancellationToken).ConfigureAwait(false);
        if (root is null || SyntaxEdits.TypeAt(root, context.Span) is not { } type) return;
        var name = type.Identifier.Text;
        foreach (var diagnostic in context.Diagnostics)
        {
            string title, code;
            if (diagnostic.Id == "SPEC006")
            {
                title = $"Add the default handler 'Changeset(Changeset<{name}> c)'";
                code = $"static void Changeset(Spector.Changeset<{name}> c)\n{{\n}}\n";
            }
            else if (diagnostic.Properties.TryGetValue(ActionHandlerAnalyzer.ActionProperty, out var action) && action is not null)
            {
                title = $"Add a typed handler for action '{action}'";
                code = $"[Spector.OnAction(\"{action}\")]\nstatic void {SyntaxEdits.PascalCase(action)}(Spector.Changeset<{name}> c)\n{{\n}}\n";
            }
            else continue;
            context.RegisterCodeFix(CodeAction.Create(title,
                _ => Task.FromResult(context.Document.WithSyntaxRoot(root.ReplaceNode(type, type.AddMembers(SyntaxEdits.Member(code))))),
                title), diagnostic);
        }
    }
}
