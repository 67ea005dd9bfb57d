using System.Collections.Generic;
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
        var declaration = model.IsStatic
            ? (Doc)model.Type.Declaration
            : Doc.Group(model.Type.Declaration, Doc.Indent(Doc.Line, ": global::Spector.IEventsTable"));
        var w = GeneratedFile.Begin(model.Type, declaration);
        var code = GeneratedFile.GeneratedCodeAttribute;

        w.Summary($"The events table \"{model.Table}\": schema indexes, store and migrations.");
        w.Write(code);
        w.Line("public static global::Spector.EventLog Log { get; } = new global::Spector.EventLog(");
        w.Write(Doc.Concat(Doc.String(model.Table), ","), extraIndent: 1);
        w.Line("    new global::Spector.EventSchemaInfo[]");
        w.Line("    {");
        foreach (var schema in model.Schemas.OrderBy(s => s.Index))
            Entry(w, "EventSchemaInfo", Number(schema.Index), SourceWriter.Literal(schema.TypeDisplay));
        w.Line("    },");
        w.Line("    new global::Spector.RecordTable[]");
        w.Line("    {");
        foreach (var owner in plan.RecordTableOwners)
            w.Write($"{owner}.SpectorRecordTable,", extraIndent: 2);
        w.Line("    },");
        w.Line("    new global::Spector.EventActionInfo[]");
        w.Line("    {");
        foreach (var action in plan.Actions)
            Entry(w, "EventActionInfo", Number(action.Code), SourceWriter.Literal(action.Name));
        w.Line($"    }},");
        var arguments = new List<Doc> { $"hashed: {(model.Hashed ? "true" : "false")}" };
        if (model.Links.Length > 0)
        {
            var links = model.Links.Select(link =>
                Doc.Concat(
                    Doc.Call(
                        "new global::Spector.EventLinkInfo",
                        new Doc[]
                        {
                            SourceWriter.Literal(link.Name),
                            SourceWriter.Literal(link.Table),
                            SourceWriter.Literal(link.Column),
                        }
                            .Concat(link.Typed ? new Doc[] { "Typed: true" } : new Doc[0])
                            .ToArray()
                    ),
                    ","
                )
            );
            arguments.Add(
                Doc.Concat(
                    "links: new global::Spector.EventLinkInfo[]",
                    Doc.HardLine,
                    "{",
                    Doc.Indent(Doc.HardLine, Doc.Join(Doc.HardLine, links)),
                    Doc.HardLine,
                    "}"
                )
            );
        }
        if (model.ShardBy is { } route)
        {
            arguments.Add(
                Doc.Concat(
                    "shards: ",
                    Doc.Initializer("new string[]", model.Shards.Select(shard => (Doc)SourceWriter.Literal(shard)))
                )
            );
            arguments.Add($"route: {route}");
        }
        if (model.RecordHashScope)
            arguments.Add("hashScope: global::Spector.HashScope.Record");
        for (var i = 0; i < arguments.Count; i++)
            w.Write(Doc.Concat(arguments[i], i == arguments.Count - 1 ? ");" : ","), extraIndent: 1);
        w.Line();
        w.Summary("Creates the events table, its append-only triggers and the record tables, if missing.");
        w.Write(code);
        w.Write(
            Doc.Arrow(
                Doc.Concat(
                    "public static global::System.Threading.Tasks.Task MigrateAsync",
                    Doc.Parameters("global::System.Threading.CancellationToken cancellationToken = default")
                ),
                "Log.MigrateUpAsync(cancellationToken)"
            )
        );
        return GeneratedFile.End(w, model.Type);
    }

    /// <summary>One <c>new global::Spector.{type}(...),</c> entry of an array argument.</summary>
    private static void Entry(SourceWriter w, string type, params Doc[] arguments) =>
        w.Write(Doc.Concat(Doc.Call("new global::Spector." + type, arguments), ","), extraIndent: 2);

    private static string Number(int value) => value.ToString(System.Globalization.CultureInfo.InvariantCulture);
}
