using System.Collections.Generic;
using System.Linq;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Spector.Diagnostics;

namespace Spector.Analyzers.SchemaLock;

/// <summary>One listed schema of an events table as the source declares it now.</summary>
internal sealed record ListedSchema(
    int Index,
    INamedTypeSymbol Type,
    string TypeName,
    int Version,
    IReadOnlyList<string> Actions,
    Location SchemaLocation,
    Location EventedLocation
)
{
    /// <summary>Where <c>Version = n</c> is written; the [Evented] attribute when it is not.</summary>
    public Location VersionLocation { get; init; } = EventedLocation;

    /// <summary>Where <c>Actions = [...]</c> is written; the [Evented] attribute when it is not.</summary>
    public Location ActionsLocation { get; init; } = EventedLocation;
}

/// <summary>One events table as the source declares it now.</summary>
internal sealed record DeclaredTable(
    string Name,
    INamedTypeSymbol Class,
    Location Location,
    IReadOnlyList<ListedSchema> Schemas,
    IReadOnlyDictionary<string, string> Aliases
)
{
    /// <summary>The code each of a type's actions is stored under: its alias target's when it has one.</summary>
    public int CodeOf(string action) =>
        StoredActionCode.For(Aliases.TryGetValue(action, out var storedAs) ? storedAs : action);
}

/// <summary>Reads every [EventsTable] class of a compilation with its schemas, versions, actions and aliases.</summary>
internal static class EventsTables
{
    public static List<DeclaredTable> Read(Compilation compilation)
    {
        var tables = new List<DeclaredTable>();
        foreach (var type in AllTypes(compilation.Assembly.GlobalNamespace))
        {
            var table = type.GetAttributes()
                .FirstOrDefault(a => a.AttributeClass?.ToDisplayString() == "Spector.EventsTableAttribute");
            if (
                table is null
                || table.ConstructorArguments.Length == 0
                || table.ConstructorArguments[0].Value is not string name
            )
                continue;
            var schemas = new List<ListedSchema>();
            var aliases = new Dictionary<string, string>();
            foreach (var attribute in type.GetAttributes())
            {
                var args = attribute.ConstructorArguments;
                switch (attribute.AttributeClass?.ToDisplayString())
                {
                    case "Spector.EventSchemaAttribute"
                        when args.Length == 2 && args[0].Value is INamedTypeSymbol schema && args[1].Value is int index:
                        var evented = schema
                            .GetAttributes()
                            .FirstOrDefault(a => a.AttributeClass?.ToDisplayString() == "Spector.EventedAttribute");
                        var version =
                            evented?.NamedArguments.FirstOrDefault(n => n.Key == "Version").Value.Value as int? ?? 0;
                        // A name no lock line can hold is SPEC029 already; recording it would write an unreadable lock.
                        var actions = evented?.NamedArguments.FirstOrDefault(n => n.Key == "Actions").Value
                            is { Kind: TypedConstantKind.Array } list
                            ? list
                                .Values.Select(v => v.Value as string)
                                .Where(v => v is not null && LockFile.CanHold(v))
                                .Select(v => v!)
                                .ToList()
                            : new List<string>();
                        var eventedAt = evented is null ? LocationOf(attribute) : LocationOf(evented);
                        schemas.Add(
                            new ListedSchema(
                                index,
                                schema,
                                schema.ToDisplayString(),
                                version,
                                actions,
                                LocationOf(attribute),
                                eventedAt
                            )
                            {
                                VersionLocation = ArgumentLocation(evented, "Version") ?? eventedAt,
                                ActionsLocation = ArgumentLocation(evented, "Actions") ?? eventedAt,
                            }
                        );
                        break;
                    case "Spector.ActionAliasAttribute"
                        when args.Length == 2 && args[0].Value is string alias && args[1].Value is string storedAs:
                        aliases[alias] = storedAs;
                        break;
                }
            }
            tables.Add(new DeclaredTable(name, type, LocationOf(table), schemas, aliases));
        }
        return tables;
    }

    /// <summary>The value of a named argument (<c>Version = 2</c>) as written, so a diagnostic points at it.</summary>
    private static Location? ArgumentLocation(AttributeData? attribute, string name) =>
        (attribute?.ApplicationSyntaxReference?.GetSyntax() as AttributeSyntax)
            ?.ArgumentList?.Arguments.FirstOrDefault(a => a.NameEquals?.Name.Identifier.ValueText == name)
            ?.Expression.GetLocation();

    private static Location LocationOf(AttributeData attribute) =>
        attribute.ApplicationSyntaxReference?.GetSyntax().GetLocation() ?? Location.None;

    private static IEnumerable<INamedTypeSymbol> AllTypes(INamespaceSymbol ns)
    {
        foreach (var member in ns.GetMembers())
        {
            if (member is INamespaceSymbol child)
                foreach (var type in AllTypes(child))
                    yield return type;
            else if (member is INamedTypeSymbol type)
                foreach (var nested in WithNested(type))
                    yield return nested;
        }
    }

    private static IEnumerable<INamedTypeSymbol> WithNested(INamedTypeSymbol type)
    {
        yield return type;
        foreach (var nested in type.GetTypeMembers())
        foreach (var inner in WithNested(nested))
            yield return inner;
    }
}
