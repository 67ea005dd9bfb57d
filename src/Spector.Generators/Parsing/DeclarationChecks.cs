using System;
using System.Collections.Generic;
using System.Linq;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Spector.Diagnostics;
using Spector.Generators.Model;
using static Spector.Diagnostics.DiagnosticDescriptors;

namespace Spector.Generators.Parsing;

/// <summary>
/// Declarations the generator would otherwise turn into code that does not compile, or into storage that
/// silently misbehaves: each becomes a SPEC error at the line to change.
/// </summary>
internal static class DeclarationChecks
{
    /// <summary>Why the type cannot be evented (SPEC035), or null. Class records are supported.</summary>
    public static string? UnsupportedShape(INamedTypeSymbol type)
    {
        if (type.TypeKind != TypeKind.Class)
        {
            var kind =
                type.IsRecord ? "a record struct"
                : type.TypeKind == TypeKind.Interface ? "an interface"
                : "a struct";
            return $"it is {kind}; evented types are classes or record classes, rebuilt in place by replay";
        }
        if (IsFileLocal(type))
            return "it is file-local; the events table and the runtime reach it from other files, so remove 'file'";
        if (type.Arity > 0)
            return "it is generic; a schema index stands for one concrete type, so declare a non-generic class";
        for (var outer = type.ContainingType; outer is not null; outer = outer.ContainingType)
        {
            if (outer.Arity > 0)
                return $"it is nested in the generic type '{outer.ToDisplayString()}'; declare it outside generic "
                    + "types";
        }
        return null;
    }

    /// <summary>Declared <c>file</c>, or nested in such a type (read from syntax: Roslyn 4.3 has no
    /// IsFileLocal).</summary>
    private static bool IsFileLocal(INamedTypeSymbol type)
    {
        for (var t = type; t is not null; t = t.ContainingType)
        {
            var local = t
                .DeclaringSyntaxReferences.Select(r => r.GetSyntax())
                .OfType<BaseTypeDeclarationSyntax>()
                .Any(d => d.Modifiers.Any(m => m.ValueText == "file"));
            if (local)
                return true;
        }
        return false;
    }

    /// <summary>
    /// Each action must make a usable method name (SPEC029), its own (SPEC030), and not one Spector generates
    /// anyway (SPEC031). Returns the method names the actions generate.
    /// </summary>
    public static List<string> CheckActions(
        INamedTypeSymbol type,
        AttributeData attribute,
        List<string> actions,
        List<DiagnosticInfo> diagnostics
    )
    {
        var locations = SymbolReader.ElementLocations(attribute, "Actions", actions.Count);
        var fallback = SymbolReader.ArgumentLocation(attribute, "Actions");
        var byMethod = new Dictionary<string, string>(StringComparer.Ordinal);
        for (var i = 0; i < actions.Count; i++)
        {
            var (action, at) = (actions[i], locations?[i] ?? fallback);
            var method = GeneratedNames.ActionMethod(action);
            if (!GeneratedNames.IsUsableActionMethod(method))
                diagnostics.Add(DiagnosticInfo.Create(ActionNameNotAMethod, at, action, type.Name, method));
            else if (byMethod.TryGetValue(method, out var first))
                diagnostics.Add(DiagnosticInfo.Create(ActionsShareMethod, at, first, action, type.Name, method));
            else if (Array.IndexOf(GeneratedNames.EventedMembers, method) >= 0)
                diagnostics.Add(
                    DiagnosticInfo.Create(
                        NameTakenByGeneratedCode,
                        at,
                        action,
                        $"its method would be '{method}', which Spector generates for every evented type"
                    )
                );
            else
                byMethod[method] = action;
        }
        return byMethod.Keys.ToList();
    }

    /// <summary>The type's name and the members the user declared must not be names Spector adds to it
    /// (SPEC031).</summary>
    public static void CheckReservedNames(
        INamedTypeSymbol type,
        IReadOnlyCollection<string> generated,
        List<DiagnosticInfo> diagnostics
    )
    {
        if (generated.Contains(type.Name))
            diagnostics.Add(
                DiagnosticInfo.Create(
                    NameTakenByGeneratedCode,
                    LocationInfo.From(type),
                    type.Name,
                    $"Spector generates a member '{type.Name}' inside it, and a member cannot be named like its type"
                )
            );
        foreach (var member in type.GetMembers())
        {
            var declared = !member.IsImplicitlyDeclared && member.Locations.Any(l => l.IsInSource);
            if (!declared || !generated.Contains(member.Name))
                continue;
            diagnostics.Add(
                DiagnosticInfo.Create(
                    NameTakenByGeneratedCode,
                    LocationInfo.From(member),
                    $"{type.Name}.{member.Name}",
                    $"Spector generates '{member.Name}' on '{type.Name}'"
                )
            );
        }
    }

