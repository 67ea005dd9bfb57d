using Microsoft.CodeAnalysis;

namespace Spector.Generators.Tests;

/// <summary>Mistakes that stop generation are compile errors at the line of the mistake.</summary>
public sealed class DiagnosticTests
{
    private const string Table = """
        using Spector;
        [EventsTable("events")]
        [EventSchema(typeof(Thing), 0)]
        public partial class Events;
        """;

    private const string Thing = """
        using System;
        using Spector;
        [Evented]
        public partial class Thing
        {
            public Guid Id { get; set; }
            static void Changeset(Changeset<Thing> c) { }
        }
        """;

    private static Diagnostic Single(GeneratorHarness.Result result, string id)
    {
        var matching = result.GeneratorDiagnostics.Where(d => d.Id == id).ToList();
        Assert.That(matching, Has.Count.EqualTo(1), string.Join("\n", result.GeneratorDiagnostics));
        Assert.That(matching[0].Severity, Is.EqualTo(DiagnosticSeverity.Error));
        Assert.That(matching[0].Descriptor.HelpLinkUri, Does.EndWith($"docs/rules/{id}.md"));
        return matching[0];
    }

    private static int Line(Diagnostic d) => d.Location.GetLineSpan().StartLinePosition.Line + 1;

    [Test]
    public void SPEC001_an_evented_type_on_no_events_table()
    {
        var result = GeneratorHarness.Run(
            """
            using System;
            using Spector;
            [Evented]
            public partial class Orphan
            {
                public Guid Id { get; set; }
                static void Changeset(Changeset<Orphan> c) { }
            }
            """
        );

        var d = Single(result, "SPEC001");
        Assert.That(d.GetMessage(), Does.Contain("'Orphan'").And.Contain("[EventSchema(typeof(Orphan)"));
        Assert.That(Line(d), Is.EqualTo(4));
        Assert.That(result.Sources.Keys, Has.None.Contains("Orphan"));
    }

    [Test]
    public void SPEC002_a_schema_index_used_twice()
    {
        var result = GeneratorHarness.Run(
            """
            using System;
            using Spector;
            [EventsTable("events")]
            [EventSchema(typeof(A), 0)]
            [EventSchema(typeof(B), 0)]
            public partial class Events;
            [Evented] public partial class A { public Guid Id { get; set; } static void Changeset(Changeset<A> c) { } }
            [Evented] public partial class B { public Guid Id { get; set; } static void Changeset(Changeset<B> c) { } }
            """
        );

        var d = Single(result, "SPEC002");
        Assert.That(d.GetMessage(), Does.Contain("index 0").And.Contain("'A'").And.Contain("'B'"));
        Assert.That(Line(d), Is.EqualTo(5));
    }

    [Test]
    public void SPEC003_a_type_listed_on_two_events_tables()
    {
        var result = GeneratorHarness.Run(
            """
            using System;
            using Spector;
            [EventsTable("events_a")]
            [EventSchema(typeof(Thing), 0)]
            public partial class AEvents;
            [EventsTable("events_b")]
            [EventSchema(typeof(Thing), 0)]
            public partial class BEvents;
            [Evented] public partial class Thing
            {
                public Guid Id { get; set; }
                static void Changeset(Changeset<Thing> c) { }
            }
            """
        );

        Assert.That(Single(result, "SPEC003").GetMessage(), Does.Contain("events_a").And.Contain("events_b"));
        Assert.That(result.Sources.Keys, Has.None.Contains("Thing"));
    }

    [Test]
    public void SPEC004_a_schema_index_for_a_type_that_is_not_evented()
    {
        var result = GeneratorHarness.Run(
            """
            using Spector;
            [EventsTable("events")]
            [EventSchema(typeof(Plain), 0)]
            public partial class Events;
            public class Plain { }
            """
        );

        Assert.That(Line(Single(result, "SPEC004")), Is.EqualTo(3));
    }

    [Test]
    public void SPEC005_a_type_that_is_not_partial()
    {
        var result = GeneratorHarness.Run(
            Table,
            """
            using System;
            using Spector;
            [Evented]
            public class Thing
            {
                public Guid Id { get; set; }
                static void Changeset(Changeset<Thing> c) { }
            }
            """
        );

        var d = Single(result, "SPEC005");
        Assert.That(Line(d), Is.EqualTo(4));
        Assert.That(d.Location.GetLineSpan().Path, Is.EqualTo("Source1.cs"));
    }

