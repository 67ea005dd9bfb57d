using System.Linq;
using Spector.Generators.Model;

namespace Spector.Generators.Emitting;

/// <summary>
/// Emits an events table's runtime handle: schema indexes, record tables and migrations. Store setup
/// (<c>UseSqlite</c>, <c>UsePostgres</c>) comes from the provider packages through <c>IEventsTable</c>, so the
/// generated code names no database provider.
/// </summary>
internal static class EventsTableEmitter
{
    public static string Emit(EventsTablePlan plan)
    {
        var model = plan.Model;
        // The interface lets provider packages add UseSqlite/UsePostgres to the class (a static class implements none).
        var declaration = model.Type.Declaration + (model.IsStatic ? "" : " : global::Spector.IEventsTable");
        var w = GeneratedFile.Begin(model.Type, declaration);
        var code = GeneratedFile.GeneratedCodeAttribute;

        w.Line($"/// <summary>The events table \"{model.Table}\": schema indexes, store and migrations.</summary>");
        w.Line(code);
        w.Line("public static global::Spector.EventLog Log { get; } = new global::Spector.EventLog(");
        w.Line($"    {SourceWriter.Literal(model.Table)},");
        w.Line("    new global::Spector.EventSchemaInfo[]");
        w.Line("    {");
        foreach (var schema in model.Schemas.OrderBy(s => s.Index))
            w.Line(
                $"        new global::Spector.EventSchemaInfo({schema.Index}, {SourceWriter.Literal(schema.TypeDisplay)}),"
            );
        w.Line("    },");
        w.Line("    new global::Spector.RecordTable[]");
        w.Line("    {");
        foreach (var owner in plan.RecordTableOwners)
            w.Line($"        {owner}.SpectorRecordTable,");
        w.Line("    },");
        w.Line("    new global::Spector.EventActionInfo[]");
        w.Line("    {");
        foreach (var action in plan.Actions)
            w.Line($"        new global::Spector.EventActionInfo({action.Code}, {SourceWriter.Literal(action.Name)}),");
        w.Line($"    }},");
        var arguments = new System.Collections.Generic.List<string> { $"hashed: {(model.Hashed ? "true" : "false")}" };
        if (model.Links.Length > 0)
            arguments.Add(
                "links: new global::Spector.EventLinkInfo[]\n    {\n"
                    + string.Join(
                        "",
                        model.Links.Select(link =>
                            $"        new global::Spector.EventLinkInfo({SourceWriter.Literal(link.Name)}, {SourceWriter.Literal(link.Table)}, "
                            + $"{SourceWriter.Literal(link.Column)}{(link.Typed ? ", Typed: true" : "")}),\n"
                        )
                    )
                    + "    }"
            );
        if (model.ShardBy is { } route)
        {
            arguments.Add(
                "shards: new string[] { " + string.Join(", ", model.Shards.Select(SourceWriter.Literal)) + " }"
            );
            arguments.Add($"route: {route}");
        }
        if (model.RecordHashScope)
            arguments.Add("hashScope: global::Spector.HashScope.Record");
        for (var i = 0; i < arguments.Count; i++)
            foreach (var line in ("    " + arguments[i] + (i == arguments.Count - 1 ? ");" : ",")).Split('\n'))
                w.Line(line);
        w.Line();
        w.Line(
            "/// <summary>Creates the events table, its append-only triggers and the record tables, if missing.</summary>"
        );
        w.Line(code);
        w.Line(
            "public static global::System.Threading.Tasks.Task MigrateAsync(global::System.Threading.CancellationToken cancellationToken = default)"
        );
        w.Line("    => Log.MigrateUpAsync(cancellationToken);");
        return GeneratedFile.End(w, model.Type);
    }
}
