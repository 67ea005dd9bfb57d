using System.Collections.Generic;
using System.Linq;
using System.Threading;
using Microsoft.CodeAnalysis;
using Spector.Diagnostics;
using Spector.Generators.Model;

namespace Spector.Generators.Parsing;

/// <summary>Reads an <c>[Evented]</c> class: version, record table, properties and handlers.</summary>
internal static class EventedParser
{
    private const string ChangesetType = "Spector.Changeset<T>";
    private const string NotMappedAttribute = "System.ComponentModel.DataAnnotations.Schema.NotMappedAttribute";
    private const string ColumnAttribute = "System.ComponentModel.DataAnnotations.Schema.ColumnAttribute";

    public static EventedModel Parse(GeneratorAttributeSyntaxContext context, CancellationToken ct)
    {
        var type = (INamedTypeSymbol)context.TargetSymbol;
        var attribute = context.Attributes[0];
        var location = LocationInfo.From(type);
        var diagnostics = new List<DiagnosticInfo>();
        var version = SymbolReader.NamedArgument(attribute, "Version", 0);
        var table = SymbolReader.NamedArgument<string>(attribute, "Table");

        if (!SymbolReader.IsPartialAllTheWay(type))
            diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.NotPartial, location, type.Name));
        if (table is not null && !SymbolReader.IsValidIdentifier(table))
            diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.InvalidIdentifier, location, table, "record table"));
        if (!type.InstanceConstructors.Any(c => c.Parameters.Length == 0))
            diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.NoParameterlessConstructor, location, type.Name));
        if (!HasChangesetHandler(type))
            diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.MissingChangesetHandler, location, type.Name));

        var properties = new List<PropertyModel>();
        foreach (var property in PublicSettableProperties(type))
        {
            ct.ThrowIfCancellationRequested();
            properties.Add(ReadProperty(property, table, type, diagnostics));
        }
        if (!properties.Any(p => p.Name == "Id" && p.Kind == ValueKind.Guid && !p.IsNullable))
            diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.NoGuidKey, location, type.Name));

        return new EventedModel(SymbolReader.NameOf(type), version, table, properties.ToEquatableArray(), diagnostics.ToEquatableArray());
    }

    private static PropertyModel ReadProperty(IPropertySymbol property, string? table, INamedTypeSymbol owner, List<DiagnosticInfo> diagnostics)
    {
        var propertyType = property.Type;
        var isNullableValue = propertyType is INamedTypeSymbol { OriginalDefinition.SpecialType: SpecialType.System_Nullable_T };
        var valueType = isNullableValue ? ((INamedTypeSymbol)propertyType).TypeArguments[0] : propertyType;
        var kind = KindOf(valueType);
        var isReference = propertyType.IsReferenceType;
        var isNullable = isNullableValue || (isReference && property.NullableAnnotation != NullableAnnotation.NotAnnotated);

        string? column = null;
        var attributes = property.GetAttributes();
        if (table is not null && !attributes.Any(a => a.AttributeClass?.ToDisplayString() == NotMappedAttribute))
        {
            var columnAttribute = attributes.FirstOrDefault(a => a.AttributeClass?.ToDisplayString() == ColumnAttribute);
            column = columnAttribute is { ConstructorArguments.Length: 1 } && columnAttribute.ConstructorArguments[0].Value is string explicitName
                ? explicitName
                : SymbolReader.SnakeCase(property.Name);
            var location = LocationInfo.From(property);
            if (!SymbolReader.IsValidIdentifier(column))
                diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.InvalidIdentifier, location, column, "column"));
            if (kind == ValueKind.Other)
                diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.UnsupportedColumnType, location,
                    property.Name, owner.Name, propertyType.ToDisplayString(), table));
        }

        return new PropertyModel(
            property.Name,
            SymbolReader.SnakeCase(property.Name),
            column,
            propertyType.ToDisplayString(SymbolReader.FullyQualified),
            valueType.WithNullableAnnotation(NullableAnnotation.NotAnnotated).ToDisplayString(SymbolDisplayFormat.FullyQualifiedFormat),
            kind,
            isNullable,
            isReference);
    }

    private static IEnumerable<IPropertySymbol> PublicSettableProperties(INamedTypeSymbol type)
    {
        var seen = new HashSet<string>();
        for (var t = type; t is not null && t.SpecialType != SpecialType.System_Object; t = t.BaseType)
        {
            foreach (var member in t.GetMembers())
            {
                if (member is not IPropertySymbol
                    {
                        IsStatic: false, IsIndexer: false, DeclaredAccessibility: Accessibility.Public,
                        GetMethod: not null, SetMethod: { DeclaredAccessibility: Accessibility.Public, IsInitOnly: false },
                    } property) continue;
                if (seen.Add(property.Name)) yield return property;
            }
        }
    }

    private static bool HasChangesetHandler(INamedTypeSymbol type) =>
        type.GetMembers("Changeset").OfType<IMethodSymbol>().Any(m =>
            m is { IsStatic: true, ReturnsVoid: true, Parameters.Length: 1, IsGenericMethod: false }
            && m.Parameters[0].Type is INamedTypeSymbol { TypeArguments.Length: 1 } p
            && p.OriginalDefinition.ToDisplayString() == ChangesetType
            && SymbolEqualityComparer.Default.Equals(p.TypeArguments[0], type));

    private static ValueKind KindOf(ITypeSymbol type)
    {
        if (type.TypeKind == TypeKind.Enum) return ValueKind.Enum;
        switch (type.SpecialType)
        {
            case SpecialType.System_String: return ValueKind.String;
            case SpecialType.System_Boolean: return ValueKind.Boolean;
            case SpecialType.System_Int16: return ValueKind.Int16;
            case SpecialType.System_Int32: return ValueKind.Int32;
            case SpecialType.System_Int64: return ValueKind.Int64;
            case SpecialType.System_Single: return ValueKind.Single;
            case SpecialType.System_Double: return ValueKind.Double;
            case SpecialType.System_Decimal: return ValueKind.Decimal;
            case SpecialType.System_DateTime: return ValueKind.DateTime;
        }
        return type.ToDisplayString() switch
        {
            "System.Guid" => ValueKind.Guid,
            "System.DateTimeOffset" => ValueKind.DateTimeOffset,
            _ => ValueKind.Other,
        };
    }
}