    /// <summary>Two members stored under one payload key or one column would overwrite each other (SPEC032).</summary>
    public static void CheckStoredNames(
        string owner,
        string what,
        IEnumerable<(string Member, string? Stored, LocationInfo? Location)> members,
        List<DiagnosticInfo> diagnostics
    )
    {
        var seen = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (member, stored, location) in members)
        {
            if (stored is null)
                continue;
            if (seen.TryGetValue(stored, out var first))
                diagnostics.Add(
                    DiagnosticInfo.Create(StoredNameUsedTwice, location, first, member, owner, what, stored)
                );
            else
                seen[stored] = member;
        }
    }

    /// <summary>Why a typed action parameter's type cannot be stored or exposed (SPEC033), or null.</summary>
    public static string? UnusableParameterType(ITypeSymbol type, INamedTypeSymbol owner)
    {
        switch (type.TypeKind)
        {
            case TypeKind.Error:
                return null;
            case TypeKind.Delegate:
                return "is a delegate: code cannot be stored in an event";
            case TypeKind.Pointer or TypeKind.FunctionPointer:
                return "is a pointer: an address means nothing on replay";
            case TypeKind.TypeParameter:
                return "is a type parameter";
        }
        if (type.IsRefLikeType)
            return "is a ref struct, which cannot be stored";
        for (var t = type as INamedTypeSymbol; t is not null; t = t.BaseType)
        {
            switch (t.ToDisplayString())
            {
                case "System.IO.Stream":
                    return "is a stream: its bytes would not be read into the event";
                case "System.Threading.Tasks.Task"
                or "System.Threading.CancellationToken"
                or "System.Threading.WaitHandle":
                    return "is not data";
            }
        }
        if (Reach(type) < Reach(owner))
            return $"is less accessible than '{owner.Name}', whose generated action method takes it";
        return null;
    }

    /// <summary>Public init-only properties replay could not set, and required members it could not create
    /// (SPEC034).</summary>
    public static void CheckReplayable(INamedTypeSymbol type, List<DiagnosticInfo> diagnostics)
    {
        foreach (var member in type.GetMembers())
        {
            if (member.IsStatic || member.IsImplicitlyDeclared)
                continue;
            var required = member.DeclaringSyntaxReferences.Select(r => r.GetSyntax()).Any(IsRequired);
            var at = LocationInfo.From(member);
            if (required)
                diagnostics.Add(
                    DiagnosticInfo.Create(
                        PropertyNotReplayable,
                        at,
                        member.Name,
                        type.Name,
                        "required (replay creates each record with only its Id set)"
                    )
                );
            else if (
                member
                    is IPropertySymbol
                    {
                        DeclaredAccessibility: Accessibility.Public,
                        SetMethod.IsInitOnly: true
                    } property
                && !property.GetAttributes().Any(a => a.AttributeClass?.Name == "NotMappedAttribute")
            )
                diagnostics.Add(DiagnosticInfo.Create(PropertyNotReplayable, at, member.Name, type.Name, "init-only"));
        }
    }

    private static bool IsRequired(SyntaxNode node)
    {
        var modifiers = node switch
        {
            MemberDeclarationSyntax declaration => declaration.Modifiers,
            VariableDeclaratorSyntax { Parent.Parent: MemberDeclarationSyntax field } => field.Modifiers,
            _ => default,
        };
        return modifiers.Any(m => m.ValueText == "required");
    }

    /// <summary>How far a type can be seen, coarsely: private 0, protected/internal 1-2, public 3.</summary>
    private static int Reach(ITypeSymbol type)
    {
        var reach = 3;
        if (type is IArrayTypeSymbol array)
            return Reach(array.ElementType);
        for (ISymbol? t = type; t is INamedTypeSymbol named; t = t.ContainingType)
        {
            reach = Math.Min(
                reach,
                named.DeclaredAccessibility switch
                {
                    Accessibility.Private => 0,
                    Accessibility.ProtectedAndInternal => 1,
                    Accessibility.Protected or Accessibility.Internal => 2,
                    Accessibility.ProtectedOrInternal => 2,
                    _ => 3,
                }
            );
            foreach (var argument in named.TypeArguments)
                reach = Math.Min(reach, Reach(argument));
        }
        return reach;
    }
}
