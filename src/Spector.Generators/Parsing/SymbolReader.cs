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
        SymbolDisplayFormat.FullyQualifiedFormat.AddMiscellaneousOptions(SymbolDisplayMiscellaneousOptions.IncludeNullableReferenceTypeModifier);

    public static TypeName NameOf(INamedTypeSymbol type)
    {
        var containers = new List<string>();
        for (var outer = type.ContainingType; outer is not null; outer = outer.ContainingType)
            containers.Insert(0, Keyword(outer) + " " + outer.Name);
        var ns = type.ContainingNamespace is { IsGlobalNamespace: false } n ? n.ToDisplayString() : "";
        return new TypeName(ns, type.Name, containers.ToEquatableArray());
    }

    /// <summary>True when the type and every type containing it are declared partial.</summary>
    public static bool IsPartialAllTheWay(INamedTypeSymbol type)
    {
        for (var t = type; t is not null; t = t.ContainingType)
        {
            var partial = t.DeclaringSyntaxReferences
                .Select(r => r.GetSyntax())
                .OfType<TypeDeclarationSyntax>()
                .Any(d => d.Modifiers.Any(SyntaxKind.PartialKeyword));
            if (!partial) return false;
        }
        return true;
    }

    public static T? NamedArgument<T>(AttributeData attribute, string name, T? fallback = default)
    {
        foreach (var pair in attribute.NamedArguments)
            if (pair.Key == name && pair.Value.Value is T value) return value;
        return fallback;
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
                if (previousIsLowerOrDigit || startsWord) builder.Append('_');
                builder.Append(char.ToLowerInvariant(c));
            }
            else
            {
                builder.Append(c);
            }
        }
        return builder.ToString();
    }

    private static string Keyword(INamedTypeSymbol type) => (type.IsRecord, type.TypeKind) switch
    {
        (true, TypeKind.Struct) => "partial record struct",
        (true, _) => "partial record",
        (_, TypeKind.Struct) => "partial struct",
        (_, TypeKind.Interface) => "partial interface",
        _ => "partial class",
    };
}
