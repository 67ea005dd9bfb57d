using Microsoft.CodeAnalysis;

namespace Spector.Generators.Tests;

/// <summary>
/// One consumer, one mistake: each declaration that used to produce broken generated code or silently wrong
/// storage is a SPEC error at the token to change (line and column), and nothing broken is generated.
/// </summary>
public sealed class DeclarationDiagnosticTests
{
    private const string Table = """
        using Spector;
        [EventsTable("events")]
        [EventSchema(typeof(Thing), 0)]
        public partial class Events;
        """;

    private string[] _sources = [];

    /// <summary>Runs the generator, keeping the sources so a diagnostic's span can be read back.</summary>
    private GeneratorHarness.Result Run(params string[] sources)
    {
        _sources = sources;
        return GeneratorHarness.Run(sources);
    }

    /// <summary>Thing with <paramref name="members"/> from line 8; the [Evented] attribute is on line 3.</summary>
    private GeneratorHarness.Result RunThing(string members, string evented = "[Evented]") =>
        Run(
            Table,
            "using System;\nusing Spector;\n"
                + evented
                + "\npublic partial class Thing\n{\n"
                + "    public Guid Id { get; set; }\n    static void Changeset(Changeset<Thing> c) { }\n"
                + members
                + "\n}\n"
        );

    private static Diagnostic Single(GeneratorHarness.Result result, string id)
    {
        var matching = result.GeneratorDiagnostics.Where(d => d.Id == id).ToList();
        Assert.That(matching, Has.Count.EqualTo(1), string.Join("\n", result.GeneratorDiagnostics));
        Assert.That(matching[0].Severity, Is.EqualTo(DiagnosticSeverity.Error));
        Assert.That(matching[0].Descriptor.HelpLinkUri, Does.EndWith($"docs/rules/{id}.md"));
        var generated = result.CompilationErrors.Where(d =>
            d.Location.SourceTree?.FilePath.EndsWith(".g.cs", StringComparison.Ordinal) == true
        );
        Assert.That(generated, Is.Empty, "no compiler error inside generated code");
        return matching[0];
    }

    /// <summary>The 1-based line and column where the diagnostic starts, and the text it underlines.</summary>
    private (int Line, int Column, string Text) At(Diagnostic d)
    {
        var span = d.Location.GetLineSpan();
        var source = _sources[
            int.Parse(span.Path["Source".Length..^".cs".Length], System.Globalization.CultureInfo.InvariantCulture)
        ];
        var text = source.Substring(d.Location.SourceSpan.Start, d.Location.SourceSpan.Length);
        return (span.StartLinePosition.Line + 1, span.StartLinePosition.Character + 1, text);
    }

    [TestCase("[\"2fa\"]", "\"2fa\"", "'2faAsync'")]
    [TestCase("[\"archive\", \"a.b\"]", "\"a.b\"", "'A.bAsync'")]
    [TestCase("[\"\"]", "\"\"", "'Async'")]
    public void SPEC029_an_action_name_that_makes_no_method_name(string actions, string underlined, string method)
    {
        var d = Single(RunThing("", $"[Evented(Actions = {actions})]"), "SPEC029");

        Assert.That(d.GetMessage(), Does.Contain(method));
        Assert.That((At(d).Line, At(d).Text), Is.EqualTo((3, underlined)));
    }

    [Test]
    public void SPEC029_an_action_name_with_a_space_which_no_lock_line_could_hold()
    {
        // spector.lock separates its fields with spaces: "soft delete" once made -t:SpectorLock write a line the
        // next build could not read (SPEC024).
        var d = Single(RunThing("", "[Evented(Actions = [\"archive\", \"soft delete\"])]"), "SPEC029");

        Assert.That(d.GetMessage(), Does.Contain("'soft delete'").And.Contain("no spaces"));
        Assert.That((At(d).Line, At(d).Text), Is.EqualTo((3, "\"soft delete\"")));
    }

    [Test]
    public void SPEC029_an_action_name_longer_than_a_CSharp_identifier()
    {
        // 508 characters make a 513-character method: one beyond what C# accepts (CS7013 in generated code).
        var tooLong = new string('a', 508);
        var d = Single(RunThing("", $"[Evented(Actions = [\"{tooLong}\"])]"), "SPEC029");

        Assert.That((At(d).Line, At(d).Text), Is.EqualTo((3, $"\"{tooLong}\"")));
        var longest = GeneratorHarness.Run(Table, ThingWith($"[Evented(Actions = [\"{tooLong[1..]}\"])]"));
        Assert.That(longest.GeneratorDiagnostics, Is.Empty);
        Assert.That(longest.CompilationErrors, Is.Empty);
    }

