using System.Collections.Generic;
using System.Linq;
using System.Threading;
using Microsoft.CodeAnalysis;
using Spector.Diagnostics;
using Spector.Generators.Model;

namespace Spector.Generators.Parsing;

/// <summary>Reads an <c>[EventsTable]</c> class and its <c>[EventSchema]</c> entries.</summary>
internal static class EventsTableParser
{
    public const string EventSchemaAttribute = "Spector.EventSchemaAttribute";
    public const string ActionAliasAttribute = "Spector.ActionAliasAttribute";
    public const string EventLinkAttribute = "Spector.EventLinkAttribute";

    public static EventsTableModel Parse(GeneratorAttributeSyntaxContext context, CancellationToken ct)
    {
        var type = (INamedTypeSymbol)context.TargetSymbol;
        var location = LocationInfo.From(type);
        var diagnostics = new List<DiagnosticInfo>();
        var arguments = context.Attributes[0].ConstructorArguments;
        var table = arguments.Length == 1 && arguments[0].Value is string name ? name : "";

        if (!SymbolReader.IsValidIdentifier(table))
            diagnostics.Add(
                DiagnosticInfo.Create(
                    DiagnosticDescriptors.InvalidIdentifier,
                    SymbolReader.ArgumentLocation(context.Attributes[0], null),
                    table,
                    "events table"
                )
            );
        DeclarationChecks.CheckReservedNames(type, GeneratedNames.EventsTableMembers, diagnostics);
        if (!SymbolReader.IsPartialAllTheWay(type))
            diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.NotPartial, location, type.Name));

        var schemas = new List<SchemaEntry>();
        var aliases = new List<AliasEntry>();
        var links = new List<LinkEntry>();
        foreach (var attribute in type.GetAttributes())
        {
            ct.ThrowIfCancellationRequested();
            var attributeName = attribute.AttributeClass?.ToDisplayString();
            if (attributeName == ActionAliasAttribute)
            {
                if (
                    attribute.ConstructorArguments.Length == 2
                    && attribute.ConstructorArguments[0].Value is string aliasName
                    && attribute.ConstructorArguments[1].Value is string storedAs
                )
                    aliases.Add(
                        new AliasEntry(
                            aliasName,
                            storedAs,
                            SymbolReader.ArgumentLocation(attribute, null, 0),
                            SymbolReader.ArgumentLocation(attribute, null, 1)
                        )
                    );
                continue;
            }
            if (attributeName == EventLinkAttribute)
            {
                var values = attribute.ConstructorArguments;
                if (values.Length != 3)
                    continue;
                var link = new LinkEntry(
                    values[0].Value as string ?? "",
                    values[1].Value as string ?? "",
                    values[2].Value as string ?? "",
                    SymbolReader.NamedArgument(attribute, "Typed", false)
                );
                var parts = new[] { (link.Name, "link"), (link.Table, "link table"), (link.Column, "link column") };
                for (var i = 0; i < parts.Length; i++)
                    if (!SymbolReader.IsValidIdentifier(parts[i].Item1))
                        diagnostics.Add(
                            DiagnosticInfo.Create(
                                DiagnosticDescriptors.InvalidIdentifier,
                                SymbolReader.ArgumentLocation(attribute, null, i),
                                parts[i].Item1,
                                parts[i].Item2
                            )
                        );
                links.Add(link);
                continue;
            }
            if (attributeName != EventSchemaAttribute)
                continue;
            var args = attribute.ConstructorArguments;
            if (args.Length != 2 || args[0].Value is not INamedTypeSymbol schemaType || args[1].Value is not int index)
                continue;
            var schemaLocation = LocationInfo.From(attribute.ApplicationSyntaxReference?.GetSyntax(ct).GetLocation());
            if (index < 0)
                diagnostics.Add(
                    DiagnosticInfo.Create(
                        DiagnosticDescriptors.NegativeNumber,
                        SymbolReader.ArgumentLocation(attribute, null, 1),
                        $"The schema index of '{schemaType.ToDisplayString()}'",
                        index.ToString(System.Globalization.CultureInfo.InvariantCulture)
                    )
                );
            schemas.Add(
                new SchemaEntry(
                    schemaType.ToDisplayString(SymbolDisplayFormat.FullyQualifiedFormat),
                    schemaType.ToDisplayString(),
                    index,
                    schemaLocation,
                    schemaType
                        .OriginalDefinition.GetAttributes()
                        .Any(a => a.AttributeClass?.ToDisplayString() == "Spector.EventedAttribute")
                )
            );
        }
        var hashed = SymbolReader.NamedArgument(context.Attributes[0], "Hashed", false);
        // HashScope is an enum: its named argument arrives as the underlying int (Table = 0, Record = 1).
        var recordScoped = SymbolReader.NamedArgument(context.Attributes[0], "HashScope", 0) == 1;
        if (recordScoped && !hashed)
            diagnostics.Add(
                DiagnosticInfo.Create(
                    DiagnosticDescriptors.HashScopeWithoutHashing,
                    SymbolReader.ArgumentLocation(context.Attributes[0], "HashScope"),
                    type.Name
                )
            );
        var (shards, shardBy) = ReadSharding(type, context.Attributes[0], links, location, diagnostics);
        return new EventsTableModel(
            SymbolReader.NameOf(type),
            table,
            hashed,
            recordScoped,
            schemas.ToEquatableArray(),
            aliases.ToEquatableArray(),
            links.ToEquatableArray(),
            shards.ToEquatableArray(),
            shardBy,
            diagnostics.ToEquatableArray(),
            SymbolReader.ArgumentLocation(context.Attributes[0], null),
            IsStatic: type.IsStatic
        );
    }

    /// <summary>
    /// Reads <c>Shards</c> and <c>ShardBy</c>: both or neither, distinct valid shard names whose link tables
    /// are valid too, and a <c>static string Route(Guid)</c> method to route with.
    /// </summary>
    private static (List<string> Shards, string? ShardBy) ReadSharding(
        INamedTypeSymbol type,
        AttributeData attribute,
        List<LinkEntry> links,
        LocationInfo? location,
        List<DiagnosticInfo> diagnostics
    )
    {
        var shards = new List<string>();
        var declared = false;
        string? shardBy = null;
        foreach (var pair in attribute.NamedArguments)
        {
            if (pair.Key == "Shards" && pair.Value.Kind == TypedConstantKind.Array && !pair.Value.IsNull)
            {
                declared = true;
                foreach (var value in pair.Value.Values)
                    shards.Add(value.Value as string ?? "");
            }
            if (pair.Key == "ShardBy")
                shardBy = pair.Value.Value as string;
        }
        if (!declared && shardBy is null)
            return (shards, null);

        void Report(string problem) =>
            diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.InvalidSharding, location, type.Name, problem));
        if (!declared)
            Report("ShardBy is set but Shards lists no shard tables");
        else if (shards.Count == 0)
            Report("Shards lists no shard tables");
        if (shardBy is null)
            Report("Shards is set but ShardBy names no route method");
        var seen = new HashSet<string>();
        foreach (var shard in shards)
        {
            if (!seen.Add(shard))
                Report($"shard '{shard}' is listed twice");
            if (!SymbolReader.IsValidIdentifier(shard))
                diagnostics.Add(
                    DiagnosticInfo.Create(DiagnosticDescriptors.InvalidIdentifier, location, shard, "shard table")
                );
            else
                foreach (var link in links)
                    if (
                        SymbolReader.IsValidIdentifier(link.Table)
                        && !SymbolReader.IsValidIdentifier(shard + "_" + link.Table)
                    )
                        diagnostics.Add(
                            DiagnosticInfo.Create(
                                DiagnosticDescriptors.InvalidIdentifier,
                                location,
                                shard + "_" + link.Table,
                                "shard link table"
                            )
                        );
        }
        if (shardBy is not null && !HasRoute(type, shardBy))
            Report($"ShardBy names '{shardBy}', but the class has no method 'static string {shardBy}(Guid recordId)'");
        return (shards, shardBy);
    }

    private static bool HasRoute(INamedTypeSymbol type, string name)
    {
        foreach (var method in type.GetMembers(name).OfType<IMethodSymbol>())
            if (
                method
                    is {
                        IsStatic: true,
                        IsGenericMethod: false,
                        ReturnType.SpecialType: SpecialType.System_String,
                        Parameters.Length: 1
                    }
                && method.Parameters[0].Type.ToDisplayString() == "System.Guid"
                && method.Parameters[0].RefKind == RefKind.None
            )
                return true;
        return false;
    }
}
