using System.Linq;
using Spector.Generators.Model;

namespace Spector.Generators.Emitting;

/// <summary>
/// Emits the members of one evented type: the typed operations, and a nested descriptor whose switches
/// bind payload keys to properties and dispatch each event to its handler.
/// </summary>
internal static class EventedEmitter
{
    private const string Ct = "global::System.Threading.CancellationToken cancellationToken = default";
    private const string Session = "global::Spector.SpectorSession session";
    private const string Runtime = "global::Spector.SpectorRuntime";
    private const string Options = "global::Spector.WriteOptions? options = null";

    public static string Emit(EventedPlan plan)
    {
        var model = plan.Model;
        var self = model.Type.FullyQualified;
        var name = model.Type.Name;
        var task = "global::System.Threading.Tasks.Task";
        var events = $"global::System.Collections.Generic.IReadOnlyList<global::Spector.StoredEvent>";
        var w = GeneratedFile.Begin(model.Type, model.Type.Declaration);

        w.Line(
            $"/// <summary>Spector's description of {name}: schema index {plan.SchemaIndex} of events table \"{plan.EventsTableName}\".</summary>"
        );
        w.Line(
            "[global::System.ComponentModel.EditorBrowsable(global::System.ComponentModel.EditorBrowsableState.Never)]"
        );
        w.Line($"public static global::Spector.EventedType<{self}> SpectorType => SpectorDescriptor.Instance;");
        w.Line();

        Operation(
            w,
            $"Appends an insert event and returns the new {name}; its id is the event's id.",
            "Appends an insert event inside the caller's session.",
            $"static {task}<{self}>",
            "InsertAsync",
            $"global::Spector.Attrs attrs, {Options}",
            "InsertAsync(SpectorType, {0}, attrs, options, cancellationToken)"
        );
        var id = "this." + Identifier(model.Key);
        Operation(
            w,
            $"Replays this {name} from its log, applies the update and appends it. Only <see cref=\"{model.Key}\"/> of this object is used.",
            "As <see cref=\"UpdateAsync(global::Spector.Attrs, global::Spector.WriteOptions?, global::System.Threading.CancellationToken)\"/>, inside the caller's session.",
            $"{task}<{self}>",
            "UpdateAsync",
            $"global::Spector.Attrs attrs, {Options}",
            "UpdateAsync(SpectorType, {0}, " + id + ", attrs, options, cancellationToken)"
        );
        Operation(
            w,
            $"Appends a delete event{(model.Table is null ? "" : " and deletes the row")}.",
            "Appends a delete event inside the caller's session.",
            task,
            "DeleteAsync",
            Options,
            "DeleteAsync(SpectorType, {0}, " + id + ", options, cancellationToken)"
        );
        foreach (var action in plan.Actions)
            EmitAction(w, plan, action, task, self);
        if (model.Hooks.HasFlag(Hooks.Savepoint))
        {
            Operation(
                w,
                $"Appends a savepoint of this {name}'s state, so replay can start there. Refused with <see cref=\"global::Spector.StaleRecordException\"/> when this object differs from the log.",
                "Appends a savepoint inside the caller's session.",
                $"{task}<{self}>",
                "SavepointAsync",
                Options,
                "SavepointAsync(SpectorType, {0}, " + id + ", this, options, cancellationToken)"
            );
            Operation(
                w,
                $"Replays every event of one {name} and reports each savepoint whose state differs from the replay up to it.",
                "Checks the savepoints inside the caller's session.",
                $"static {task}<global::Spector.SavepointVerification>",
                "VerifySavepointsAsync",
                "global::System.Guid id",
                "VerifySavepointsAsync(SpectorType, {0}, id, cancellationToken)"
            );
        }
        Operation(
            w,
            $"The {name} replayed from its log, or null when it does not exist or was deleted.",
            $"The {name} replayed from its log inside the caller's session.",
            $"static {task}<{self}?>",
            "GetAsync",
            "global::System.Guid id",
            "GetAsync(SpectorType, {0}, id, null, cancellationToken)"
        );
        Operation(
            w,
            $"The {name} replayed from its log with the seq of its last event (pass it back as <see cref=\"global::Spector.WriteOptions.ExpectedSeq\"/>, e.g. as an ETag), or null when it does not exist or was deleted.",
            $"The {name} with its seq, read inside the caller's session.",
            $"static {task}<global::Spector.Versioned<{self}>?>",
            "GetVersionedAsync",
            "global::System.Guid id",
            "GetVersionedAsync(SpectorType, {0}, id, cancellationToken)"
        );
        Operation(
            w,
            $"True when the {name} exists and is not deleted: one read of its head row, no replay.",
            $"Whether the {name} exists, read inside the caller's session.",
            $"static {task}<bool>",
            "ExistsAsync",
            "global::System.Guid id",
            "ExistsAsync(SpectorType, {0}, id, cancellationToken)"
        );
        Operation(
            w,
            $"The id of every {name} that is not deleted, streamed from the heads table.",
            $"The ids of every {name}, streamed inside the caller's session.",
            "static global::System.Collections.Generic.IAsyncEnumerable<global::System.Guid>",
            "IdsAsync",
            null,
            "IdsAsync(SpectorType, {0}, cancellationToken)"
        );
        Method(
            w,
            $"The {name} as it was right after its event number <paramref name=\"seq\"/> (time travel), or null when it did not exist then.",
            $"static {task}<{self}?>",
            "GetAtAsync",
            "global::System.Guid id, long seq",
            "GetAsync(SpectorType, null, id, seq, cancellationToken)"
        );
        if (model.Table is not null)
        {
            Operation(
                w,
                $"Rebuilds the row of one {name} in \"{model.Table}\" from its log, after the PrepareMaterialization hook, unless the row exists.",
                "Rebuilds one row inside the caller's session.",
                $"static {task}<global::Spector.Materialization<{self}>>",
                "MaterializeAsync",
                "global::System.Guid id",
                "MaterializeAsync(SpectorType, {0}, id, cancellationToken)"
            );
            Operation(
                w,
                $"Imports every row of \"{model.Table}\" that has no events yet: each gets an insert event under a new id, in one transaction.",
                "Imports the untracked rows inside the caller's session.",
                $"static {task}<global::System.Collections.Generic.IReadOnlyList<{self}>>",
                "BringUpAsync",
                $"global::Spector.BringUpOptions<{self}>? options = null",
                "BringUpAsync(SpectorType, {0}, options, cancellationToken)"
            );
        }
        Operation(
            w,
            $"The {name} as it was at <paramref name=\"at\"/>: after its last event at or before that instant, replayed from the savepoint before it; null when it did not exist yet or was deleted by then.",
            $"The {name} as it was at <paramref name=\"at\"/>, read inside the caller's session.",
            $"static {task}<{self}?>",
            "GetAsOfAsync",
            "global::System.Guid id, global::System.DateTimeOffset at",
            "GetAsOfAsync(SpectorType, {0}, id, at, cancellationToken)"
        );
        Operation(
            w,
            $"Each event of one {name} with the properties it changed, before and after (the audit trail of its fields).",
            $"Each event of one {name} with the properties it changed, read inside the caller's session.",
            $"static {task}<global::System.Collections.Generic.IReadOnlyList<global::Spector.RecordChange>>",
            "ChangesAsync",
            "global::System.Guid id",
            "ChangesAsync(SpectorType, {0}, id, cancellationToken)"
        );
        Operation(
            w,
            $"The events of one {name} stored from <paramref name=\"from\"/> (inclusive) until <paramref name=\"to\"/> (exclusive), in order; a null bound is open.",
            $"The events of one {name} in a time range, read inside the caller's session.",
            $"static {task}<{events}>",
            "AllEventsAsync",
            "global::System.Guid id, global::System.DateTimeOffset? from, global::System.DateTimeOffset? to",
            "AllEventsAsync(SpectorType, {0}, id, from, to, cancellationToken)"
        );
        Operation(
            w,
            $"The events of one {name}, in order.",
            $"The events of one {name}, read inside the caller's session.",
            $"static {task}<{events}>",
            "AllEventsAsync",
            "global::System.Guid id",
            "AllEventsAsync(SpectorType, {0}, id, cancellationToken)",
            last: true
        );

        RecordTableSql? sql = model.Table is null ? null : new RecordTableSql(model.Table, model.Properties);
        if (sql is not null)
        {
            w.Line();
            w.Line(
                $"/// <summary>The SQL of {name}'s record table \"{model.Table}\", written at compile time.</summary>"
            );
            w.Line(
                "[global::System.ComponentModel.EditorBrowsable(global::System.ComponentModel.EditorBrowsableState.Never)]"
            );
            w.Line(
                $"public static global::Spector.RecordTable SpectorRecordTable {{ get; }} = new global::Spector.RecordTable("
            );
            w.Line($"    {SourceWriter.Literal(model.Table!)},");
            w.Line($"    insertSql: {SourceWriter.Literal(sql.Insert)},");
            w.Line($"    upsertSql: {SourceWriter.Literal(sql.Upsert)},");
            w.Line($"    deleteSql: {SourceWriter.Literal(sql.Delete)},");
            w.Line($"    createSqlite: {SourceWriter.Literal(sql.Create(postgres: false))},");
            w.Line($"    createPostgres: {SourceWriter.Literal(sql.Create(postgres: true))},");
            w.Line("    columns: new global::Spector.RecordColumn[]");
            w.Line("    {");
            foreach (var column in sql.Columns)
                w.Line(
                    $"        new global::Spector.RecordColumn({SourceWriter.Literal(column.Column!)}, {SourceWriter.Literal(column.Key)}, typeof({column.ValueType})),"
                );
            w.Line("    });");
        }

        w.Line();
        EmitDescriptor(w, plan, sql);
        return GeneratedFile.End(w, model.Type);
    }