    [Test]
    public void An_action_name_starting_with_a_letter_number_is_a_method_name_as_CSharp_allows()
    {
        var result = GeneratorHarness.Run(Table, ThingWith("[Evented(Actions = [\"\u216Bth\"])]"));

        Assert.That(result.GeneratorDiagnostics, Is.Empty);
        Assert.That(result.CompilationErrors, Is.Empty);
        Assert.That(result.Sources.Values, Has.Some.Contains("\u216BthAsync("));
    }

    private static string ThingWith(string evented) =>
        "using System;\nusing Spector;\n"
        + evented
        + "\npublic partial class Thing\n{\n    public Guid Id { get; set; }\n"
        + "    static void Changeset(Changeset<Thing> c) { }\n}\n";

    [TestCase("static async void Changeset(Changeset<Thing> c) { }", "Changeset")]
    [TestCase("[OnAction(\"archive\")] static async void Archive(Changeset<Thing> c) { }", "Archive")]
    [TestCase("static async void PrepareMaterialization(Changeset<Thing> c) { }", "PrepareMaterialization")]
    public void SPEC013_and_SPEC018_an_async_void_handler_or_hook(string member, string name)
    {
        // Replay calls handlers synchronously: an async one would change the record after replay moved on.
        var evented = "[Evented(Actions = [\"archive\"])]";
        var result =
            name == "Changeset"
                ? Run(
                    Table,
                    "using System;\nusing Spector;\n"
                        + evented
                        + "\npublic partial class Thing\n{\n"
                        + "    public Guid Id { get; set; }\n    "
                        + member
                        + "\n}\n"
                )
                : RunThing("    " + member, evented);

        var d = Single(result, name == "PrepareMaterialization" ? "SPEC018" : "SPEC013");
        Assert.That(d.GetMessage(), Does.Contain($"'{name}'"));
        Assert.That(At(d).Line, Is.EqualTo(name == "Changeset" ? 7 : 8));
    }

    [TestCase("ref", "int count")]
    [TestCase("out", "int count")]
    [TestCase("in", "int count")]
    public void SPEC013_a_handler_parameter_passed_by_reference_is_named(string modifier, string parameter)
    {
        var result = RunThing(
            $"    [OnAction(\"archive\")] static void Archive(Changeset<Thing> c, {modifier} {parameter}) "
                + (modifier == "out" ? "{ count = 0; }" : "{ }"),
            "[Evented(Actions = [\"archive\"])]"
        );

        var d = Single(result, "SPEC013");
        Assert.That(d.GetMessage(), Does.Contain($"'count' passed by value, not '{modifier}'"));
        Assert.That((At(d).Line, At(d).Text), Is.EqualTo((8, "count")));
    }

    [Test]
    public void SPEC015_an_Id_beside_a_Key_property_is_a_second_key()
    {
        var result = RunThing("    [System.ComponentModel.DataAnnotations.Key] public Guid Other { get; set; }");

        var d = Single(result, "SPEC015");
        Assert.That((At(d).Line, At(d).Text), Is.EqualTo((6, "Id")));
        Assert.That(
            result.GeneratorDiagnostics.Select(x => x.Id),
            Has.None.EqualTo("SPEC032"),
            "not 'both stored as id'"
        );
    }

    [Test]
    public void SPEC042_one_type_under_two_schema_indexes_of_one_table()
    {
        var result = Run(
            """
            using Spector;
            [EventsTable("events")]
            [EventSchema(typeof(Thing), 0)]
            [EventSchema(typeof(Thing), 1)]
            public partial class Events;
            """,
            "using System;\nusing Spector;\n[Evented]\npublic partial class Thing\n{\n"
                + "    public Guid Id { get; set; }\n    static void Changeset(Changeset<Thing> c) { }\n}\n"
        );

        var d = Single(result, "SPEC042");
        Assert.That(d.GetMessage(), Does.Contain("'Thing'").And.Contain("indexes 0 and 1"));
        Assert.That((At(d).Line, At(d).Text), Is.EqualTo((4, "EventSchema(typeof(Thing), 1)")));
        Assert.That(result.Sources.Keys, Has.None.Contains("Thing"), "nothing generated for the type");
    }

