using Microsoft.CodeAnalysis;

namespace Spector.Generators.Tests;

/// <summary>
/// Odd but possible declarations, one per case. Whatever the user writes, the generator either emits code that
/// compiles or reports a SPEC error and emits nothing broken: no compiler error may point into a generated file,
/// and the generator never crashes (CS8785).
/// </summary>
public sealed class OddInputCorpusTests
{
    private const string Table = """
        using Spector;
        [EventsTable("events")]
        [EventSchema(typeof(Thing), 0)]
        public partial class Events;
        """;

    private static string Thing(string members, string evented = "[Evented]", string header = "") =>
        $$"""
            using System;
            using System.ComponentModel.DataAnnotations.Schema;
            using Spector;
            {{header}}
            {{evented}}
            public partial class Thing
            {
                public Guid Id { get; set; }
                static void Changeset(Changeset<Thing> c) { }
            {{members}}
            }
            """;

    public static IEnumerable<TestCaseData> Corpus()
    {
        TestCaseData Case(string name, params string[] sources) => new TestCaseData((object)sources).SetName(name);

        yield return Case("action starting with a digit", Table, Thing("", "[Evented(Actions = [\"2fa\"])]"));
        yield return Case(
            "two actions mapping to one method",
            Table,
            Thing("", "[Evented(Actions = [\"soft-delete\", \"soft_delete\"])]")
        );
        yield return Case("an empty action name", Table, Thing("", "[Evented(Actions = [\"\"])]"));
        yield return Case("an action of separators only", Table, Thing("", "[Evented(Actions = [\"-_ \"])]"));
        yield return Case("an action with a quote", Table, Thing("", "[Evented(Actions = [\"say\\\"hi\"])]"));
        yield return Case("an action with a dot", Table, Thing("", "[Evented(Actions = [\"a.b\"])]"));
        yield return Case("a unicode action", Table, Thing("", "[Evented(Actions = [\"größe\"])]"));
        yield return Case(
            "an action named like a generated method",
            Table,
            Thing(
                "    [OnAction(\"get\")] static void Get(Changeset<Thing> c, Guid id) { }",
                "[Evented(Actions = [\"get\"])]"
            )
        );
        yield return Case(
            "actions named like other generated methods",
            Table,
            Thing(
                "",
                "[Evented(Table = \"things\", Actions = [\"get_at\", \"all_events\", \"materialize\", \"bring_up\"])]"
            )
        );
        yield return Case(
            "an events table class named Log",
            """
            using Spector;
            [EventsTable("events")]
            [EventSchema(typeof(Thing), 0)]
            public partial class Log;
            """,
            Thing("")
        );
        yield return Case(
            "an events table class named like its other members",
            """
            using Spector;
            [EventsTable("events")]
            [EventSchema(typeof(Thing), 0)]
            public partial class MigrateAsync;
            """,
            Thing("")
        );
        yield return Case(
            "an events table class with its own Log member",
            """
            using Spector;
            [EventsTable("events")]
            [EventSchema(typeof(Thing), 0)]
            public partial class Events { public static string Log => ""; }
            """,
            Thing("")
        );
        yield return Case(
            "an evented class named like a generated member",
            """
            using Spector;
            [EventsTable("events")]
            [EventSchema(typeof(SpectorType), 0)]
            public partial class Events;
            [Evented]
            public partial class SpectorType
            {
                public System.Guid Id { get; set; }
                static void Changeset(Changeset<SpectorType> c) { }
            }
            """
        );
        yield return Case(
            "a property named like a generated member",
            Table,
            Thing("    public string SpectorType { get; set; } = \"\";")
        );
        yield return Case(
            "keyword property names",
            Table,
            Thing(
                "    public string @class { get; set; } = \"\";\n    public int @event { get; set; }",
                "[Evented(Table = \"things\")]"
            )
        );
        yield return Case(
            "two properties with one stored key",
            Table,
            Thing(
                "    public string FooBar { get; set; } = \"\";\n    public string Foo_Bar { get; set; } = \"\";",
                "[Evented(Table = \"things\")]"
            )
        );
        yield return Case(
            "two properties on one column",
            Table,
            Thing(
                "    [Column(\"x\")] public string A { get; set; } = \"\";\n"
                    + "    [Column(\"x\")] public string B { get; set; } = \"\";",
                "[Evented(Table = \"things\")]"
            )
        );
        yield return Case(
            "handler parameters named like the generated ones",
            Table,
            Thing(
                "    [OnAction(\"freeze\")]\n"
                    + "    static void Freeze(Changeset<Thing> c, string cancellationToken, string session) { }",
                "[Evented(Actions = [\"freeze\"])]"
            )
        );
        yield return Case(
            "handler parameters with one stored key",
            Table,
            Thing(
                "    [OnAction(\"freeze\")] static void Freeze(Changeset<Thing> c, string fooBar, string foo_bar) { }",
                "[Evented(Actions = [\"freeze\"])]"
            )
        );
        yield return Case(
            "keyword handler parameters",
            Table,
            Thing(
                "    [OnAction(\"freeze\")] static void Freeze(Changeset<Thing> c, string @class, int @params) { }",
                "[Evented(Actions = [\"freeze\"])]"
            )
        );
        yield return Case(
            "a ref handler parameter",
            Table,
            Thing(
                "    [OnAction(\"freeze\")] static void Freeze(Changeset<Thing> c, ref int count) { }",
                "[Evented(Actions = [\"freeze\"])]"
            )
        );
        yield return Case(
            "an out handler parameter",
            Table,
            Thing(
                "    [OnAction(\"freeze\")] static void Freeze(Changeset<Thing> c, out int count) { count = 0; }",
                "[Evented(Actions = [\"freeze\"])]"
            )
        );
        yield return Case(
            "a private handler parameter type",
            Table,
            Thing(
                "    private enum Reason { A }\n"
                    + "    [OnAction(\"freeze\")] static void Freeze(Changeset<Thing> c, Reason reason) { }",
                "[Evented(Actions = [\"freeze\"])]"
            )
        );
        yield return Case(
            "a private property type",
            Table,
            Thing(
                "    private enum Mood { Calm }\n"
                    + "    private Mood Feeling { get; set; }\n"
                    + "    public int Count { get; set; }"
            )
        );
        yield return Case(
            "a keyword namespace",
            Table.Replace("typeof(Thing)", "typeof(@class.Thing)"),
            Thing("", header: "namespace @class;")
        );
        yield return Case(
            "an internal evented class",
            Table,
            Thing("").Replace("public partial class Thing", "internal partial class Thing")
        );
        yield return Case(
            "a static events table class",
            Table.Replace("public partial class Events", "public static partial class Events"),
            Thing("")
        );
        yield return Case(
            "a generic evented class",
            """
            using Spector;
            [EventsTable("events")]
            [EventSchema(typeof(Box<int>), 0)]
            public partial class Events;
            [Evented]
            public partial class Box<T>
            {
                public System.Guid Id { get; set; }
                static void Changeset(Changeset<Box<T>> c) { }
            }
            """
        );
        yield return Case(
            "Box and Box<T> both evented",
            """
            using System;
            using Spector;
            [EventsTable("events")]
            [EventSchema(typeof(Box), 0)]
            [EventSchema(typeof(Box<int>), 1)]
            public partial class Events;
            [Evented] public partial class Box
            {
                public Guid Id { get; set; }
                static void Changeset(Changeset<Box> c) { }
            }
            [Evented] public partial class Box<T>
            {
                public Guid Id { get; set; }
                static void Changeset(Changeset<Box<T>> c) { }
            }
            """
        );
        yield return Case(
            "an evented record",
            """
            using System;
            using Spector;
            [EventsTable("events")]
            [EventSchema(typeof(Note), 0)]
            public partial class Events;
            [Evented] public partial record Note
            {
                public Guid Id { get; set; }
                public string Text { get; set; } = "";
                static void Changeset(Changeset<Note> c) => c.Cast("text");
            }
            """
        );
        yield return Case(
            "an evented class nested in a generic class",
            """
            using System;
            using Spector;
            [EventsTable("events")]
            [EventSchema(typeof(Outer<int>.Inner), 0)]
            public partial class Events;
            public partial class Outer<T>
            {
                [Evented] public partial class Inner
                {
                    public Guid Id { get; set; }
                    static void Changeset(Changeset<Inner> c) { }
                }
            }
            """
        );
        yield return Case(
            "an evented struct-like nesting in a record",
            """
            using System;
            using Spector;
            [EventsTable("events")]
            [EventSchema(typeof(Outer.Inner), 0)]
            public partial class Events;
            public partial record Outer
            {
                [Evented] public partial class Inner
                {
                    public Guid Id { get; set; }
                    static void Changeset(Changeset<Inner> c) { }
                }
            }
            """
        );
        yield return Case(
            "an init-only property",
            Table,
            Thing("    public string Name { get; init; } = \"\";", "[Evented(Table = \"things\")]")
        );
        yield return Case("a required property", Table, Thing("    public required string Name { get; set; }"));
        yield return Case(
            "an evented class named like its namespace",
            """
            using Spector;
            namespace Thing;
            [EventsTable("events")]
            [EventSchema(typeof(Thing), 0)]
            public partial class Events;
            [Evented]
            public partial class Thing
            {
                public System.Guid Id { get; set; }
                static void Changeset(Changeset<Thing> c) { }
            }
            """
        );
        yield return Case(
            "types named like System types",
            """
            using Spector;
            namespace Shop;
            [EventsTable("events")]
            [EventSchema(typeof(Guid), 0)]
            public partial class Events;
            [Evented]
            public partial class Guid
            {
                public System.Guid Id { get; set; }
                public string Task { get; set; } = "";
                static void Changeset(Changeset<Guid> c) { }
            }
            public class Spector { }
            public class System { }
            """
        );
    }

    [TestCaseSource(nameof(Corpus))]
    public void The_generator_never_emits_code_that_fails_to_compile(string[] sources)
    {
        var result = GeneratorHarness.Run(sources);

        var inGenerated = result.CompilationErrors.Where(d =>
            d.Location.SourceTree?.FilePath.EndsWith(".g.cs", StringComparison.Ordinal) == true
        );
        Assert.That(
            inGenerated,
            Is.Empty,
            string.Join("\n", inGenerated) + "\n" + string.Join("\n", result.Sources.Values)
        );
        Assert.That(
            result.GeneratorDiagnostics.Where(d => d.Id == "CS8785"),
            Is.Empty,
            string.Join("\n", result.GeneratorDiagnostics)
        );
        var anyError =
            result.GeneratorDiagnostics.Any(d => d.Severity == DiagnosticSeverity.Error)
            || result.CompilationErrors.Length > 0;
        TestContext.Out.WriteLine(
            anyError
                ? string.Join("\n", result.GeneratorDiagnostics.Concat(result.CompilationErrors))
                : "compiles: " + string.Join(", ", result.Sources.Keys)
        );
    }
}