    private static void EmitDescriptor(SourceWriter w, EventedPlan plan, RecordTableSql? sql)
    {
        var model = plan.Model;
        var self = model.Type.FullyQualified;
        // Nested so it can call the type's private handlers and constructor.
        w.Line(GeneratedFile.GeneratedCodeAttribute);
        w.Open($"private sealed class SpectorDescriptor : global::Spector.EventedType<{self}>");
        w.Line("public static readonly SpectorDescriptor Instance = new();");
        w.Line();
        w.Line("private SpectorDescriptor()");
        w.Line(
            $"    : base({SourceWriter.Literal(model.Type.Name)}, schemaIndex: {plan.SchemaIndex}, version: {model.Version}, "
                + $"{plan.EventsTableType}.Log, {(sql is null ? "table: null" : $"{self}.SpectorRecordTable")}"
                + (model.SavepointEvery > 0 ? $", savepointEvery: {model.SavepointEvery})" : ")")
        );
        w.Line("{");
        w.Line("}");
        w.Line();
        w.Line(
            $"public override {self} Create(global::System.Guid id) => new {self} {{ {Identifier(model.Key)} = id }};"
        );
        w.Line();
        w.Line($"public override global::System.Guid IdOf({self} record) => record.{Identifier(model.Key)};");
        w.Line();
        EmitDispatch(w, model);
        w.Line();
        EmitHooks(w, model);

        // One setter per value form: nodes (a write's attributes) and stored JSON elements (replay). The
        // conversion calls read the same; overload resolution picks the form.
        foreach (
            var valueType in new[]
            {
                "global::System.Text.Json.Nodes.JsonNode?",
                "global::System.Text.Json.JsonElement",
            }
        )
        {
            w.Open($"public override bool TrySetAttr({self} record, string key, {valueType} value)");
            w.Open("switch (key)");
            foreach (var p in model.Properties.Where(p => p.Name != model.Key))
                w.Line(
                    $"case {SourceWriter.Literal(p.Key)}: record.{Identifier(p.Name)} = {Conversion(p)}; return true;"
                );
            w.Line("default: return false;");
            w.Close();
            w.Close();
            w.Line();
        }

        w.Open($"public override bool TryGetAttr({self} record, string key, out object? value)");
        w.Open("switch (key)");
        foreach (var p in model.Properties)
            w.Line($"case {SourceWriter.Literal(p.Key)}: value = record.{Identifier(p.Name)}; return true;");
        w.Line("default: value = null; return false;");
        w.Close();
        w.Close();

        w.Line();
        w.Open(
            $"public override global::System.Collections.Generic.IReadOnlyList<string> Diff({self} expected, {self} actual)"
        );
        w.Line("var differences = new global::System.Collections.Generic.List<string>();");
        foreach (var p in model.Properties.Where(p => p.Name != model.Key))
        {
            var name = Identifier(p.Name);
            var same =
                p.Kind == ValueKind.Other
                    ? $"global::Spector.AttrConvert.SameJson(expected.{name}, actual.{name}, {JsonOptions})"
                    : $"global::System.Collections.Generic.EqualityComparer<{p.Type}>.Default.Equals(expected.{name}, actual.{name})";
            w.Line($"if (!{same}) differences.Add({SourceWriter.Literal(p.Key)});");
        }
        w.Line("return differences;");
        w.Close();

        if (sql is not null)
        {
            w.Line();
            w.Open($"public override void BindColumns({self} record, global::Spector.RecordColumns columns)");
            foreach (var p in sql.Columns)
                w.Line($"columns.Add({SourceWriter.Literal(RecordTableSql.Parameter(p))}, {ColumnValue(p)});");
            w.Close();
        }
        w.Close();
    }