    [Test]
    public void SPEC006_a_missing_changeset_handler()
    {
        var result = GeneratorHarness.Run(
            Table,
            """
            using System;
            using Spector;
            [Evented]
            public partial class Thing
            {
                public Guid Id { get; set; }
            }
            """
        );

        var d = Single(result, "SPEC006");
        Assert.That(d.GetMessage(), Does.Contain("static void Changeset(Changeset<Thing> c)"));
        Assert.That(Line(d), Is.EqualTo(4));
    }

    [TestCase("void Changeset(Changeset<Thing> c) { }")]
    [TestCase("static void Changeset(Thing t) { }")]
    [TestCase("static int Changeset(Changeset<Thing> c) => 0;")]
    public void SPEC013_a_mistyped_changeset_handler_is_reported_at_the_method_with_the_shape_it_needs(string handler)
    {
        var result = GeneratorHarness.Run(
            Table,
            $$"""
            using System;
            using Spector;
            [Evented]
            public partial class Thing
            {
                public Guid Id { get; set; }
                {{handler}}
            }
            """
        );

        var d = Single(result, "SPEC013");
        Assert.That(d.GetMessage(), Does.Contain("'static void Changeset(Changeset<Thing> c)'"));
        Assert.That(Line(d), Is.EqualTo(7));
        Assert.That(result.GeneratorDiagnostics.Select(x => x.Id), Has.None.EqualTo("SPEC006"));
    }

    [Test]
    public void SPEC014_an_invalid_table_name()
    {
        var result = GeneratorHarness.Run(
            Table,
            """
            using System;
            using Spector;
            [Evented(Table = "things; drop table x")]
            public partial class Thing
            {
                public Guid Id { get; set; }
                static void Changeset(Changeset<Thing> c) { }
            }
            """
        );

        Assert.That(
            Single(result, "SPEC014").GetMessage(),
            Does.Contain("things; drop table x").And.Contain("record table")
        );
    }

    [Test]
    public void SPEC014_an_invalid_link_column()
    {
        var result = GeneratorHarness.Run(
            """
            using Spector;
            [EventsTable("events")]
            [EventSchema(typeof(Thing), 0)]
            [EventLink("edits", "thing_edits", "previous id")]
            public partial class Events;
            """,
            Thing
        );

        var d = Single(result, "SPEC014");
        Assert.That(d.GetMessage(), Does.Contain("previous id").And.Contain("link column"));
        Assert.That(Line(d), Is.EqualTo(4));
    }

    [Test]
    public void SPEC015_no_guid_id()
    {
        var result = GeneratorHarness.Run(
            Table,
            """
            using Spector;
            [Evented]
            public partial class Thing
            {
                public int Id { get; set; }
                static void Changeset(Changeset<Thing> c) { }
            }
            """
        );

        Single(result, "SPEC015");
    }

    [Test]
    public void SPEC016_a_property_with_no_column_type_on_a_record_table()
    {
        var result = GeneratorHarness.Run(
            Table,
            """
            using System;
            using System.Collections.Generic;
            using Spector;
            [Evented(Table = "things")]
            public partial class Thing
            {
                public Guid Id { get; set; }
                public List<int> Numbers { get; set; } = new();
                static void Changeset(Changeset<Thing> c) { }
            }
            """
        );

        var d = Single(result, "SPEC016");
        Assert.That(d.GetMessage(), Does.Contain("'Numbers'").And.Contain("[NotMapped]"));
        Assert.That(Line(d), Is.EqualTo(8));
    }

    [Test]
    public void SPEC017_no_parameterless_constructor()
    {
        var result = GeneratorHarness.Run(
            Table,
            """
            using System;
            using Spector;
            [Evented]
            public partial class Thing(string name)
            {
                public Guid Id { get; set; }
                public string Name { get; set; } = name;
                static void Changeset(Changeset<Thing> c) { }
            }
            """
        );

        Single(result, "SPEC017");
    }

    private static GeneratorHarness.Result RunThing(
        string members,
        string evented = "[Evented(Version = 2, Actions = [\"archive\"])]"
    ) =>
        GeneratorHarness.Run(
            Table,
            "using System;\nusing Spector;\n"
                + evented
                + "\npublic partial class Thing\n{\n    public Guid Id { get; set; }\n"
                + "    static void Changeset(Changeset<Thing> c) { }\n"
                + members
                + "\n}\n"
        );