    [Test]
    public void SPEC043_two_aliases_for_one_action()
    {
        var result = Run(
            """
            using Spector;
            [EventsTable("events")]
            [EventSchema(typeof(Thing), 0)]
            [ActionAlias("shelve", "older")]
            [ActionAlias("shelve", "oldest")]
            public partial class Events;
            """,
            "using System;\nusing Spector;\n[Evented(Actions = [\"shelve\"])]\npublic partial class Thing\n{\n"
                + "    public Guid Id { get; set; }\n    static void Changeset(Changeset<Thing> c) { }\n}\n"
        );

        var d = Single(result, "SPEC043");
        Assert.That(d.GetMessage(), Does.Contain("'shelve'").And.Contain("'older' and 'oldest'"));
        Assert.That((At(d).Line, At(d).Text), Is.EqualTo((5, "\"oldest\"")));
    }

    [Test]
    public void SPEC044_a_reversed_version_range_is_reported_alone()
    {
        var result = RunThing("    [VersionIn(1, 0)] static void Up(Changeset<Thing> c) { }", "[Evented(Version = 2)]");

        var d = Single(result, "SPEC044");
        Assert.That(d.GetMessage(), Does.Contain("[VersionIn(1, 0)]").And.Contain("'Up'"));
        Assert.That((At(d).Line, At(d).Text), Is.EqualTo((8, "1")));
        Assert.That(
            result.GeneratorDiagnostics.Select(x => x.Id),
            Is.EqualTo(new[] { "SPEC044" }),
            "no SPEC008 or SPEC009 as well"
        );
    }

    [Test]
    public void SPEC030_two_actions_that_generate_one_method()
    {
        var d = Single(RunThing("", "[Evented(Actions = [\"soft-delete\", \"soft_delete\"])]"), "SPEC030");

        Assert.That(d.GetMessage(), Does.Contain("'soft-delete' and 'soft_delete'").And.Contain("'SoftDeleteAsync'"));
        Assert.That((At(d).Line, At(d).Text), Is.EqualTo((3, "\"soft_delete\"")));
    }

    [Test]
    public void SPEC031_an_events_table_class_named_Log()
    {
        var result = Run(
            """
            using Spector;
            [EventsTable("events")]
            [EventSchema(typeof(Thing), 0)]
            public partial class Log;
            """,
            "using System;\nusing Spector;\n[Evented] public partial class Thing { public Guid Id { get; set; } "
                + "static void Changeset(Changeset<Thing> c) { } }"
        );

        var d = Single(result, "SPEC031");
        Assert.That(d.GetMessage(), Does.Contain("'Log'"));
        Assert.That((At(d).Line, At(d).Text), Is.EqualTo((4, "Log")));
        Assert.That(result.Sources, Is.Empty);
    }

    [TestCase("[\"get\"]", "", 3, "\"get\"")]
    [TestCase("[]", "    public string SpectorType { get; set; } = \"\";", 8, "SpectorType")]
    [TestCase("[\"freeze\"]", "    public void FreezeAsync() { }", 8, "FreezeAsync")]
    [TestCase(
        "[\"freeze\"]",
        "    [OnAction(\"freeze\")] static void Freeze(Changeset<Thing> c, string session) { }",
        8,
        "session"
    )]
    public void SPEC031_a_name_generated_code_uses(string actions, string members, int line, string underlined)
    {
        var d = Single(RunThing(members, $"[Evented(Actions = {actions})]"), "SPEC031");

        Assert.That((At(d).Line, At(d).Text), Is.EqualTo((line, underlined)));
    }

    [TestCase(
        "    public string FooBar { get; set; } = \"\";\n    public string Foo_Bar { get; set; } = \"\";",
        "payload key 'foo_bar'",
        9
    )]
    [TestCase(
        "    [System.ComponentModel.DataAnnotations.Schema.Column(\"x\")] public string A { get; set; } = \"\";\n"
            + "    [System.ComponentModel.DataAnnotations.Schema.Column(\"x\")] public string B { get; set; } = \"\";",
        "column 'x'",
        9
    )]
    [TestCase(
        "    [OnAction(\"freeze\")] static void Freeze(Changeset<Thing> c, string fooBar, string foo_bar) { }",
        "payload key 'foo_bar'",
        8
    )]
    public void SPEC032_two_members_stored_under_one_name(string members, string shown, int line)
    {
        var result = RunThing(members, "[Evented(Table = \"things\", Actions = [\"freeze\"])]");

        var d = result.GeneratorDiagnostics.First(x => x.Id == "SPEC032" && x.GetMessage().Contains(shown));
        Assert.That(At(d).Line, Is.EqualTo(line), d.ToString());
    }

