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
    private const string Task = "global::System.Threading.Tasks.Task";
    private const string Guid = "global::System.Guid id";
    private const string ReadOnlyList = "global::System.Collections.Generic.IReadOnlyList";

    private const string EditorBrowsableNever =
        "[global::System.ComponentModel.EditorBrowsable(global::System.ComponentModel.EditorBrowsableState.Never)]";

    public static string Emit(EventedPlan plan)
    {
        var model = plan.Model;
        var self = model.Type.FullyQualified;
        var name = model.Type.Name;
        var w = GeneratedFile.Begin(model.Type, model.Type.Declaration);

        w.Summary(
            $"Spector's description of {name}: schema index {plan.SchemaIndex} of events table "
                + $"\"{plan.EventsTableName}\"."
        );
        w.Write(EditorBrowsable());
        w.Write(
            Doc.Arrow(
                Doc.Concat("public static ", Doc.Generic("global::Spector.EventedType", self), " SpectorType"),
                "SpectorDescriptor.Instance"
            )
        );
        w.Line();

        var id = "this." + Identifier(model.Key);
        Operation(
            w,
            $"Appends an insert event and returns the new {name}; its id is the event's id.",
            "Appends an insert event inside the caller's session.",
            Doc.Concat("static ", TaskOf(self)),
            "InsertAsync",
            new Doc[] { "global::Spector.Attrs attrs", Options },
            "attrs",
            "options"
        );
        Operation(
            w,
            $"Replays this {name} from its log, applies the update and appends it. Only <see cref=\"{model.Key}\"/> "
                + "of this object is used.",
            "As <see cref=\"UpdateAsync(global::Spector.Attrs, global::Spector.WriteOptions?, "
                + "global::System.Threading.CancellationToken)\"/>, inside the caller's session.",
            TaskOf(self),
            "UpdateAsync",
            new Doc[] { "global::Spector.Attrs attrs", Options },
            id,
            "attrs",
            "options"
        );
        Operation(
            w,
            $"Appends a delete event{(model.Table is null ? "" : " and deletes the row")}.",
            "Appends a delete event inside the caller's session.",
            Task,
            "DeleteAsync",
            new Doc[] { Options },
            id,
            "options"
        );
        foreach (var action in plan.Actions)
            EmitAction(w, plan, action, self);
        if (model.Hooks.HasFlag(Hooks.Savepoint))
        {
            Operation(
                w,
                $"Appends a savepoint of this {name}'s state, so replay can start there. Refused with "
                    + "<see cref=\"global::Spector.StaleRecordException\"/> when this object differs from the log.",
                "Appends a savepoint inside the caller's session.",
                TaskOf(self),
                "SavepointAsync",
                new Doc[] { Options },
                id,
                "this",
                "options"
            );
            Operation(
                w,
                $"Replays every event of one {name} and reports each savepoint whose state differs from the replay "
                    + "up to it.",
                "Checks the savepoints inside the caller's session.",
                Doc.Concat("static ", TaskOf("global::Spector.SavepointVerification")),
                "VerifySavepointsAsync",
                new Doc[] { Guid },
                "id"
            );
        }
        Operation(
            w,
            $"The {name} replayed from its log, or null when it does not exist or was deleted.",
            $"The {name} replayed from its log inside the caller's session.",
            Doc.Concat("static ", TaskOf(self + "?")),
            "GetAsync",
            new Doc[] { Guid },
            "id",
            "null"
        );
        Operation(
            w,
            $"The {name} replayed from its log with the seq of its last event (pass it back as "
                + "<see cref=\"global::Spector.WriteOptions.ExpectedSeq\"/>, e.g. as an ETag), or null when it does "
                + "not exist or was deleted.",
            $"The {name} with its seq, read inside the caller's session.",
            Doc.Concat("static ", TaskOf(Doc.Concat(Doc.Generic("global::Spector.Versioned", self), "?"))),
            "GetVersionedAsync",
            new Doc[] { Guid },
            "id"
        );
        Operation(
            w,
            $"True when the {name} exists and is not deleted: one read of its head row, no replay.",
            $"Whether the {name} exists, read inside the caller's session.",
            Doc.Concat("static ", TaskOf("bool")),
            "ExistsAsync",
            new Doc[] { Guid },
            "id"
        );
        Operation(
            w,
            $"The id of every {name} that is not deleted, streamed from the heads table.",
            $"The ids of every {name}, streamed inside the caller's session.",
            Doc.Concat(
                "static ",
                Doc.Generic("global::System.Collections.Generic.IAsyncEnumerable", "global::System.Guid")
            ),
            "IdsAsync",
            new Doc[0]
        );
        Method(
            w,
            $"The {name} as it was right after its event number <paramref name=\"seq\"/> (time travel), or null when "
                + "it did not exist then.",
            Doc.Concat("static ", TaskOf(self + "?")),
            "GetAtAsync",
            new Doc[] { Guid, "long seq" },
            RuntimeCall("GetAsync", "null", "id", "seq")
        );
        if (model.Table is not null)
        {
            Operation(
                w,
                $"Rebuilds the row of one {name} in \"{model.Table}\" from its log, after the PrepareMaterialization "
                    + "hook, unless the row exists.",
                "Rebuilds one row inside the caller's session.",
                Doc.Concat("static ", TaskOf(Doc.Generic("global::Spector.Materialization", self))),
                "MaterializeAsync",
                new Doc[] { Guid },
                "id"
            );
            Operation(
                w,
                $"Imports every row of \"{model.Table}\" that has no events yet: each gets an insert event under a new "
                    + "id, in one transaction.",
                "Imports the untracked rows inside the caller's session.",
                Doc.Concat("static ", TaskOf(Doc.Generic(ReadOnlyList, self))),
                "BringUpAsync",
                new[] { Doc.Concat(Doc.Generic("global::Spector.BringUpOptions", self), "? options = null") },
                "options"
            );
        }
        Operation(
            w,
            $"The {name} as it was at <paramref name=\"at\"/>: after its last event at or before that instant, "
                + "replayed from the savepoint before it; null when it did not exist yet or was deleted by then.",
            $"The {name} as it was at <paramref name=\"at\"/>, read inside the caller's session.",
            Doc.Concat("static ", TaskOf(self + "?")),
            "GetAsOfAsync",
            new Doc[] { Guid, "global::System.DateTimeOffset at" },
            "id",
            "at"
        );
        Operation(
            w,
            $"Each event of one {name} with the properties it changed, before and after (the audit trail of its "
                + "fields).",
            $"Each event of one {name} with the properties it changed, read inside the caller's session.",
            Doc.Concat("static ", TaskOf(Doc.Generic(ReadOnlyList, "global::Spector.RecordChange"))),
            "ChangesAsync",
            new Doc[] { Guid },
            "id"
        );
        Operation(
            w,
            $"The events of one {name} stored from <paramref name=\"from\"/> (inclusive) until "
                + "<paramref name=\"to\"/> (exclusive), in order; a null bound is open.",
            $"The events of one {name} in a time range, read inside the caller's session.",
            Doc.Concat("static ", TaskOf(Events())),
            "AllEventsAsync",
            new Doc[] { Guid, "global::System.DateTimeOffset? from", "global::System.DateTimeOffset? to" },
            "id",
            "from",
            "to"
        );
        Operation(
            w,
            $"The events of one {name}, in order.",
            $"The events of one {name}, read inside the caller's session.",
            Doc.Concat("static ", TaskOf(Events())),
            "AllEventsAsync",
            new Doc[] { Guid },
            "id"
        );

        RecordTableSql? sql = model.Table is null ? null : new RecordTableSql(model.Table, model.Properties);
        if (sql is not null)
        {
            w.Summary($"The SQL of {name}'s record table \"{model.Table}\", written at compile time.");
            w.Write(EditorBrowsable());
            var columns = sql.Columns.Select(column =>
                Doc.Call(
                    "new global::Spector.RecordColumn",
                    SourceWriter.Literal(column.Column!),
                    SourceWriter.Literal(column.Key),
                    $"typeof({column.ValueType})"
                )
            );
            var table = Doc.Call(
                "new global::Spector.RecordTable",
                Doc.String(model.Table!),
                Doc.Concat("insertSql: ", Doc.String(sql.Insert)),
                Doc.Concat("upsertSql: ", Doc.String(sql.Upsert)),
                Doc.Concat("deleteSql: ", Doc.String(sql.Delete)),
                Doc.Concat("createSqlite: ", Doc.String(sql.Create(postgres: false))),
                Doc.Concat("createPostgres: ", Doc.String(sql.Create(postgres: true))),
                Doc.Initializer("columns: new global::Spector.RecordColumn[]", columns)
            );
            w.Write(Doc.Assignment("public static global::Spector.RecordTable SpectorRecordTable { get; }", table));
            w.Line();
        }

        EmitDescriptor(w, plan, sql);
        return GeneratedFile.End(w, model.Type);
    }

    private static Doc EditorBrowsable() =>
        Doc.Concat(
            "[",
            Doc.Call(
                "global::System.ComponentModel.EditorBrowsable",
                "global::System.ComponentModel.EditorBrowsableState.Never"
            ),
            "]"
        );

    private static Doc Changeset(string self) =>
        Doc.Concat(Doc.Generic("global::Spector.Changeset", self), " changeset");

    private static Doc TaskOf(Doc result) => Doc.Generic(Task, result);

    private static Doc Events() => Doc.Generic(ReadOnlyList, "global::Spector.StoredEvent");

    private static void EmitDescriptor(SourceWriter w, EventedPlan plan, RecordTableSql? sql)
    {
        var model = plan.Model;
        var self = model.Type.FullyQualified;
        // Nested so it can call the type's private handlers and constructor.
        w.Write(GeneratedFile.GeneratedCodeAttribute);
        w.Open(
            Doc.Group(
                "private sealed class SpectorDescriptor",
                Doc.Indent(Doc.Line, ": ", Doc.Generic("global::Spector.EventedType", self))
            )
        );
        w.Line("public static readonly SpectorDescriptor Instance = new();");
        w.Line();
        w.Line("private SpectorDescriptor()");
        var baseArguments = new Doc[]
        {
            SourceWriter.Literal(model.Type.Name),
            $"schemaIndex: {plan.SchemaIndex}",
            $"version: {model.Version}",
            $"{plan.EventsTableType}.Log",
            sql is null ? "table: null" : $"{self}.SpectorRecordTable",
        };
        if (model.SavepointEvery > 0)
            baseArguments = baseArguments.Concat(new Doc[] { $"savepointEvery: {model.SavepointEvery}" }).ToArray();
        w.Write(Doc.Call(": base", baseArguments), extraIndent: 1);
        w.Line("{");
        w.Line("}");
        w.Line();
        w.Write(
            Doc.Arrow(
                Doc.Concat("public override ", self, " Create", Doc.Parameters("global::System.Guid id")),
                Doc.Initializer("new " + self, new Doc[] { $"{Identifier(model.Key)} = id" })
            )
        );
        w.Line();
        w.Write(
            Doc.Arrow(
                Doc.Concat("public override global::System.Guid IdOf", Doc.Parameters($"{self} record")),
                $"record.{Identifier(model.Key)}"
            )
        );
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
            w.Open(Signature("public override bool TrySetAttr", $"{self} record", "string key", $"{valueType} value"));
            EmitSwitch(
                w,
                "key",
                model
                    .Properties.Where(p => p.Name != model.Key)
                    .Select(p =>
                        (
                            SourceWriter.Literal(p.Key),
                            Doc.Assignment($"record.{Identifier(p.Name)}", Conversion(p)),
                            "return true;"
                        )
                    ),
                "return false;"
            );
            w.Close();
            w.Line();
        }

        w.Open(Signature("public override bool TryGetAttr", $"{self} record", "string key", "out object? value"));
        EmitSwitch(
            w,
            "key",
            model.Properties.Select(p =>
                (SourceWriter.Literal(p.Key), (Doc)$"value = record.{Identifier(p.Name)};", "return true;")
            ),
            "value = null;",
            "return false;"
        );
        w.Close();

        w.Line();
        w.Open(
            Signature(
                Doc.Concat("public override ", Doc.Generic(ReadOnlyList, "string"), " Diff"),
                $"{self} expected",
                $"{self} actual"
            )
        );
        w.Line("var differences = new global::System.Collections.Generic.List<string>();");
        var checks = model
            .Properties.Where(p => p.Name != model.Key)
            .Select(p => (Same: Same(p), Add: $"differences.Add({SourceWriter.Literal(p.Key)});"))
            .ToList();
        // One line each when every check fits, else every check as an if over two lines.
        var flat = checks.All(c => w.Fits($"if (!{c.Same.Flat}) {c.Add}"));
        foreach (var check in checks)
        {
            if (flat)
            {
                w.Line($"if (!{check.Same.Flat}) {check.Add}");
                continue;
            }
            w.Write(Doc.Concat("if (!", check.Same.Doc, ")"));
            w.Line("    " + check.Add);
        }
        w.Line("return differences;");
        w.Close();

        if (sql is not null)
        {
            w.Line();
            w.Open(
                Signature("public override void BindColumns", $"{self} record", "global::Spector.RecordColumns columns")
            );
            foreach (var p in sql.Columns)
            {
                var parameter = SourceWriter.Literal(RecordTableSql.Parameter(p));
                w.Write(Doc.Concat(Doc.Call("columns.Add", parameter, ColumnValue(p)), ";"));
            }
            w.Close();
        }
        w.Close();
    }

    /// <summary>A method declaration up to its body: its parameters one a line when they do not fit on one.</summary>
    private static Doc Signature(Doc head, params Doc[] parameters) => Doc.Concat(head, Doc.Parameters(parameters));

    /// <summary>
    /// <c>switch (value)</c> with one case a line when every case fits, else the case's statements on lines of
    /// their own below its label.
    /// </summary>
    private static void EmitSwitch(
        SourceWriter w,
        string value,
        System.Collections.Generic.IEnumerable<(string Label, Doc Statement, string Then)> cases,
        params string[] otherwise
    )
    {
        var list = cases.ToList();
        w.Open($"switch ({value})");
        var flat = list.Select(c => Doc.Print(c.Statement, int.MaxValue)[0]).ToList();
        var oneLine = list.Select((c, i) => $"case {c.Label}: {flat[i]} {c.Then}").ToList();
        if (oneLine.All(w.Fits))
        {
            foreach (var line in oneLine)
                w.Line(line);
            w.Line($"default: {string.Join(" ", otherwise)}");
        }
        else
        {
            foreach (var c in list)
            {
                w.Line($"case {c.Label}:");
                w.Write(c.Statement, extraIndent: 1);
                w.Line("    " + c.Then);
            }
            w.Line("default:");
            foreach (var statement in otherwise)
                w.Line("    " + statement);
        }
        w.Close();
    }

    /// <summary>
    /// A custom action's method: typed parameters when its current handler declares them, else an attrs
    /// object. Parameters are stored under their snake_case names.
    /// </summary>
    private static void EmitAction(SourceWriter w, EventedPlan plan, ActionPlan action, string self)
    {
        var handler = plan.Model.Handlers.FirstOrDefault(h => h.Action == action.Name && h.VersionFrom is null);
        var typed = handler is { Parameters.Length: > 0 };
        var parameters = (
            typed
                ? handler!.Parameters.Select(p => (Doc)$"{p.Type} {Identifier(p.Name)}")
                : new Doc[] { "global::Spector.Attrs attrs" }
        )
            .Concat(new Doc[] { Options })
            .ToArray();
        Doc attrs = typed
            ? Doc.Initializer(
                "new global::Spector.Attrs",
                handler!.Parameters.Select(p => Doc.Assign($"[{SourceWriter.Literal(p.Key)}]", ToNode(p)))
            )
            : "attrs";
        Operation(
            w,
            $"Replays this {plan.Model.Type.Name} from its log, applies the \"{action.Name}\" action and appends it "
                + $"(stored code {action.Code}).",
            $"Applies the \"{action.Name}\" action inside the caller's session.",
            TaskOf(self),
            GeneratedNames.ActionMethod(action.Name),
            parameters,
            session =>
                RuntimeCall(
                    "ExecuteAsync",
                    session,
                    $"this.{Identifier(plan.Model.Key)}",
                    action.Code.ToString(System.Globalization.CultureInfo.InvariantCulture),
                    SourceWriter.Literal(action.Name),
                    attrs,
                    "options"
                )
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
        w.Open(Signature("public override void Apply", Changeset(self)));
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
            var previous = $"{ReadOnlyList}<global::Spector.StoredEvent> previous";
            w.Write(
                Doc.Arrow(
                    Signature("public override void PrepareEvent", "global::Spector.EventDraft draft", previous),
                    Doc.Call($"{self}.PrepareEvent", "draft", "previous")
                )
            );
            w.Line();
        }
        if (model.Hooks.HasFlag(Hooks.PrepareMaterialization))
        {
            w.Write(
                Doc.Arrow(
                    Signature("public override void PrepareMaterialization", Changeset(self)),
                    Doc.Call($"{self}.PrepareMaterialization", "changeset")
                )
            );
            w.Line();
        }
        if (model.Hooks.HasFlag(Hooks.Savepoint))
        {
            w.Line("public override bool HasSavepoint => true;");
            w.Line();
            w.Write(
                Doc.Arrow(
                    Signature("public override global::Spector.Attrs CreateSavepoint", $"{self} record", "int version"),
                    Doc.Call($"{self}.Savepoint", "record", "version")
                )
            );
            w.Line();
        }
    }

    /// <summary>
    /// The handler's call, guarded by its versions; a handler of every version is called unguarded.
    /// </summary>
    private static void EmitGuardedCall(SourceWriter w, EventedModel model, HandlerModel handler, bool indent)
    {
        var guard =
            handler.VersionFrom is null ? null
            : handler.VersionFrom == handler.VersionTo ? $"changeset.Version == {handler.VersionFrom}"
            : $"changeset.Version is >= {handler.VersionFrom} and <= {handler.VersionTo}";
        var arguments = new Doc[] { "changeset" }
            .Concat(
                handler.Parameters.Select(p =>
                    Doc.Concat(
                        Doc.Call("changeset.Param", SourceWriter.Literal(p.Key), ParamConverter(p)),
                        p.Kind == ValueKind.Other ? "!" : ""
                    )
                )
            )
            .ToArray();
        var call = Doc.Concat(Doc.Call($"{model.Type.FullyQualified}.{Identifier(handler.Method)}", arguments), ";");
        var pad = indent ? 1 : 0;
        if (guard is null)
        {
            w.Write(call, extraIndent: pad);
            w.Write("return;", extraIndent: pad);
            return;
        }
        w.Write($"if ({guard})", extraIndent: pad);
        w.Write("{", extraIndent: pad);
        w.Write(call, extraIndent: pad + 1);
        w.Write("return;", extraIndent: pad + 1);
        w.Write("}", extraIndent: pad);
    }

    /// <summary>A typed parameter as a payload value: JSON nodes convert implicitly from the scalar types.</summary>
    private static Doc ToNode(ParameterModel p) =>
        p.Kind switch
        {
            ValueKind.Enum => p.IsNullable ? $"{Identifier(p.Name)}?.ToString()" : $"{Identifier(p.Name)}.ToString()",
            ValueKind.Other => Doc.Call(
                "global::Spector.AttrConvert.ToNode",
                Identifier(p.Name),
                $"SpectorType.{JsonOptions}"
            ),
            _ => $"(global::System.Text.Json.Nodes.JsonNode?){Identifier(p.Name)}",
        };

    private static string Identifier(string name) => GeneratedNames.Identifier(name);

    /// <summary>
    /// One operation in two overloads, on the default store and inside a caller's session, each calling the
    /// runtime method of the same name with the descriptor, the session, <paramref name="arguments"/> and the
    /// cancellation token.
    /// </summary>
    private static void Operation(
        SourceWriter w,
        string summary,
        string sessionSummary,
        Doc returns,
        string name,
        Doc[] parameters,
        params Doc[] arguments
    ) => Operation(w, summary, sessionSummary, returns, name, parameters, s => RuntimeCall(name, s, arguments));

    private static void Operation(
        SourceWriter w,
        string summary,
        string sessionSummary,
        Doc returns,
        string name,
        Doc[] parameters,
        System.Func<Doc, Doc> call
    )
    {
        Method(w, summary, returns, name, parameters, call("null"));
        Method(
            w,
            sessionSummary,
            returns,
            name,
            new Doc[] { Session }
                .Concat(parameters)
                .ToArray(),
            call("session ?? throw new global::System.ArgumentNullException(nameof(session))")
        );
    }

    /// <summary><c>SpectorRuntime.{method}(SpectorType, session, ..., cancellationToken)</c>.</summary>
    private static Doc RuntimeCall(string method, Doc session, params Doc[] arguments) =>
        Doc.Call(
            $"{Runtime}.{method}",
            new Doc[] { "SpectorType", session }
                .Concat(arguments)
                .Concat(new Doc[] { "cancellationToken" })
                .ToArray()
        );

    /// <summary>An expression-bodied public method, its cancellation token last, and the blank line after it.</summary>
    private static void Method(SourceWriter w, string summary, Doc returns, string name, Doc[] parameters, Doc call)
    {
        w.Summary(summary);
        w.Write(GeneratedFile.GeneratedCodeAttribute);
        var signature = Signature(
            Doc.Concat("public ", returns, " ", name),
            parameters.Concat(new Doc[] { Ct }).ToArray()
        );
        w.Write(Doc.Arrow(signature, call));
        w.Line();
    }

    // Non-scalar values go through the events table's JSON options, whose metadata a Native AOT app supplies
    // (EventLog.UseJson); no reflection on the replay path.
    private const string JsonOptions = "Log.JsonOptions";

    private static Doc Conversion(PropertyModel p) =>
        p.Kind == ValueKind.Other
            ? Doc.Concat(ToObject(p.Type), "!")
            : Doc.Call(Converter(p.Kind, p.IsNullable, p.ValueType), "value");

    private static Doc ParamConverter(ParameterModel p) =>
        p.Kind == ValueKind.Other
            ? Doc.Group("value =>", Doc.Indent(Doc.Line, ToObject(p.Type)))
            : Converter(p.Kind, p.IsNullable, p.ValueType);

    private static Doc ToObject(string type) =>
        Doc.Call(Doc.Generic("global::Spector.AttrConvert.ToObject", type), "value", JsonOptions);

    /// <summary>Whether two records agree on <paramref name="p"/>, one line flat and as a layout.</summary>
    private static (string Flat, Doc Doc) Same(PropertyModel p)
    {
        var name = Identifier(p.Name);
        var doc =
            p.Kind == ValueKind.Other
                ? Doc.Call("global::Spector.AttrConvert.SameJson", $"expected.{name}", $"actual.{name}", JsonOptions)
                : Doc.Call(
                    Doc.Concat(
                        Doc.Generic("global::System.Collections.Generic.EqualityComparer", p.Type),
                        ".Default.Equals"
                    ),
                    $"expected.{name}",
                    $"actual.{name}"
                );
        return (Doc.Print(doc, int.MaxValue)[0], doc);
    }

    /// <summary>The <c>AttrConvert</c> method that turns a payload value into a scalar type.</summary>
    private static Doc Converter(ValueKind kind, bool nullable, string valueType)
    {
        const string convert = "global::Spector.AttrConvert.";
        var prefix = nullable ? "Nullable" : "";
        return kind == ValueKind.Enum
            ? Doc.Generic($"{convert}To{prefix}Enum", valueType)
            : (Doc)$"{convert}To{prefix}{kind}";
    }

    private static Doc ColumnValue(PropertyModel p) =>
        p.Kind switch
        {
            ValueKind.Enum => p.IsNullable
                ? $"record.{Identifier(p.Name)}?.ToString()"
                : $"record.{Identifier(p.Name)}.ToString()",
            ValueKind.DateTime or ValueKind.DateTimeOffset => Doc.Call(
                "global::Spector.SqlValues.Utc",
                $"record.{Identifier(p.Name)}"
            ),
            _ => $"record.{Identifier(p.Name)}",
        };
}
