using System.Collections.Generic;
using System.Linq;
using System.Text;
using System.Text.RegularExpressions;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Spector.Generators.Model;

namespace Spector.Generators.Parsing;

/// <summary>Small readers shared by the parsers.</summary>
internal static class SymbolReader
{
    private static readonly Regex Identifier = new("^[A-Za-z_][A-Za-z0-9_]{0,62}$", RegexOptions.CultureInvariant);

    public static bool IsValidIdentifier(string? name) => name is not null && Identifier.IsMatch(name);

    public static readonly SymbolDisplayFormat FullyQualified =
        SymbolDisplayFormat.FullyQualifiedFormat.AddMiscellaneousOptions(
            SymbolDisplayMiscellaneousOptions.IncludeNullableReferenceTypeModifier
        );

    public static TypeName NameOf(INamedTypeSymbol type)
    {
        var containers = new List<string>();
        for (var outer = type.ContainingType; outer is not null; outer = outer.ContainingType)
            containers.Insert(0, Keyword(outer) + " " + WithTypeParameters(outer));
        // Names as declared, without the '@' of escaped keywords: the emitters escape where code needs it.
        var ns = type.ContainingNamespace is { IsGlobalNamespace: false } n ? n.ToDisplayString().Replace("@", "") : "";
        return new TypeName(
            ns,
            WithTypeParameters(type),
            containers.ToEquatableArray(),
            type.IsRecord ? "record" : "class"
        );
    }

    // Generic types are refused (SPEC035), but their names must still differ from a non-generic namesake's.
    private static string WithTypeParameters(INamedTypeSymbol type) =>
        type.Arity > 0 ? $"{type.Name}<{string.Join(",", type.TypeParameters.Select(p => p.Name))}>" : type.Name;

    /// <summary>True when the type and every type containing it are declared partial.</summary>
    public static bool IsPartialAllTheWay(INamedTypeSymbol type)
    {
        for (var t = type; t is not null; t = t.ContainingType)
        {
            var partial = t
                .DeclaringSyntaxReferences.Select(r => r.GetSyntax())
                .OfType<TypeDeclarationSyntax>()
                .Any(d => d.Modifiers.Any(SyntaxKind.PartialKeyword));
            if (!partial)
                return false;
        }
        return true;
    }

    public static T? NamedArgument<T>(AttributeData attribute, string name, T? fallback = default)
    {
        foreach (var pair in attribute.NamedArguments)
            if (pair.Key == name && pair.Value.Value is T value)
                return value;
        return fallback;
    }

    /// <summary>
    /// Where the user wrote one argument of an attribute: a named one (<c>Table = ...</c>) or the n-th positional
    /// one, so a diagnostic points at the token to change; the attribute itself when the argument is absent.
    /// </summary>
    public static LocationInfo? ArgumentLocation(AttributeData attribute, string? name, int position = 0)
    {
        if (attribute.ApplicationSyntaxReference?.GetSyntax() is not AttributeSyntax syntax)
            return null;
        var arguments = syntax.ArgumentList?.Arguments ?? default(SeparatedSyntaxList<AttributeArgumentSyntax>);
        var found = name is null
            ? arguments.Where(a => a.NameEquals is null && a.NameColon is null).ElementAtOrDefault(position)
            : arguments.FirstOrDefault(a => a.NameEquals?.Name.Identifier.ValueText == name);
        return LocationInfo.From(found is null ? syntax.GetLocation() : found.Expression.GetLocation());
    }

    /// <summary>
    /// The string literals of a named array argument in order (the elements of <c>Actions = ["a", "b"]</c>), or
    /// null when they are not all literals; then callers fall back to <see cref="ArgumentLocation"/>.
    /// </summary>
    public static List<LocationInfo?>? ElementLocations(AttributeData attribute, string name, int count)
    {
        if (attribute.ApplicationSyntaxReference?.GetSyntax() is not AttributeSyntax syntax)
            return null;
        var argument = syntax.ArgumentList?.Arguments.FirstOrDefault(a =>
            a.NameEquals?.Name.Identifier.ValueText == name
        );
        var literals = argument
            ?.Expression.DescendantNodesAndSelf()
            .OfType<LiteralExpressionSyntax>()
            .Where(l => l.IsKind(SyntaxKind.StringLiteralExpression))
            .Select(l => LocationInfo.From(l.GetLocation()))
            .ToList();
        return literals is not null && literals.Count == count ? literals : null;
    }

    /// <summary><c>InsertedAt</c> → <c>inserted_at</c>, <c>HTMLBody</c> → <c>html_body</c>.</summary>
    public static string SnakeCase(string name)
    {
        var builder = new StringBuilder(name.Length + 4);
        for (var i = 0; i < name.Length; i++)
        {
            var c = name[i];
            if (char.IsUpper(c))
            {
                var previousIsLowerOrDigit = i > 0 && (char.IsLower(name[i - 1]) || char.IsDigit(name[i - 1]));
                var startsWord = i > 0 && char.IsUpper(name[i - 1]) && i + 1 < name.Length && char.IsLower(name[i + 1]);
                if (previousIsLowerOrDigit || startsWord)
                    builder.Append('_');
                builder.Append(char.ToLowerInvariant(c));
            }
            else
            {
                builder.Append(c);
            }
        }
        return builder.ToString();
    }

    private static string Keyword(INamedTypeSymbol type) =>
        (type.IsRecord, type.TypeKind) switch
        {
            (true, TypeKind.Struct) => "partial record struct",
            (true, _) => "partial record",
            (_, TypeKind.Struct) => "partial struct",
            (_, TypeKind.Interface) => "partial interface",
            _ => "partial class",
        };
}