    [TestCase("System.IO.Stream data", "stream")]
    [TestCase("Func<int> callback", "delegate")]
    [TestCase("Secret secret", "less accessible")]
    public void SPEC033_an_action_parameter_that_cannot_be_stored(string parameter, string reason)
    {
        var d = Single(
            RunThing(
                "    private sealed class Secret { }\n"
                    + $"    [OnAction(\"freeze\")] static void Freeze(Changeset<Thing> c, {parameter}) {{ }}",
                "[Evented(Actions = [\"freeze\"])]"
            ),
            "SPEC033"
        );

        Assert.That(d.GetMessage(), Does.Contain(reason));
        Assert.That((At(d).Line, At(d).Text), Is.EqualTo((9, parameter.Split(' ')[1])));
    }

    [TestCase("    public string Name { get; init; } = \"\";", "init-only")]
    [TestCase("    public required string Name { get; set; }", "required")]
    public void SPEC034_a_property_replay_cannot_set(string member, string shown)
    {
        var d = Single(RunThing(member), "SPEC034");

        Assert.That(d.GetMessage(), Does.Contain(shown));
        Assert.That((At(d).Line, At(d).Text), Is.EqualTo((8, "Name")));
    }

    [Test]
    public void An_init_only_property_no_event_carries_may_be_not_mapped()
    {
        var result = RunThing(
            "    [System.ComponentModel.DataAnnotations.Schema.NotMapped] public string Name { get; init; } = \"\";"
        );

        Assert.That(result.GeneratorDiagnostics, Is.Empty, string.Join("\n", result.GeneratorDiagnostics));
    }

    [TestCase("public partial class Box<T>", "Box<int>", "generic")]
    [TestCase("public partial struct Box", "Box", "struct")]
    [TestCase("file partial class Box", "Box", "file-local")]
    [TestCase("public partial record struct Box", "Box", "record struct")]
    public void SPEC035_a_type_that_cannot_be_evented(string declaration, string listed, string shown)
    {
        var result = Run(
            $$"""
            using System;
            using Spector;
            [EventsTable("events")]
            [EventSchema(typeof({{listed}}), 0)]
            public partial class Events;
            [Evented]
            {{declaration}}
            {
                public Guid Id { get; set; }
            }
            """
        );

        var d = Single(result, "SPEC035");
        Assert.That(d.GetMessage(), Does.Contain(shown));
        Assert.That(At(d).Line, Is.EqualTo(7));
        Assert.That(
            result.GeneratorDiagnostics.Select(x => x.Id),
            Has.None.EqualTo("SPEC004").And.None.EqualTo("SPEC001"),
            "no misleading 'has no [Evented]'"
        );
    }