    [Test]
    public void SPEC007_a_handler_for_an_undeclared_action()
    {
        var d = Single(RunThing("    [OnAction(\"archiv\")] static void Archive(Changeset<Thing> c) { }"), "SPEC007");

        Assert.That(d.GetMessage(), Does.Contain("\"archiv\"").And.Contain("Actions"));
        Assert.That(Line(d), Is.EqualTo(8));
        Assert.That(d.Location.GetLineSpan().StartLinePosition.Character, Is.EqualTo(14), "at the action name");
    }

    [TestCase("[VersionIs(2)]", "version 2", 15)]
    [TestCase("[VersionIn(1, 3)]", "1..3", 18)]
    public void SPEC008_a_version_handler_that_reaches_the_current_version(string attribute, string shown, int column)
    {
        var d = Single(RunThing($"    {attribute} static void Up(Changeset<Thing> c) {{ }}"), "SPEC008");

        Assert.That(d.GetMessage(), Does.Contain(shown.Replace("version ", "")).And.Contain("version 2"));
        Assert.That(
            d.Location.GetLineSpan().StartLinePosition.Character,
            Is.EqualTo(column),
            "at the version to change"
        );
    }

    [Test]
    public void SPEC009_two_handlers_for_one_action_and_version()
    {
        var result = RunThing(
            """
                [VersionIn(0, 1)] static void A(Changeset<Thing> c) { }
                [VersionIs(1)] static void B(Changeset<Thing> c) { }
                [OnAction("archive")] static void C(Changeset<Thing> c) { }
                [OnAction("archive"), VersionIs(0)] static void D(Changeset<Thing> c) { }
            """
        );

        var d = Single(result, "SPEC009");
        Assert.That(d.GetMessage(), Does.Contain("'A'").And.Contain("'B'").And.Contain("version 1"));
    }

    [Test]
    public void SPEC028_a_version_handler_and_an_unversioned_action_handler_that_could_both_replay_an_old_event()
    {
        var result = RunThing(
            """
                [VersionIn(0, 1)] static void Upcast(Changeset<Thing> c) { }
                [OnAction("archive")] static void Archive(Changeset<Thing> c, string reason) { }
            """
        );

        var d = Single(result, "SPEC028");
        Assert.That(
            d.GetMessage(),
            Does.Contain("'Archive'")
                .And.Contain("'Upcast'")
                .And.Contain("version 0 to 1")
                .And.Contain("[OnAction(\"archive\"), VersionIn(0, 1)]")
        );
        Assert.That(Line(d), Is.EqualTo(9), "at the action handler");
        Assert.That(result.Sources.Keys, Has.None.Contains("Thing.Spector"));
    }

    [Test]
    public void SPEC028_names_each_old_version_no_versioned_action_handler_claims()
    {
        var result = RunThing(
            """
                [VersionIn(0, 1)] static void Upcast(Changeset<Thing> c) { }
                [OnAction("archive")] static void Archive(Changeset<Thing> c) { }
                [OnAction("archive"), VersionIs(0)] static void ArchiveV0(Changeset<Thing> c) { }
            """,
            "[Evented(Version = 3, Actions = [\"archive\"])]"
        );

        var messages = result.GeneratorDiagnostics.Where(d => d.Id == "SPEC028").Select(d => d.GetMessage()).ToList();
        Assert.That(messages, Has.Count.EqualTo(1), string.Join("\n", result.GeneratorDiagnostics));
        Assert.That(messages[0], Does.Contain("version 1;").And.Contain("VersionIs(1)]"));
    }

    [TestCase(
        "[OnAction(\"archive\"), VersionIs(1)] static void ArchiveV1(Changeset<Thing> c) { }",
        Description = "the old version is claimed explicitly"
    )]
    [TestCase("", Description = "no version handler: the action handler covers every version")]
    public void SPEC028_is_not_reported_when_one_handler_is_named_for_every_old_version(string extra)
    {
        var upcast = extra.Length == 0 ? "" : "    [VersionIs(1)] static void Upcast(Changeset<Thing> c) { }\n";
        var archive = "    [OnAction(\"archive\")] static void Archive(Changeset<Thing> c) { }\n";
        var result = RunThing(upcast + archive + "    " + extra);

        Assert.That(result.GeneratorDiagnostics, Is.Empty, string.Join("\n", result.GeneratorDiagnostics));
        Assert.That(result.CompilationErrors, Is.Empty, string.Join("\n", result.CompilationErrors));
    }

