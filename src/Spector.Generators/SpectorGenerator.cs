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
        var tables = context
            .SyntaxProvider.ForAttributeWithMetadataName(
                EventsTableAttribute,
                static (node, _) => node is ClassDeclarationSyntax,
                EventsTableParser.Parse
            )
            .WithTrackingName(TrackingNames.EventsTables);
        var evented = context
            .SyntaxProvider.ForAttributeWithMetadataName(
                EventedAttribute,
                static (node, _) => node is TypeDeclarationSyntax,
                EventedParser.Parse
            )
            .WithTrackingName(TrackingNames.EventedTypes);

        var allTables = tables.Collect();
        var allEvented = evented.Collect();
        var eventedPlans = evented
            .Combine(allTables)
            .Combine(allEvented)
            .Select(static (pair, _) => PlanEvented(pair.Left.Left, pair.Left.Right, pair.Right))
            .WithTrackingName(TrackingNames.EventedPlans);
        var tablePlans = tables
            .Combine(allEvented)
            .Combine(allTables)
            .Select(static (pair, _) => PlanTable(pair.Left.Left, pair.Left.Right, pair.Right))
            .WithTrackingName(TrackingNames.EventsTablePlans);

        context.RegisterSourceOutput(eventedPlans.Select(static (p, _) => p.Diagnostics), ReportAll);
        context.RegisterSourceOutput(tablePlans.Select(static (p, _) => p.Diagnostics), ReportAll);
        context.RegisterSourceOutput(
            eventedPlans.Select(static (p, _) => p.Plan),
            static (spc, plan) =>
            {
                if (plan is not null)
                    spc.AddSource($"{plan.Model.Type.HintName}.Spector.g.cs", EventedEmitter.Emit(plan));
            }
        );
        context.RegisterSourceOutput(
            tablePlans.Select(static (p, _) => p.Plan),
            static (spc, plan) =>
            {
                if (plan is not null)
                    spc.AddSource($"{plan.Model.Type.HintName}.SpectorEvents.g.cs", EventsTableEmitter.Emit(plan));
            }
        );
    }

    private static void ReportAll(SourceProductionContext context, EquatableArray<DiagnosticInfo> diagnostics)
    {
        foreach (var diagnostic in diagnostics)
            context.ReportDiagnostic(diagnostic.ToDiagnostic());
    }

    /// <summary>
    /// An evented type is emitted only when it is valid, listed on exactly one events table, and that table is
    /// emitted too (its generated <c>Log</c> is referenced).
    /// </summary>
    private static Planned<EventedPlan> PlanEvented(
        EventedModel model,
        ImmutableArray<EventsTableModel> tables,
        ImmutableArray<EventedModel> evented
    )
    {
        var diagnostics = new List<DiagnosticInfo>(model.Diagnostics);
        var self = model.Type.FullyQualified;
        var listings = tables
            .SelectMany(t => t.Schemas.Where(s => s.TypeFullyQualified == self).Select(s => (Table: t, Schema: s)))
            .ToList();
        var misshapen = model.Diagnostics.Any(d => d.Descriptor.Id == DiagnosticDescriptors.UnsupportedEventedShape.Id);
        if (listings.Count == 0 && !misshapen)
            diagnostics.Add(
                DiagnosticInfo.Create(DiagnosticDescriptors.NotOnAnyEventsTable, model.Location, model.Type.Name)
            );
        else if (listings.Select(l => l.Table.Type).Distinct().Count() > 1)
            diagnostics.Add(
                DiagnosticInfo.Create(
                    DiagnosticDescriptors.OnTwoEventsTables,
                    listings[1].Schema.Location,
                    model.Type.Name,
                    listings[0].Table.Table,
                    listings[1].Table.Table
                )
            );

        if (diagnostics.Count > 0 || listings.Count == 0 || PlanTable(listings[0].Table, evented, tables).Plan is null)
            return new(null, diagnostics.ToEquatableArray());
        var (table, schema) = listings[0];
        var actions = model.Actions.Select(a => new ActionPlan(a, ActionCode.Of(a, table.Aliases))).ToEquatableArray();
        return new(
            EventedPlan.Create(model, table.Type.FullyQualified, table.Table, schema.Index, actions),
            EquatableArray<DiagnosticInfo>.Empty
        );
    }

    private static Planned<EventsTablePlan> PlanTable(
        EventsTableModel table,
        ImmutableArray<EventedModel> evented,
        ImmutableArray<EventsTableModel> tables
    )
    {
        var diagnostics = new List<DiagnosticInfo>(table.Diagnostics);
        foreach (var group in table.Schemas.GroupBy(s => s.Index).Where(g => g.Count() > 1))
        {
            var entries = group.ToList();
            diagnostics.Add(
                DiagnosticInfo.Create(
                    DiagnosticDescriptors.DuplicateSchemaIndex,
                    entries[1].Location,
                    group.Key.ToString(System.Globalization.CultureInfo.InvariantCulture),
                    table.Table,
                    entries[0].TypeDisplay,
                    entries[1].TypeDisplay
                )
            );
        }
        foreach (var group in table.Schemas.GroupBy(s => s.TypeFullyQualified).Where(g => g.Count() > 1))
        {
            var entries = group.ToList();
            diagnostics.Add(
                DiagnosticInfo.Create(
                    DiagnosticDescriptors.TypeListedTwice,
                    entries[1].Location,
                    entries[0].TypeDisplay,
                    table.Table,
                    Invariant(entries[0].Index),
                    Invariant(entries[1].Index)
                )
            );
        }
        var byName = evented.GroupBy(e => e.Type.FullyQualified).ToDictionary(g => g.Key, g => g.First());
        foreach (var schema in table.Schemas.Where(s => !s.IsEvented))
            diagnostics.Add(
                DiagnosticInfo.Create(DiagnosticDescriptors.SchemaOfNonEventedType, schema.Location, schema.TypeDisplay)
            );
        var listed = table
            .Schemas.Where(s => byName.ContainsKey(s.TypeFullyQualified))
            .Select(s => byName[s.TypeFullyQualified])
            .ToList();
        CheckTableNames(table, listed, evented, tables, diagnostics);
        var actions = CheckActions(table, listed, diagnostics);
        // A listed type that is evented but could not be read as one (generic) is reported at the type (SPEC035).
        if (diagnostics.Count > 0 || table.Schemas.Any(s => !byName.ContainsKey(s.TypeFullyQualified)))
            return new(null, diagnostics.ToEquatableArray());

        var owners = table
            .Schemas.Select(s => byName[s.TypeFullyQualified])
            .Where(e => e.Table is not null && e.Diagnostics.Length == 0)
            .Select(e => e.Type.FullyQualified)
            .ToEquatableArray();
        return new(EventsTablePlan.Create(table, owners, actions), EquatableArray<DiagnosticInfo>.Empty);
    }

    /// <summary>
    /// Rows of different kinds must never share a table (SPEC036): two events tables with one name, a record
    /// table named like an events, shard or link table, or two types on one record table.
    /// </summary>
    private static void CheckTableNames(
        EventsTableModel table,
        List<EventedModel> listed,
        ImmutableArray<EventedModel> evented,
        ImmutableArray<EventsTableModel> tables,
        List<DiagnosticInfo> diagnostics
    )
    {
        var owned = new HashSet<string>(table.OwnedTables, System.StringComparer.Ordinal);
        foreach (var other in tables.Where(t => t.Type != table.Type))
        {
            var shared = other.OwnedTables.FirstOrDefault(owned.Contains);
            if (shared is not null)
                diagnostics.Add(
                    DiagnosticInfo.Create(
                        DiagnosticDescriptors.TableNameUsedTwice,
                        table.TableLocation,
                        shared,
                        $"events table class '{table.Type.Display}'",
                        $"events table class '{other.Type.Display}'"
                    )
                );
        }
        foreach (var type in listed.Where(e => e.Table is not null))
        {
            var eventsTable = tables.FirstOrDefault(t => t.OwnedTables.Contains(type.Table!));
            if (eventsTable is not null)
                diagnostics.Add(
                    DiagnosticInfo.Create(
                        DiagnosticDescriptors.TableNameUsedTwice,
                        type.TableLocation,
                        type.Table!,
                        $"the record table of '{type.Type.Display}'",
                        $"events table class '{eventsTable.Type.Display}'"
                    )
                );
            foreach (var other in evented.Where(e => e.Table == type.Table && e.Type != type.Type))
                diagnostics.Add(
                    DiagnosticInfo.Create(
                        DiagnosticDescriptors.TableNameUsedTwice,
                        type.TableLocation,
                        type.Table!,
                        $"the record table of '{type.Type.Display}'",
                        $"the record table of '{other.Type.Display}'"
                    )
                );
        }
    }

    /// <summary>
    /// The table's custom actions with their stored codes. Aliases must rename a declared action and may not
    /// keep a live one's code; no two names may share a code, and none may take a base action's name.
    /// </summary>
    private static EquatableArray<ActionPlan> CheckActions(
        EventsTableModel table,
        List<EventedModel> listed,
        List<DiagnosticInfo> diagnostics
    )
    {
        var declared = new SortedSet<string>(listed.SelectMany(e => e.Actions), System.StringComparer.Ordinal);
        foreach (var alias in table.Aliases)
        {
            if (!declared.Contains(alias.Name))
                diagnostics.Add(
                    DiagnosticInfo.Create(
                        DiagnosticDescriptors.AliasOfUndeclaredAction,
                        alias.Location,
                        alias.Name,
                        alias.StoredAs,
                        table.Table
                    )
                );
            if (declared.Contains(alias.StoredAs))
                diagnostics.Add(
                    DiagnosticInfo.Create(
                        DiagnosticDescriptors.AliasShadowsLiveAction,
                        alias.StoredAsLocation ?? alias.Location,
                        alias.Name,
                        alias.StoredAs,
                        table.Table
                    )
                );
        }
        foreach (var group in table.Aliases.GroupBy(a => a.Name).Where(g => g.Count() > 1))
        {
            var entries = group.ToList();
            diagnostics.Add(
                DiagnosticInfo.Create(
                    DiagnosticDescriptors.ActionAliasedTwice,
                    entries[1].StoredAsLocation ?? entries[1].Location,
                    group.Key,
                    table.Table,
                    entries[0].StoredAs,
                    entries[1].StoredAs
                )
            );
        }
        var byCode = new Dictionary<int, string>();
        var actions = new List<ActionPlan>();
        foreach (var name in declared)
        {
            var code = ActionCode.Of(name, table.Aliases);
            // A base action's name (insert, ...) makes a generated method's name: SPEC031 reports it at the name.
            if (byCode.TryGetValue(code, out var other))
            {
                // Names that share a code through an alias are reported at the alias; others at the table's name.
                var alias = table.Aliases.FirstOrDefault(a => a.Name == name);
                diagnostics.Add(
                    DiagnosticInfo.Create(
                        DiagnosticDescriptors.ActionCodeCollision,
                        alias?.StoredAsLocation ?? alias?.Location ?? table.TableLocation,
                        other,
                        name,
                        table.Table,
                        Invariant(code)
                    )
                );
            }
            byCode[code] = name;
            actions.Add(new ActionPlan(name, code));
        }
        return actions.ToEquatableArray();
    }

    private static string Invariant(int number) => number.ToString(System.Globalization.CultureInfo.InvariantCulture);

    private sealed record Planned<T>(T? Plan, EquatableArray<DiagnosticInfo> Diagnostics)
        where T : class;
}