    /// <summary>
    /// A custom action's method: typed parameters when its current handler declares them, else an attrs
    /// object. Parameters are stored under their snake_case names.
    /// </summary>
    private static void EmitAction(SourceWriter w, EventedPlan plan, ActionPlan action, string task, string self)
    {
        var handler = plan.Model.Handlers.FirstOrDefault(h => h.Action == action.Name && h.VersionFrom is null);
        var typed = handler is { Parameters.Length: > 0 };
        var parameters =
            (
                typed
                    ? string.Join(", ", handler!.Parameters.Select(p => $"{p.Type} {Identifier(p.Name)}"))
                    : "global::Spector.Attrs attrs"
            )
            + ", "
            + Options;
        var attrs = typed
            ? "new global::Spector.Attrs { "
                + string.Join(", ", handler!.Parameters.Select(p => $"[{SourceWriter.Literal(p.Key)}] = {ToNode(p)}"))
                + " }"
            : "attrs";
        var call =
            $"ExecuteAsync(SpectorType, {{0}}, this.{Identifier(plan.Model.Key)}, {action.Code}, {SourceWriter.Literal(action.Name)}, {attrs.Replace("{", "{{").Replace("}", "}}")}, options, cancellationToken)";
        Operation(
            w,
            $"Replays this {plan.Model.Type.Name} from its log, applies the \"{action.Name}\" action and appends it (stored code {action.Code}).",
            $"Applies the \"{action.Name}\" action inside the caller's session.",
            $"{task}<{self}>",
            GeneratedNames.ActionMethod(action.Name),
            parameters,
            call
        );
    }

