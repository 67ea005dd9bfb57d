using System.Collections.Generic;
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
            diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.InvalidIdentifier, location, table, "events table"));
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
                if (attribute.ConstructorArguments.Length == 2 && attribute.ConstructorArguments[0].Value is string aliasName
                    && attribute.ConstructorArguments[1].Value is string storedAs)
                    aliases.Add(new AliasEntry(aliasName, storedAs, LocationInfo.From(attribute.ApplicationSyntaxReference?.GetSyntax(ct).GetLocation())));
                continue;
            }
            if (attributeName == EventLinkAttribute)
            {
                var values = attribute.ConstructorArguments;
                if (values.Length != 3) continue;
                var link = new LinkEntry(values[0].Value as string ?? "", values[1].Value as string ?? "", values[2].Value as string ?? "",
                    SymbolReader.NamedArgument(attribute, "Typed", false));
                var at = LocationInfo.From(attribute.ApplicationSyntaxReference?.GetSyntax(ct).GetLocation());
                foreach (var (identifier, what) in new[] { (link.Name, "link"), (link.Table, "link table"), (link.Column, "link column") })
                    if (!SymbolReader.IsValidIdentifier(identifier))
                        diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.InvalidIdentifier, at, identifier, what));
                links.Add(link);
                continue;
            }
            if (attributeName != EventSchemaAttribute) continue;
            var args = attribute.ConstructorArguments;
            if (args.Length != 2 || args[0].Value is not INamedTypeSymbol schemaType || args[1].Value is not int index) continue;
            var schemaLocation = LocationInfo.From(attribute.ApplicationSyntaxReference?.GetSyntax(ct).GetLocation());
            schemas.Add(new SchemaEntry(
                schemaType.ToDisplayString(SymbolDisplayFormat.FullyQualifiedFormat),
                schemaType.ToDisplayString(),
                index,
                schemaLocation));
        }
        var hashed = SymbolReader.NamedArgument(context.Attributes[0], "Hashed", false);
        return new EventsTableModel(SymbolReader.NameOf(type), table, hashed, schemas.ToEquatableArray(), aliases.ToEquatableArray(), links.ToEquatableArray(),
            diagnostics.ToEquatableArray());
    }
}
