using System.Runtime.CompilerServices;

namespace Spector.Generators.Tests;

/// <summary>
/// One snapshot per emitted shape, so a change to any feature's generated code shows up in review as a diff of
/// Snapshots/ShapeSnapshotTests.{Test}#{file}.verified.cs. Each model is minimal: one feature on a plain type.
/// </summary>
public sealed class ShapeSnapshotTests
{
    private static string Table(string attributes, string members = "") =>
        $$"""
            using System;
            using Spector;
            namespace Shapes;
            {{attributes}}
            [EventSchema(typeof(Note), 0)]
            public partial class NoteEvents
            {
                {{members}}
            }
            """;

    private static string Note(string evented = "[Evented(Table = \"notes\")]", string members = "") =>
        $$"""
            using System;
            using System.Collections.Generic;
            using Spector;
            namespace Shapes;
            {{evented}}
            public partial class Note
            {
                public Guid Id { get; set; }
                public string Text { get; set; } = "";
                static void Changeset(Changeset<Note> c) => c.Cast("text");
                {{members}}
            }
            """;

    private const string TableFile = "Shapes.NoteEvents.SpectorEvents.g.cs";
    private const string TypeFile = "Shapes.Note.Spector.g.cs";

    [Test]
    public void Hashed_table() => Verify(TableFile, Table("[EventsTable(\"notes_log\", Hashed = true)]"), Note());

    [Test]
    public void Per_record_chain() =>
        Verify(TableFile, Table("[EventsTable(\"notes_log\", Hashed = true, HashScope = HashScope.Record)]"), Note());

    [Test]
    public void Sharded_table() =>
        Verify(
            TableFile,
            Table(
                "[EventsTable(\"notes_log\", Shards = [\"notes_log_0\", \"notes_log_1\"], ShardBy = nameof(Route))]",
                "private static string Route(Guid recordId) =>\n"
                    + "    recordId.ToByteArray()[15] % 2 == 0 ? \"notes_log_0\" : \"notes_log_1\";"
            ),
            Note()
        );

    [Test]
    public void Plain_link() =>
        Verify(
            TableFile,
            Table("[EventsTable(\"notes_log\")]\n[EventLink(\"amends\", \"note_amends\", \"amended_id\")]"),
            Note()
        );

    [Test]
    public void Typed_link() =>
        Verify(
            TableFile,
            Table("[EventsTable(\"notes_log\")]\n[EventLink(\"refs\", \"note_refs\", \"ref_id\", Typed = true)]"),
            Note()
        );

    [Test]
    public void Savepoint_hook() =>
        Verify(
            TypeFile,
            Table("[EventsTable(\"notes_log\")]"),
            Note(members: "static Attrs Savepoint(Note record, int version) => new Attrs { [\"text\"] = record.Text };")
        );

    [Test]
    public void Savepoint_every() =>
        Verify(
            TypeFile,
            Table("[EventsTable(\"notes_log\")]"),
            Note(
                "[Evented(Table = \"notes\", SavepointEvery = 20)]",
                "static Attrs Savepoint(Note record, int version) => new Attrs { [\"text\"] = record.Text };"
            )
        );

    [Test]
    public void Action_alias()
    {
        var sources = new[]
        {
            Table("[EventsTable(\"notes_log\")]\n[ActionAlias(\"publish\", \"release\")]"),
            Note(
                "[Evented(Table = \"notes\", Actions = [\"publish\"])]",
                "[OnAction(\"publish\")]\n"
                    + "static void Publish(Changeset<Note> c, string channel) => c.Record.Text += channel;"
            ),
        };
        Verify(TypeFile, sources);
        Verify(TableFile, sources);
    }

    [Test]
    public void Version_handlers() =>
        Verify(
            TypeFile,
            Table("[EventsTable(\"notes_log\")]"),
            Note(
                "[Evented(Table = \"notes\", Version = 3, Actions = [\"pin\"])]",
                """
                [VersionIs(0)] static void FromV0(Changeset<Note> c) { c.Attrs.Rename("body", "text"); Changeset(c); }
                [VersionIn(1, 2)] static void FromV1(Changeset<Note> c) => Changeset(c);
                [OnAction("pin")] static void Pin(Changeset<Note> c) { }
                [OnAction("pin"), VersionIs(0)] static void PinV0(Changeset<Note> c) { }
                [OnAction("pin"), VersionIn(1, 2)] static void PinV1(Changeset<Note> c) { }
                """
            )
        );

    [Test]
    public void Embedded_record() => Verify(TypeFile, Table("[EventsTable(\"notes_log\")]"), Note("[Evented]"));

    [Test]
    public void Prepare_event_hook() =>
        Verify(
            TypeFile,
            Table("[EventsTable(\"notes_log\")]"),
            Note(members: "static void PrepareEvent(EventDraft draft, IReadOnlyList<StoredEvent> previous) { }")
        );

    [Test]
    public void Prepare_materialization_hook() =>
        Verify(
            TypeFile,
            Table("[EventsTable(\"notes_log\")]"),
            Note(members: "static void PrepareMaterialization(Changeset<Note> c) { }")
        );

    /// <summary>The model must generate cleanly before its snapshot means anything.</summary>
    private static void Verify(string hintName, string[] sources, [CallerMemberName] string test = "")
    {
        var result = GeneratorHarness.Run(sources);
        Assert.That(result.GeneratorDiagnostics, Is.Empty, string.Join("\n", result.GeneratorDiagnostics));
        Assert.That(result.CompilationErrors, Is.Empty, string.Join("\n", result.CompilationErrors));
        Snapshot.Verify(result.Sources[hintName], hintName, nameof(ShapeSnapshotTests), test);
    }

    private static void Verify(string hintName, string table, string note, [CallerMemberName] string test = "") =>
        Verify(hintName, new[] { table, note }, test);
}
