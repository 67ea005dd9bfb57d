using System.Collections.Generic;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Microsoft.CodeAnalysis.Formatting;
using Microsoft.CodeAnalysis.Simplification;

namespace Spector.CodeFixes;

/// <summary>Small syntax builders shared by the fixes; new code is annotated so the IDE formats and simplifies
/// it.</summary>
internal static class SyntaxEdits
{
    public static AttributeListSyntax Attribute(string text) =>
        SyntaxFactory
            .ParseCompilationUnit($"[{text}] class C {{ }}")
            .DescendantNodes()
            .OfType<AttributeListSyntax>()
            .First()
            .WithAdditionalAnnotations(Formatter.Annotation, Simplifier.Annotation);

    public static MemberDeclarationSyntax Member(string text) =>
        SyntaxFactory
            .ParseMemberDeclaration(text)!
            .WithAdditionalAnnotations(Formatter.Annotation, Simplifier.Annotation);

    /// <summary>snake_case or kebab-case action names as a C# method name: "mark_paid" becomes MarkPaid.</summary>
    public static string PascalCase(string name) =>
        string.Concat(
            name.Split('_', '-', ' ', '.')
                .Where(p => p.Length > 0)
                .Select(p => char.ToUpperInvariant(p[0]) + p.Substring(1))
        );

    /// <summary>Adds attribute lists to a type's first declaration (the events table class, for schemas and
    /// aliases).</summary>
    public static async Task<Solution> AddAttributesAsync(
        Solution solution,
        INamedTypeSymbol type,
        IEnumerable<AttributeListSyntax> attributes,
        CancellationToken ct
    )
    {
        var reference = type.DeclaringSyntaxReferences.First();
        var document = solution.GetDocument(reference.SyntaxTree);
        if (document is null)
            return solution;
        var root = await reference.SyntaxTree.GetRootAsync(ct).ConfigureAwait(false);
        var declaration = (TypeDeclarationSyntax)await reference.GetSyntaxAsync(ct).ConfigureAwait(false);
        return solution.WithDocumentSyntaxRoot(
            document.Id,
            root.ReplaceNode(declaration, declaration.AddAttributeLists(attributes.ToArray()))
        );
    }

    public static TypeDeclarationSyntax? TypeAt(SyntaxNode root, Microsoft.CodeAnalysis.Text.TextSpan span) =>
        root.FindNode(span, getInnermostNodeForTie: true)
            .AncestorsAndSelf()
            .OfType<TypeDeclarationSyntax>()
            .FirstOrDefault();
}
