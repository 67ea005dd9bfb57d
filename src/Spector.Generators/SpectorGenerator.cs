using System.Collections.Generic;
using System.Collections.Immutable;
using System.Linq;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Spector.Diagnostics;
using Spector.Generators.Emitting;
using Spector.Generators.Model;
using Spector.Generators.Parsing;

namespace Spector.Generators;

/// <summary>
/// Turns <c>[EventsTable]</c> and <c>[Evented]</c> classes into typed operations, replay dispatchers and
/// compile-time SQL. Parse (symbols to plain models) → plan (join types to their events table) → emit.
/// </summary>
[Generator(LanguageNames.CSharp)]
public sealed class SpectorGenerator : IIncrementalGenerator
{
    private const string EventsTableAttribute = "Spector.EventsTableAttribute";
    private const string EventedAttribute = "Spector.EventedAttribute";

    /// <inheritdoc />
    public void Initialize(IncrementalGeneratorInitializationContext context)
    {
        var tables = context.SyntaxProvider
            .ForAttributeWithMetadataName(EventsTableAttribute, static (node, _) => node is ClassDeclarationSyntax, EventsTableParser.Parse)
            .WithTrackingName(TrackingNames.EventsTables);
        var evented = context.SyntaxProvider
            .ForAttributeWithMetadataName(EventedAttribute, static (node, _) => node is ClassDeclarationSyntax, EventedParser.Parse)
            .WithTrackingName(TrackingNames.EventedTypes);

        var eventedPlans = evented
            .Combine(tables.Collect())
            .Select(static (pair, _) => PlanEvented(pair.Left, pair.Right))
            .WithTrackingName(TrackingNames.EventedPlans);
        var tablePlans = tables
            .Combine(evented.Collect())
            .Select(static (pair, _) => PlanTable(pair.Left, pair.Right))
            .WithTrackingName(TrackingNames.EventsTablePlans);

        context.RegisterSourceOutput(eventedPlans.Select(static (p, _) => p.Diagnostics), ReportAll);
        context.RegisterSourceOutput(tablePlans.Select(static (p, _) => p.Diagnostics), ReportAll);
        context.RegisterSourceOutput(eventedPlans.Select(static (p, _) => p.Plan), static (spc, plan) =>
        {
            if (plan is not null) spc.AddSource($"{plan.Model.Type.HintName}.Spector.g.cs", EventedEmitter.Emit(plan));
        });
        context.RegisterSourceOutput(tablePlans.Select(static (p, _) => p.Plan), static (spc, plan) =>
        {
            if (plan is not null) spc.AddSource($"{plan.Model.Type.HintName}.SpectorEvents.g.cs", EventsTableEmitter.Emit(plan));
        });
    }

    private static void ReportAll(SourceProductionContext context, EquatableArray<DiagnosticInfo> diagnostics)
    {
        foreach (var diagnostic in diagnostics) context.ReportDiagnostic(diagnostic.ToDiagnostic());
    }

    /// <summary>An evented type is emitted only when it is valid and listed on exactly one events table.</summary>
    private static Planned<EventedPlan> PlanEvented(EventedModel model, ImmutableArray<EventsTableModel> tables)
    {
        var diagnostics = new List<DiagnosticInfo>(model.Diagnostics);
        var self = model.Type.FullyQualified;
        var listings = tables.SelectMany(t => t.Schemas.Where(s => s.TypeFullyQualified == self).Select(s => (Table: t, Schema: s))).ToList();
        if (listings.Count == 0)
            diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.NotOnAnyEventsTable, model.Location, model.Type.Name));
        else if (listings.Select(l => l.Table.Type).Distinct().Count() > 1)
            diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.OnTwoEventsTables, listings[1].Schema.Location,
                model.Type.Name, listings[0].Table.Table, listings[1].Table.Table));

        if (diagnostics.Count > 0 || listings[0].Table.Diagnostics.Length > 0)
            return new(null, diagnostics.ToEquatableArray());
        var (table, schema) = listings[0];
        var actions = model.Actions.Select(a => new ActionPlan(a, ActionCode.Of(a, table.Aliases))).ToEquatableArray();
        return new(new EventedPlan(model, table.Type.FullyQualified, table.Table, schema.Index, actions), EquatableArray<DiagnosticInfo>.Empty);
    }

    private static Planned<EventsTablePlan> PlanTable(EventsTableModel table, ImmutableArray<EventedModel> evented)
    {
        var diagnostics = new List<DiagnosticInfo>(table.Diagnostics);
        foreach (var group in table.Schemas.GroupBy(s => s.Index).Where(g => g.Count() > 1))
        {
            var entries = group.ToList();
            diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.DuplicateSchemaIndex, entries[1].Location,
                group.Key.ToString(System.Globalization.CultureInfo.InvariantCulture), table.Table, entries[0].TypeDisplay, entries[1].TypeDisplay));
        }
        var byName = evented.ToDictionary(e => e.Type.FullyQualified, e => e);
        foreach (var schema in table.Schemas.Where(s => !byName.ContainsKey(s.TypeFullyQualified)))
            diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.SchemaOfNonEventedType, schema.Location, schema.TypeDisplay));
        var listed = table.Schemas.Where(s => byName.ContainsKey(s.TypeFullyQualified)).Select(s => byName[s.TypeFullyQualified]).ToList();
        var actions = CheckActions(table, listed, diagnostics);
        if (diagnostics.Count > 0) return new(null, diagnostics.ToEquatableArray());

        var owners = table.Schemas
            .Select(s => byName[s.TypeFullyQualified])
            .Where(e => e.Table is not null && e.Diagnostics.Length == 0)
            .Select(e => e.Type.FullyQualified)
            .ToEquatableArray();
        return new(new EventsTablePlan(table, owners, actions), EquatableArray<DiagnosticInfo>.Empty);
    }

    /// <summary>
    /// The table's custom actions with their stored codes. Aliases must rename a declared action and may not
    /// keep a live one's code; no two names may share a code, and none may take a base action's name.
    /// </summary>
    private static EquatableArray<ActionPlan> CheckActions(EventsTableModel table, List<EventedModel> listed, List<DiagnosticInfo> diagnostics)
    {
        var declared = new SortedSet<string>(listed.SelectMany(e => e.Actions), System.StringComparer.Ordinal);
        foreach (var alias in table.Aliases)
        {
            if (!declared.Contains(alias.Name))
                diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.AliasOfUndeclaredAction, alias.Location, alias.Name, alias.StoredAs, table.Table));
            if (declared.Contains(alias.StoredAs))
                diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.AliasShadowsLiveAction, alias.Location, alias.Name, alias.StoredAs, table.Table));
        }
        var byCode = new Dictionary<int, string>();
        var actions = new List<ActionPlan>();
        foreach (var name in declared)
        {
            var code = ActionCode.Of(name, table.Aliases);
            if (name is "insert" or "update" or "delete" or "savepoint")
                diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.ActionCodeCollision, null, name, name + " (base action)", table.Table,
                    code.ToString(System.Globalization.CultureInfo.InvariantCulture)));
            else if (byCode.TryGetValue(code, out var other))
                diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.ActionCodeCollision, null, other, name, table.Table,
                    code.ToString(System.Globalization.CultureInfo.InvariantCulture)));
            byCode[code] = name;
            actions.Add(new ActionPlan(name, code));
        }
        return actions.ToEquatableArray();
    }

    private sealed record Planned<T>(T? Plan, EquatableArray<DiagnosticInfo> Diagnostics) where T : class;
}