    /// <summary>
    /// Exactly one handler per event, most specific first: the action's handler for the event's version; the
    /// action's unversioned handler, which covers every version no versioned handler of the action claims (so
    /// raising <c>Version</c> never re-routes stored events); a version handler; then the default Changeset.
    /// </summary>
    private static void EmitDispatch(SourceWriter w, EventedModel model)
    {
        var self = model.Type.FullyQualified;
        w.Open($"public override void Apply(global::Spector.Changeset<{self}> changeset)");
        var byAction = model
            .Handlers.Where(h => h.Action is not null)
            .GroupBy(h => h.Action!)
            .OrderBy(g => g.Key, System.StringComparer.Ordinal)
            .ToList();
        if (byAction.Count > 0)
        {
            w.Open("switch (changeset.Action)");
            foreach (var group in byAction)
            {
                w.Line($"case {SourceWriter.Literal(group.Key)}:");
                w.Line("{");
                foreach (var handler in group.Where(h => h.VersionFrom is not null).OrderBy(h => h.VersionFrom))
                    EmitGuardedCall(w, model, handler, indent: true);
                if (group.FirstOrDefault(h => h.VersionFrom is null) is { } everyVersion)
                    EmitGuardedCall(w, model, everyVersion, indent: true);
                else
                    w.Line("    break;");
                w.Line("}");
            }
            w.Close();
        }
        foreach (var handler in model.Handlers.Where(h => h.Action is null).OrderBy(h => h.VersionFrom))
            EmitGuardedCall(w, model, handler, indent: false);
        w.Line($"{self}.Changeset(changeset);");
        w.Close();
    }

    private static void EmitHooks(SourceWriter w, EventedModel model)
    {
        var self = model.Type.FullyQualified;
        if (model.Hooks.HasFlag(Hooks.PrepareEvent))
        {
            w.Line("public override bool HasPrepareEvent => true;");
            w.Line();
            w.Line(
                "public override void PrepareEvent(global::Spector.EventDraft draft, "
                    + "global::System.Collections.Generic.IReadOnlyList<global::Spector.StoredEvent> previous)"
            );
            w.Line($"    => {self}.PrepareEvent(draft, previous);");
            w.Line();
        }
        if (model.Hooks.HasFlag(Hooks.PrepareMaterialization))
        {
            w.Line(
                $"public override void PrepareMaterialization(global::Spector.Changeset<{self}> changeset) => {self}.PrepareMaterialization(changeset);"
            );
            w.Line();
        }
        if (model.Hooks.HasFlag(Hooks.Savepoint))
        {
            w.Line("public override bool HasSavepoint => true;");
            w.Line();
            w.Line(
                $"public override global::Spector.Attrs CreateSavepoint({self} record, int version) => {self}.Savepoint(record, version);"
            );
            w.Line();
        }
    }