    [Test]
    public void SPEC035_an_evented_class_nested_in_a_generic_class()
    {
        var result = Run(
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

        Assert.That(Single(result, "SPEC035").GetMessage(), Does.Contain("nested in the generic type 'Outer<T>'"));
    }

    [Test]
    public void Evented_records_are_supported()
    {
        var result = Run(
            """
            using System;
            using Spector;
            [EventsTable("events")]
            [EventSchema(typeof(Note), 0)]
            public partial class Events;
            [Evented(Table = "notes")]
            public partial record Note
            {
                public Guid Id { get; set; }
                public string Text { get; set; } = "";
                static void Changeset(Changeset<Note> c) => c.Cast("text");
            }
            """
        );

        Assert.That(result.GeneratorDiagnostics, Is.Empty, string.Join("\n", result.GeneratorDiagnostics));
        Assert.That(result.CompilationErrors, Is.Empty, string.Join("\n", result.CompilationErrors));
        Assert.That(result.Sources["Note.Spector.g.cs"], Does.Contain("partial record Note"));
    }

    [Test]
    public void SPEC036_two_events_tables_with_one_table_name()
    {
        var result = Run(
            """
            using System;
            using Spector;
            [EventsTable("events")]
            [EventSchema(typeof(User), 0)]
            public partial class UserEvents;
            [EventsTable("events")]
            [EventSchema(typeof(Post), 0)]
            public partial class PostEvents;
            [Evented] public partial class User
            {
                public Guid Id { get; set; }
                static void Changeset(Changeset<User> c) { }
            }
            [Evented] public partial class Post
            {
                public Guid Id { get; set; }
                static void Changeset(Changeset<Post> c) { }
            }
            """
        );

        var found = result
            .GeneratorDiagnostics.Where(d => d.Id == "SPEC036")
            .Select(d => (At(d).Line, At(d).Text))
            .ToList();
        Assert.That(found, Is.EquivalentTo(new[] { (3, "\"events\""), (6, "\"events\"") }));
        Assert.That(result.Sources, Is.Empty, "neither table nor its types is generated");
        Assert.That(result.CompilationErrors, Is.Empty);
    }

    [TestCase("events", "events table class 'Events'")]
    [TestCase("others", "the record table of 'Other'")]
    public void SPEC036_a_record_table_that_is_another_table(string table, string shown)
    {
        var result = Run(
            $$"""
            using System;
            using Spector;
            [EventsTable("events")]
            [EventSchema(typeof(Thing), 0)]
            [EventSchema(typeof(Other), 1)]
            public partial class Events;
            [Evented(Table = "{{table}}")]
            public partial class Thing { public Guid Id { get; set; } static void Changeset(Changeset<Thing> c) { } }
            [Evented(Table = "others")]
            public partial class Other { public Guid Id { get; set; } static void Changeset(Changeset<Other> c) { } }
            """
        );

        var d = result.GeneratorDiagnostics.First(x => x.Id == "SPEC036" && x.GetMessage().Contains("'Thing'"));
        Assert.That(d.GetMessage(), Does.Contain(shown));
        Assert.That((At(d).Line, At(d).Text), Is.EqualTo((7, $"\"{table}\"")));
    }

    [TestCase("[EventSchema(typeof(Thing), -1)]", "[Evented]", "", 3, "-1")]
    [TestCase("[EventSchema(typeof(Thing), 0)]", "[Evented(Version = -2)]", "", 3, "-2")]
    [TestCase(
        "[EventSchema(typeof(Thing), 0)]",
        "[Evented(Version = 2)]",
        "    [VersionIs(-1)] static void Up(Changeset<Thing> c) { }",
        8,
        "-1"
    )]
    [TestCase("[EventSchema(typeof(Thing), 0)]", "[Evented(SavepointEvery = -5)]", "", 3, "-5")]
    public void SPEC037_negative_schema_indexes_and_versions(
        string schema,
        string evented,
        string members,
        int line,
        string underlined
    )
    {
        var result = Run(
            Table.Replace("[EventSchema(typeof(Thing), 0)]", schema),
            "using System;\nusing Spector;\n"
                + evented
                + "\npublic partial class Thing\n{\n"
                + "    public Guid Id { get; set; }\n    static void Changeset(Changeset<Thing> c) { }\n"
                + members
                + "\n}\n"
        );

        var d = Single(result, "SPEC037");
        Assert.That(At(d).Text, Is.EqualTo(underlined));
        Assert.That(At(d).Line, Is.EqualTo(line));
    }

    [Test]
    public void SPEC014_an_invalid_events_table_name_is_reported_at_the_name()
    {
        var result = Run(
            Table.Replace("\"events\"", "\"my events\""),
            "using System;\nusing Spector;\n"
                + "[Evented] public partial class Thing "
                + "{ public Guid Id { get; set; } static void Changeset(Changeset<Thing> c) { } }"
        );

        var d = Single(result, "SPEC014");
        Assert.That((At(d).Line, At(d).Text), Is.EqualTo((2, "\"my events\"")));
    }

    [Test]
    public void A_key_property_marked_Key_names_the_record_table_key_column()
    {
        var result = Run(
            Table,
            """
            using System;
            using System.ComponentModel.DataAnnotations;
            using Spector;
            [Evented(Table = "things")]
            public partial class Thing
            {
                [Key] public Guid Uuid { get; set; }
                public string Name { get; set; } = "";
                static void Changeset(Changeset<Thing> c) => c.Cast("name");
            }
            """
        );

        Assert.That(result.GeneratorDiagnostics, Is.Empty, string.Join("\n", result.GeneratorDiagnostics));
        Assert.That(result.CompilationErrors, Is.Empty, string.Join("\n", result.CompilationErrors));
        var source = result.Sources["Thing.Spector.g.cs"];
        Assert.That(source, Does.Contain("new global::Thing { Uuid = id }").And.Contain("=> record.Uuid;"));
        Assert.That(source, Does.Contain("\\\"uuid\\\" uuid PRIMARY KEY").And.Contain("ON CONFLICT (\\\"uuid\\\")"));
        Assert.That(source, Does.Contain("WHERE \\\"uuid\\\" = @id"));
        Assert.That(
            source,
            Does.Contain("new global::Spector.RecordColumn(\"uuid\", \"id\", typeof(global::System.Guid))")
        );
    }

    [Test]
    public void SPEC015_two_properties_marked_Key()
    {
        var d = Single(
            RunThing(
                "    [System.ComponentModel.DataAnnotations.Key] public Guid A { get; set; }\n"
                    + "    [System.ComponentModel.DataAnnotations.Key] public Guid B { get; set; }"
            ),
            "SPEC015"
        );

        Assert.That((At(d).Line, At(d).Text), Is.EqualTo((9, "B")));
    }
}