    [Test]
    public void SPEC028_is_not_reported_for_an_action_without_an_unversioned_handler()
    {
        var result = RunThing(
            """
                [VersionIs(1)] static void Upcast(Changeset<Thing> c) { }
                [OnAction("archive"), VersionIs(0)] static void ArchiveV0(Changeset<Thing> c) { }
            """
        );

        Assert.That(result.GeneratorDiagnostics, Is.Empty, string.Join("\n", result.GeneratorDiagnostics));
    }

    [Test]
    public void SPEC010_and_SPEC011_aliases_must_rename_a_declared_action_into_a_retired_name()
    {
        var result = GeneratorHarness.Run(
            """
            using System;
            using Spector;
            [EventsTable("events")]
            [EventSchema(typeof(Thing), 0)]
            [ActionAlias("ghost", "old")]
            [ActionAlias("archive", "touch")]
            public partial class Events;
            [Evented(Actions = ["archive", "touch"])]
            public partial class Thing { public Guid Id { get; set; } static void Changeset(Changeset<Thing> c) { } }
            """
        );

        Assert.That(Line(Single(result, "SPEC010")), Is.EqualTo(5));
        Assert.That(Single(result, "SPEC011").GetMessage(), Does.Contain("'touch' is still declared"));
    }

    [TestCase("insert")]
    [TestCase("delete")]
    [TestCase("savepoint")]
    public void An_action_named_like_a_base_action_is_SPEC031_at_the_name_and_no_SPEC012(string action)
    {
        var result = RunThing("", $"[Evented(Actions = [\"{action}\"])]");

        var d = Single(result, "SPEC031");
        Assert.That(
            (Line(d), d.Location.GetLineSpan().StartLinePosition.Character),
            Is.EqualTo((3, 20)),
            "at the name"
        );
        Assert.That(result.GeneratorDiagnostics.Select(x => x.Id), Has.None.EqualTo("SPEC012"));
    }

    [Test]
    public void SPEC012_two_actions_stored_under_one_code_through_aliases_is_reported_at_the_alias()
    {
        var result = GeneratorHarness.Run(
            """
            using System;
            using Spector;
            [EventsTable("events")]
            [EventSchema(typeof(Thing), 0)]
            [ActionAlias("shelve", "old")]
            [ActionAlias("stow", "old")]
            public partial class Events;
            [Evented(Actions = ["shelve", "stow"])]
            public partial class Thing { public Guid Id { get; set; } static void Changeset(Changeset<Thing> c) { } }
            """
        );

        var d = Single(result, "SPEC012");
        Assert.That(d.GetMessage(), Does.Contain("'shelve' and 'stow'").And.Contain($"code {ActionCodes.For("old")}"));
        Assert.That((Line(d), d.Location.GetLineSpan().StartLinePosition.Character), Is.EqualTo((6, 21)));
    }

    [TestCase("[OnAction(\"archive\")] void Archive(Changeset<Thing> c) { }")]
    [TestCase("[OnAction(\"archive\")] static int Archive(Changeset<Thing> c) => 0;")]
    [TestCase("[OnAction(\"archive\")] static void Archive(string s) { }")]
    public void SPEC013_a_handler_with_the_wrong_signature(string handler)
    {
        var d = Single(RunThing("    " + handler), "SPEC013");

        Assert.That(d.GetMessage(), Does.Contain("static void Archive(Changeset<Thing> c, ...)"));
    }

    [Test]
    public void A_correct_model_with_actions_versions_and_aliases_reports_nothing()
    {
        var result = GeneratorHarness.Run(Sources.EventsTable, Sources.Order, Sources.Cart);

        Assert.That(result.GeneratorDiagnostics, Is.Empty);
        Assert.That(result.CompilationErrors, Is.Empty);
    }

    [TestCase(
        "static void Savepoint(Thing record, int version) { }",
        "static Attrs Savepoint(Thing record, int version)"
    )]
    [TestCase("static void PrepareEvent(EventDraft draft) { }", "IReadOnlyList<StoredEvent> previous")]
    [TestCase(
        "void PrepareMaterialization(Changeset<Thing> c) { }",
        "static void PrepareMaterialization(Changeset<Thing> c)"
    )]
    public void SPEC018_a_hook_with_the_wrong_signature(string hook, string expected)
    {
        var d = Single(RunThing("    " + hook), "SPEC018");

        Assert.That(d.GetMessage(), Does.Contain(expected));
    }

