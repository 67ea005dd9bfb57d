using System;
using System.Collections.Generic;
using System.Globalization;
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
    private const string KeyAttribute = "System.ComponentModel.DataAnnotations.KeyAttribute";
    private const string OnActionAttribute = "Spector.OnActionAttribute";
    private const string VersionIsAttribute = "Spector.VersionIsAttribute";
    private const string VersionInAttribute = "Spector.VersionInAttribute";

    public static EventedModel Parse(GeneratorAttributeSyntaxContext context, CancellationToken ct)
    {
        var type = (INamedTypeSymbol)context.TargetSymbol;
        var attribute = context.Attributes[0];
        var location = LocationInfo.From(type);
        var diagnostics = new List<DiagnosticInfo>();
        var version = SymbolReader.NamedArgument(attribute, "Version", 0);
        var table = SymbolReader.NamedArgument<string>(attribute, "Table");
        var actions = attribute.NamedArguments.FirstOrDefault(a => a.Key == "Actions").Value
            is { Kind: TypedConstantKind.Array } array
            ? array.Values.Select(v => v.Value as string).Where(v => v is not null).Select(v => v!).ToList()
            : new List<string>();

        if (DeclarationChecks.UnsupportedShape(type) is { } shape)
            diagnostics.Add(
                DiagnosticInfo.Create(DiagnosticDescriptors.UnsupportedEventedShape, location, type.Name, shape)
            );
        if (!SymbolReader.IsPartialAllTheWay(type))
            diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.NotPartial, location, type.Name));
        if (version < 0)
            diagnostics.Add(
                DiagnosticInfo.Create(
                    DiagnosticDescriptors.NegativeNumber,
                    SymbolReader.ArgumentLocation(attribute, "Version"),
                    $"Version of '{type.Name}'",
                    version.ToString(CultureInfo.InvariantCulture)
                )
            );
        if (table is not null && !SymbolReader.IsValidIdentifier(table))
            diagnostics.Add(
                DiagnosticInfo.Create(
                    DiagnosticDescriptors.InvalidIdentifier,
                    SymbolReader.ArgumentLocation(attribute, "Table"),
                    table,
                    "record table"
                )
            );
        if (!type.InstanceConstructors.Any(c => c.Parameters.Length == 0))
            diagnostics.Add(
                DiagnosticInfo.Create(DiagnosticDescriptors.NoParameterlessConstructor, location, type.Name)
            );
        if (!HasChangesetHandler(type))
        {
            // A method named Changeset with another shape is reported where it is, with the shape it needs.
            var misshapen = type.GetMembers("Changeset").OfType<IMethodSymbol>().ToList();
            foreach (var method in misshapen)
                diagnostics.Add(
                    DiagnosticInfo.Create(
                        DiagnosticDescriptors.BadHandlerSignature,
                        LocationInfo.From(method),
                        "Changeset",
                        type.Name,
                        $"static void Changeset(Changeset<{type.Name}> c)"
                    )
                );
            if (misshapen.Count == 0)
                diagnostics.Add(
                    DiagnosticInfo.Create(DiagnosticDescriptors.MissingChangesetHandler, location, type.Name)
                );
        }
        var actionMethods = DeclarationChecks.CheckActions(type, attribute, actions, diagnostics);
        DeclarationChecks.CheckReservedNames(
            type,
            GeneratedNames.EventedMembers.Concat(actionMethods).ToList(),
            diagnostics
        );
        DeclarationChecks.CheckReplayable(type, diagnostics);

        // The key is 'Id' unless one property is marked [Key]; it is stored as "id" whatever its name.
        var keyed = PublicSettableProperties(type)
            .Where(p => p.GetAttributes().Any(a => a.AttributeClass?.ToDisplayString() == KeyAttribute))
            .ToList();
        var key = keyed.Count == 1 ? keyed[0].Name : "Id";
        if (keyed.Count > 1)
            diagnostics.Add(
                DiagnosticInfo.Create(DiagnosticDescriptors.NoGuidKey, LocationInfo.From(keyed[1]), type.Name)
            );
        // An 'Id' beside a [Key] property is a second key: reported as such, not as two members stored as "id".
        var secondKey =
            keyed.Count == 1 && key != "Id" ? PublicSettableProperties(type).FirstOrDefault(p => p.Name == "Id") : null;
        if (secondKey is not null)
            diagnostics.Add(
                DiagnosticInfo.Create(DiagnosticDescriptors.NoGuidKey, LocationInfo.From(secondKey), type.Name)
            );
        var properties = new List<PropertyModel>();
        var propertyLocations = new List<LocationInfo?>();
        foreach (var property in PublicSettableProperties(type))
        {
            ct.ThrowIfCancellationRequested();
            properties.Add(ReadProperty(property, table, type, property.Name == key, diagnostics));
            propertyLocations.Add(LocationInfo.From(property));
        }
        DeclarationChecks.CheckStoredNames(
            type.Name,
            "payload key",
            properties.Select(
                (p, i) => (p.Name, secondKey?.Name == p.Name ? null : (string?)p.Key, propertyLocations[i])
            ),
            diagnostics
        );
        DeclarationChecks.CheckStoredNames(
            type.Name,
            "column",
            properties.Select((p, i) => (p.Name, p.Column, propertyLocations[i])),
            diagnostics
        );
        var idUnresolved = PublicSettableProperties(type).Any(p => p.Name == key && p.Type.TypeKind == TypeKind.Error);
        if (!idUnresolved && !properties.Any(p => p.Name == key && p.Kind == ValueKind.Guid && !p.IsNullable))
            diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.NoGuidKey, location, type.Name));

        var handlers = ReadHandlers(type, version, actions, diagnostics, ct);
        var hooks = ReadHooks(type, diagnostics);
        var savepointEvery = SymbolReader.NamedArgument(attribute, "SavepointEvery", 0);
        if (savepointEvery < 0)
            diagnostics.Add(
                DiagnosticInfo.Create(
                    DiagnosticDescriptors.NegativeNumber,
                    SymbolReader.ArgumentLocation(attribute, "SavepointEvery"),
                    $"SavepointEvery of '{type.Name}'",
                    savepointEvery.ToString(CultureInfo.InvariantCulture)
                )
            );
        return new EventedModel(
            SymbolReader.NameOf(type),
            version,
            savepointEvery,
            table,
            actions.ToEquatableArray(),
            properties.ToEquatableArray(),
            handlers.ToEquatableArray(),
            hooks,
            location,
            diagnostics.ToEquatableArray(),
            table is null ? null : SymbolReader.ArgumentLocation(attribute, "Table"),
            key
        );
    }

    /// <summary>Optional hooks are found by name; a method with a hook's name and another shape is an error.</summary>
    private static Hooks ReadHooks(INamedTypeSymbol type, List<DiagnosticInfo> diagnostics)
    {
        var hooks = Hooks.None;
        Check(
            "Savepoint",
            Hooks.Savepoint,
            $"static Attrs Savepoint({type.Name} record, int version)",
            m =>
                m.ReturnType.ToDisplayString() == "Spector.Attrs"
                && m.Parameters.Length == 2
                && SymbolEqualityComparer.Default.Equals(m.Parameters[0].Type, type)
                && m.Parameters[1].Type.SpecialType == SpecialType.System_Int32
        );
        Check(
            "PrepareEvent",
            Hooks.PrepareEvent,
            "static void PrepareEvent(EventDraft draft, IReadOnlyList<StoredEvent> previous)",
            m =>
                m.ReturnsVoid
                && m.Parameters.Length == 2
                && m.Parameters[0].Type.ToDisplayString() == "Spector.EventDraft"
                && m.Parameters[1].Type.ToDisplayString()
                    == "System.Collections.Generic.IReadOnlyList<Spector.StoredEvent>"
        );
        Check(
            "PrepareMaterialization",
            Hooks.PrepareMaterialization,
            $"static void PrepareMaterialization(Changeset<{type.Name}> c)",
            m => m.Parameters.Length == 1 && IsHandlerShape(m, type)
        );
        return hooks;

        void Check(string name, Hooks hook, string expected, System.Func<IMethodSymbol, bool> shape)
        {
            foreach (var method in type.GetMembers(name).OfType<IMethodSymbol>())
            {
                if (method is { IsStatic: true, IsGenericMethod: false, IsAsync: false } && shape(method))
                    hooks |= hook;
                else
                    diagnostics.Add(
                        DiagnosticInfo.Create(
                            DiagnosticDescriptors.BadHookSignature,
                            LocationInfo.From(method),
                            name,
                            type.Name,
                            expected
                        )
                    );
            }
        }
    }

    private static List<HandlerModel> ReadHandlers(
        INamedTypeSymbol type,
        int version,
        List<string> actions,
        List<DiagnosticInfo> diagnostics,
        CancellationToken ct
    )
    {
        var handlers = new List<(HandlerModel Handler, LocationInfo? Location)>();
        foreach (var method in type.GetMembers().OfType<IMethodSymbol>())
        {
            ct.ThrowIfCancellationRequested();
            string? action = null;
            int? from = null,
                to = null;
            var marked = false;
            AttributeData? onAction = null,
                versioned = null;
            foreach (var attribute in method.GetAttributes())
            {
                var args = attribute.ConstructorArguments;
                switch (attribute.AttributeClass?.ToDisplayString())
                {
                    case OnActionAttribute when args.Length == 1:
                        (action, marked, onAction) = (args[0].Value as string, true, attribute);
                        break;
                    case VersionIsAttribute when args.Length == 1 && args[0].Value is int v:
                        (from, to, marked, versioned) = (v, v, true, attribute);
                        ReportNegative(attribute, 0, v);
                        break;
                    case VersionInAttribute when args.Length == 2 && args[0].Value is int a && args[1].Value is int b:
                        (from, to, marked, versioned) = (a, b, true, attribute);
                        ReportNegative(attribute, 0, a);
                        ReportNegative(attribute, 1, b);
                        break;
                }
            }
            if (!marked)
                continue;

            var location = LocationInfo.From(method);
            if (!IsHandlerShape(method, type))
            {
                // A ref, out or in parameter is named with its modifier, at the parameter to change.
                var byReference = method.Parameters.FirstOrDefault(p => p.RefKind != RefKind.None);
                var expected = $"static void {method.Name}(Changeset<{type.Name}> c, ...)";
                if (byReference is not null)
                    expected +=
                        $", with parameter '{byReference.Name}' passed by value, not '{Modifier(byReference.RefKind)}'";
                diagnostics.Add(
                    DiagnosticInfo.Create(
                        DiagnosticDescriptors.BadHandlerSignature,
                        byReference is null ? location : LocationInfo.From(byReference),
                        method.Name,
                        type.Name,
                        expected
                    )
                );
                continue;
            }
            if (from > to)
            {
                // Reported on its own: read as a range it would also overlap and reach versions it never names.
                diagnostics.Add(
                    DiagnosticInfo.Create(
                        DiagnosticDescriptors.ReversedVersionRange,
                        SymbolReader.ArgumentLocation(versioned!, null),
                        Text(from!.Value),
                        Text(to!.Value),
                        method.Name
                    )
                );
                continue;
            }
            if (action is not null && !actions.Contains(action))
                diagnostics.Add(
                    DiagnosticInfo.Create(
                        DiagnosticDescriptors.UndeclaredAction,
                        SymbolReader.ArgumentLocation(onAction!, null),
                        action,
                        method.Name,
                        type.Name
                    )
                );
            if (to is { } highest && highest >= version)
                diagnostics.Add(
                    DiagnosticInfo.Create(
                        DiagnosticDescriptors.VersionNotOlder,
                        SymbolReader.ArgumentLocation(versioned!, null, from == to ? 0 : 1),
                        method.Name,
                        from == to ? highest.ToString(CultureInfo.InvariantCulture) : $"{from}..{to}",
                        type.Name,
                        version.ToString(CultureInfo.InvariantCulture)
                    )
                );

            if (action is not null)
                CheckParameters(type, method, diagnostics);
            var parameters = method
                .Parameters.Skip(1)
                .Select(p =>
                {
                    var (typeName, valueType, kind, nullable) = Describe(p.Type, p.NullableAnnotation);
                    return new ParameterModel(
                        p.Name,
                        SymbolReader.SnakeCase(p.Name),
                        typeName,
                        valueType,
                        kind,
                        nullable
                    );
                })
                .ToEquatableArray();
            var handler = new HandlerModel(method.Name, action, from, to, parameters);
            foreach (var (other, _) in handlers)
            {
                if (other.Action != handler.Action)
                    continue;
                var (lo, hi) = (handler.VersionFrom ?? version, handler.VersionTo ?? version);
                var (otherLo, otherHi) = (other.VersionFrom ?? version, other.VersionTo ?? version);
                if (lo <= otherHi && otherLo <= hi)
                    diagnostics.Add(
                        DiagnosticInfo.Create(
                            DiagnosticDescriptors.DuplicateHandler,
                            location,
                            other.Method,
                            handler.Method,
                            action ?? "(any)",
                            Math.Max(lo, otherLo).ToString(CultureInfo.InvariantCulture)
                        )
                    );
            }
            handlers.Add((handler, location));
        }
        ReportAmbiguousOldVersions(handlers, diagnostics);
        return handlers.Select(h => h.Handler).ToList();

        void ReportNegative(AttributeData attribute, int position, int value)
        {
            if (value >= 0)
                return;
            diagnostics.Add(
                DiagnosticInfo.Create(
                    DiagnosticDescriptors.NegativeNumber,
                    SymbolReader.ArgumentLocation(attribute, null, position),
                    $"The version in [{attribute.AttributeClass?.Name.Replace("Attribute", "")}]",
                    value.ToString(CultureInfo.InvariantCulture)
                )
            );
        }
    }

    /// <summary>
    /// A typed action's parameters become the generated method's parameters and payload keys: each needs its own
    /// key, a name the generated method does not use already, and a type that can be stored and exposed.
    /// </summary>
    private static void CheckParameters(INamedTypeSymbol type, IMethodSymbol method, List<DiagnosticInfo> diagnostics)
    {
        var typed = method.Parameters.Skip(1).ToList();
        foreach (var parameter in typed)
        {
            var at = LocationInfo.From(parameter);
            if (Array.IndexOf(GeneratedNames.OperationParameters, parameter.Name) >= 0)
                diagnostics.Add(
                    DiagnosticInfo.Create(
                        DiagnosticDescriptors.NameTakenByGeneratedCode,
                        at,
                        parameter.Name,
                        $"every generated action method of '{type.Name}' has a parameter '{parameter.Name}'"
                    )
                );
            if (DeclarationChecks.UnusableParameterType(parameter.Type, type) is { } reason)
                diagnostics.Add(
                    DiagnosticInfo.Create(
                        DiagnosticDescriptors.UnusableParameterType,
                        at,
                        parameter.Name,
                        method.Name,
                        parameter.Type.ToDisplayString(),
                        reason
                    )
                );
        }
        DeclarationChecks.CheckStoredNames(
            method.Name,
            "payload key",
            typed.Select(p => (p.Name, (string?)SymbolReader.SnakeCase(p.Name), LocationInfo.From(p))),
            diagnostics
        );
    }

    /// <summary>
    /// An action handler without a version covers every version of its action that no versioned handler of the
    /// action claims. Where a version-only handler also covers such a version, stored events of it could mean
    /// either, so the user must say which with an explicit <c>[OnAction(a), VersionIs(v)]</c> handler.
    /// </summary>
    private static void ReportAmbiguousOldVersions(
        List<(HandlerModel Handler, LocationInfo? Location)> handlers,
        List<DiagnosticInfo> diagnostics
    )
    {
        var versionHandlers = handlers
            .Select(h => h.Handler)
            .Where(h => h.Action is null && h.VersionFrom <= h.VersionTo)
            .ToList();
        foreach (
            var (everyVersion, location) in handlers.Where(h => h.Handler is { Action: not null, VersionFrom: null })
        )
        {
            var claimed = handlers
                .Select(h => h.Handler)
                .Where(h => h.Action == everyVersion.Action && h.VersionFrom is not null)
                .Select(h => ((long)h.VersionFrom!.Value, (long)h.VersionTo!.Value))
                .OrderBy(range => range.Item1)
                .ToList();
            foreach (var upcaster in versionHandlers)
            {
                foreach (var (from, to) in Unclaimed(upcaster.VersionFrom!.Value, upcaster.VersionTo!.Value, claimed))
                {
                    var (shown, attribute) =
                        from == to
                            ? (Text(from), $"VersionIs({Text(from)})")
                            : ($"{Text(from)} to {Text(to)}", $"VersionIn({Text(from)}, {Text(to)})");
                    diagnostics.Add(
                        DiagnosticInfo.Create(
                            DiagnosticDescriptors.AmbiguousOldVersion,
                            location,
                            everyVersion.Action!,
                            everyVersion.Method,
                            upcaster.Method,
                            shown,
                            attribute
                        )
                    );
                }
            }
        }
    }

    private static string Modifier(RefKind kind) =>
        kind switch
        {
            RefKind.Ref => "ref",
            RefKind.Out => "out",
            _ => "in",
        };

    private static string Text(long number) => number.ToString(CultureInfo.InvariantCulture);

    /// <summary>The parts of <c>from..to</c> that none of the sorted <paramref name="claimed"/> ranges cover.</summary>
    private static IEnumerable<(long From, long To)> Unclaimed(long from, long to, List<(long From, long To)> claimed)
    {
        var next = from;
        foreach (var (claimedFrom, claimedTo) in claimed)
        {
            if (claimedTo < next)
                continue;
            if (claimedFrom > to)
                break;
            if (claimedFrom > next)
                yield return (next, claimedFrom - 1);
            next = claimedTo + 1;
        }
        if (next <= to)
            yield return (next, to);
    }

    /// <summary>The type as generated code names it, its non-nullable value type, conversion kind and
    /// nullability.</summary>
    private static (string Type, string ValueType, ValueKind Kind, bool IsNullable) Describe(
        ITypeSymbol type,
        NullableAnnotation annotation
    )
    {
        var isNullableValue =
            type is INamedTypeSymbol { OriginalDefinition.SpecialType: SpecialType.System_Nullable_T };
        var valueType = isNullableValue ? ((INamedTypeSymbol)type).TypeArguments[0] : type;
        var isNullable = isNullableValue || (type.IsReferenceType && annotation != NullableAnnotation.NotAnnotated);
        return (
            type.ToDisplayString(SymbolReader.FullyQualified),
            valueType
                .WithNullableAnnotation(NullableAnnotation.NotAnnotated)
                .ToDisplayString(SymbolDisplayFormat.FullyQualifiedFormat),
            KindOf(valueType),
            isNullable
        );
    }

    private static PropertyModel ReadProperty(
        IPropertySymbol property,
        string? table,
        INamedTypeSymbol owner,
        bool isKey,
        List<DiagnosticInfo> diagnostics
    )
    {
        var propertyType = property.Type;
        var (typeName, valueType, kind, isNullable) = Describe(propertyType, property.NullableAnnotation);

        string? column = null;
        var attributes = property.GetAttributes();
        if (table is not null && !attributes.Any(a => a.AttributeClass?.ToDisplayString() == NotMappedAttribute))
        {
            var columnAttribute = attributes.FirstOrDefault(a =>
                a.AttributeClass?.ToDisplayString() == ColumnAttribute
            );
            column =
                columnAttribute is { ConstructorArguments.Length: 1 }
                && columnAttribute.ConstructorArguments[0].Value is string explicitName
                    ? explicitName
                    : SymbolReader.SnakeCase(property.Name);
            var location = LocationInfo.From(property);
            if (!SymbolReader.IsValidIdentifier(column))
                diagnostics.Add(
                    DiagnosticInfo.Create(
                        DiagnosticDescriptors.InvalidIdentifier,
                        columnAttribute is null ? location : SymbolReader.ArgumentLocation(columnAttribute, null),
                        column,
                        "column"
                    )
                );
            // An unresolved type is already a compiler error; a second message about it would only mislead.
            if (kind == ValueKind.Other && propertyType.TypeKind != TypeKind.Error)
                diagnostics.Add(
                    DiagnosticInfo.Create(
                        DiagnosticDescriptors.UnsupportedColumnType,
                        location,
                        property.Name,
                        owner.Name,
                        propertyType.ToDisplayString(),
                        table
                    )
                );
        }

        var key = isKey ? "id" : SymbolReader.SnakeCase(property.Name);
        return new PropertyModel(property.Name, key, column, typeName, valueType, kind, isNullable);
    }

    private static IEnumerable<IPropertySymbol> PublicSettableProperties(INamedTypeSymbol type)
    {
        var seen = new HashSet<string>();
        for (var t = type; t is not null && t.SpecialType != SpecialType.System_Object; t = t.BaseType)
        {
            foreach (var member in t.GetMembers())
            {
                if (
                    member
                    is not IPropertySymbol
                    {
                        IsStatic: false,
                        IsIndexer: false,
                        DeclaredAccessibility: Accessibility.Public,
                        GetMethod: not null,
                        SetMethod: { DeclaredAccessibility: Accessibility.Public, IsInitOnly: false },
                    } property
                )
                    continue;
                if (seen.Add(property.Name))
                    yield return property;
            }
        }
    }

    private static bool HasChangesetHandler(INamedTypeSymbol type) =>
        type.GetMembers("Changeset")
            .OfType<IMethodSymbol>()
            .Any(m => m.Parameters.Length == 1 && IsHandlerShape(m, type));

    /// <summary>
    /// <c>static void Name(Changeset&lt;T&gt; c, ...)</c>, not generic and not async: replay runs handlers
    /// synchronously, so an async void handler would change the record after replay had moved on.
    /// </summary>
    private static bool IsHandlerShape(IMethodSymbol method, INamedTypeSymbol type) =>
        method is { IsStatic: true, ReturnsVoid: true, IsAsync: false, IsGenericMethod: false, Parameters.Length: >= 1 }
        && method.Parameters.All(p => p.RefKind == RefKind.None)
        && method.Parameters[0].Type is INamedTypeSymbol { TypeArguments.Length: 1 } p
        && p.OriginalDefinition.ToDisplayString() == ChangesetType
        && SymbolEqualityComparer.Default.Equals(p.TypeArguments[0], type);

    private static ValueKind KindOf(ITypeSymbol type)
    {
        if (type.TypeKind == TypeKind.Enum)
            return ValueKind.Enum;
        switch (type.SpecialType)
        {
            case SpecialType.System_String:
                return ValueKind.String;
            case SpecialType.System_Boolean:
                return ValueKind.Boolean;
            case SpecialType.System_Int16:
                return ValueKind.Int16;
            case SpecialType.System_Int32:
                return ValueKind.Int32;
            case SpecialType.System_Int64:
                return ValueKind.Int64;
            case SpecialType.System_Single:
                return ValueKind.Single;
            case SpecialType.System_Double:
                return ValueKind.Double;
            case SpecialType.System_Decimal:
                return ValueKind.Decimal;
            case SpecialType.System_DateTime:
                return ValueKind.DateTime;
        }
        return type.ToDisplayString() switch
        {
            "System.Guid" => ValueKind.Guid,
            "System.DateTimeOffset" => ValueKind.DateTimeOffset,
            _ => ValueKind.Other,
        };
    }
}