    /// <summary>The handler's call, guarded by its versions; a handler of every version is called unguarded.</summary>
    private static void EmitGuardedCall(SourceWriter w, EventedModel model, HandlerModel handler, bool indent)
    {
        var guard =
            handler.VersionFrom is null ? null
            : handler.VersionFrom == handler.VersionTo ? $"changeset.Version == {handler.VersionFrom}"
            : $"changeset.Version is >= {handler.VersionFrom} and <= {handler.VersionTo}";
        var arguments = string.Concat(
            handler.Parameters.Select(p =>
                $", changeset.Param({SourceWriter.Literal(p.Key)}, {ParamConverter(p)}){(p.Kind == ValueKind.Other ? "!" : "")}"
            )
        );
        var pad = indent ? "    " : "";
        if (guard is null)
        {
            w.Line($"{pad}{model.Type.FullyQualified}.{Identifier(handler.Method)}(changeset{arguments});");
            w.Line($"{pad}return;");
            return;
        }
        w.Line($"{pad}if ({guard})");
        w.Line($"{pad}{{");
        w.Line($"{pad}    {model.Type.FullyQualified}.{Identifier(handler.Method)}(changeset{arguments});");
        w.Line($"{pad}    return;");
        w.Line($"{pad}}}");
    }

    /// <summary>A typed parameter as a payload value: JSON nodes convert implicitly from the scalar types.</summary>
    private static string ToNode(ParameterModel p) =>
        p.Kind switch
        {
            ValueKind.Enum => p.IsNullable ? $"{Identifier(p.Name)}?.ToString()" : $"{Identifier(p.Name)}.ToString()",
            ValueKind.Other => $"global::Spector.AttrConvert.ToNode({Identifier(p.Name)}, SpectorType.{JsonOptions})",
            _ => $"(global::System.Text.Json.Nodes.JsonNode?){Identifier(p.Name)}",
        };

    private static string Identifier(string name) => GeneratedNames.Identifier(name);

    /// <summary>One operation in two overloads: on the default store, and inside a caller's session.</summary>
    private static void Operation(
        SourceWriter w,
        string summary,
        string sessionSummary,
        string returns,
        string name,
        string? parameters,
        string call,
        bool last = false
    )
    {
        Method(w, summary, returns, name, parameters, string.Format(call, "null"));
        Method(
            w,
            sessionSummary,
            returns,
            name,
            parameters is null ? Session : $"{Session}, {parameters}",
            string.Format(call, "session ?? throw new global::System.ArgumentNullException(nameof(session))"),
            last
        );
    }

    private static void Method(
        SourceWriter w,
        string summary,
        string returns,
        string name,
        string? parameters,
        string call,
        bool last = false
    )
    {
        w.Line($"/// <summary>{summary}</summary>");
        w.Line(GeneratedFile.GeneratedCodeAttribute);
        w.Line($"public {returns} {name}({(parameters is null ? Ct : $"{parameters}, {Ct}")})");
        w.Line($"    => {Runtime}.{call};");
        if (!last)
            w.Line();
    }

    // Non-scalar values go through the events table's JSON options, whose metadata a Native AOT app supplies
    // (EventLog.UseJson); no reflection on the replay path.
    private const string JsonOptions = "Log.JsonOptions";

    private static string Conversion(PropertyModel p) =>
        p.Kind == ValueKind.Other
            ? $"global::Spector.AttrConvert.ToObject<{p.Type}>(value, {JsonOptions})!"
            : $"{Converter(p.Kind, p.IsNullable, p.ValueType)}(value)";

    private static string ParamConverter(ParameterModel p) =>
        p.Kind == ValueKind.Other
            ? $"value => global::Spector.AttrConvert.ToObject<{p.Type}>(value, {JsonOptions})"
            : Converter(p.Kind, p.IsNullable, p.ValueType);

    /// <summary>The <c>AttrConvert</c> method that turns a payload value into a scalar type.</summary>
    private static string Converter(ValueKind kind, bool nullable, string valueType)
    {
        const string convert = "global::Spector.AttrConvert.";
        var prefix = nullable ? "Nullable" : "";
        return kind == ValueKind.Enum ? $"{convert}To{prefix}Enum<{valueType}>" : $"{convert}To{prefix}{kind}";
    }

    private static string ColumnValue(PropertyModel p) =>
        p.Kind switch
        {
            ValueKind.Enum => p.IsNullable
                ? $"record.{Identifier(p.Name)}?.ToString()"
                : $"record.{Identifier(p.Name)}.ToString()",
            ValueKind.DateTime or ValueKind.DateTimeOffset =>
                $"global::Spector.SqlValues.Utc(record.{Identifier(p.Name)})",
            _ => $"record.{Identifier(p.Name)}",
        };
}