    [Test]
    public void Hooks_with_the_right_signature_are_wired_into_the_descriptor()
    {
        var result = RunThing(
            """
                static Attrs Savepoint(Thing record, int version) => new Attrs();
                static void PrepareEvent(
                    EventDraft draft,
                    System.Collections.Generic.IReadOnlyList<StoredEvent> previous
                ) { }
                static void PrepareMaterialization(Changeset<Thing> c) { }
            """
        );

        Assert.That(result.GeneratorDiagnostics, Is.Empty);
        Assert.That(result.CompilationErrors, Is.Empty);
        var source = Squashed.Of(result.Sources["Thing.Spector.g.cs"]);
        Assert.That(source, Does.Contain(Squashed.Of("public override bool HasSavepoint => true;")));
        Assert.That(source, Does.Contain(Squashed.Of("=> global::Thing.PrepareEvent(draft, previous);")));
        Assert.That(source, Does.Contain(Squashed.Of("=> global::Thing.PrepareMaterialization(changeset);")));
    }

    [Test]
    public void An_unresolved_property_type_adds_no_spector_diagnostic_to_the_compilers_own()
    {
        var result = GeneratorHarness.Run(
            Table,
            """
            using Spector;
            [Evented(Table = "things")]
            public partial class Thing
            {
                public Guid Id { get; set; }
                public Missing Other { get; set; }
                static void Changeset(Changeset<Thing> c) { }
            }
            """
        );

        Assert.That(result.GeneratorDiagnostics, Is.Empty, string.Join("\n", result.GeneratorDiagnostics));
    }

    [Test]
    public void SPEC026_a_route_method_with_the_wrong_signature()
    {
        var result = GeneratorHarness.Run(
            """
            using System;
            using Spector;
            [EventsTable("events", Shards = ["events_0", "events_1"], ShardBy = nameof(Route))]
            [EventSchema(typeof(Thing), 0)]
            public partial class Events
            {
                static int Route(Guid recordId) => 0;
            }
            """,
            Thing
        );

        var d = Single(result, "SPEC026");
        Assert.That(d.GetMessage(), Does.Contain("'Route'").And.Contain("static string Route(Guid recordId)"));
        Assert.That(Line(d), Is.EqualTo(5));
    }

    [Test]
    public void SPEC026_shards_without_a_route_and_a_shard_listed_twice()
    {
        var result = GeneratorHarness.Run(
            """
            using Spector;
            [EventsTable("events", Shards = ["events_0", "events_0"])]
            [EventSchema(typeof(Thing), 0)]
            public partial class Events;
            """,
            Thing
        );

        var messages = result.GeneratorDiagnostics.Where(d => d.Id == "SPEC026").Select(d => d.GetMessage()).ToList();
        Assert.That(messages, Has.Count.EqualTo(2));
        Assert.That(messages, Has.One.Contains("ShardBy names no route method"));
        Assert.That(messages, Has.One.Contains("'events_0' is listed twice"));
    }

    [Test]
    public void SPEC027_per_record_chains_on_a_table_that_is_not_hashed()
    {
        var result = GeneratorHarness.Run(
            """
            using Spector;
            [EventsTable("events", HashScope = HashScope.Record)]
            [EventSchema(typeof(Thing), 0)]
            public partial class Events;
            """,
            Thing
        );

        var d = Single(result, "SPEC027");
        Assert.That(d.GetMessage(), Does.Contain("'Events'").And.Contain("Hashed = true"));
        Assert.That(Line(d), Is.EqualTo(2), "at HashScope = ..., the argument to change");
    }

    [Test]
    public void SPEC014_a_shard_link_table_name_that_is_too_long()
    {
        var longLink = new string('l', 60);
        var result = GeneratorHarness.Run(
            $$"""
            using System;
            using Spector;
            [EventsTable("events", Shards = ["events_0"], ShardBy = nameof(Route))]
            [EventSchema(typeof(Thing), 0)]
            [EventLink("edits", "{{longLink}}", "previous_id")]
            public partial class Events
            {
                static string Route(Guid recordId) => "events_0";
            }
            """,
            Thing
        );

        Assert.That(
            Single(result, "SPEC014").GetMessage(),
            Does.Contain("events_0_" + longLink).And.Contain("shard link table")
        );
    }
}
