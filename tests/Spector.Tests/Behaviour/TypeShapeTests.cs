using Dapper;
using static Spector.Tests.CompiledModel;

namespace Spector.Tests;

/// <summary>
/// Evented types of other shapes than a class with <c>Guid Id</c>: a key marked <c>[Key]</c> (Spector assigns, reads
/// and writes it, and the record table's key column is named after it) and a record class.
/// </summary>
[TestFixture(Db.Sqlite)]
[TestFixture(Db.Postgres)]
public sealed class TypeShapeTests(Db db) : DatabaseTest(db)
{
    private const string Source = """
        using System;
        using System.ComponentModel.DataAnnotations;
        using Spector;

        namespace Keyed;

        [EventsTable("keyed_events")]
        [EventSchema(typeof(Badge), 0)]
        public partial class KeyedEvents;

        [Evented(Table = "badges", Actions = ["revoke"])]
        public partial class Badge
        {
            [Key] public Guid Uuid { get; set; }
            public string Holder { get; set; } = "";
            public string? RevokedBecause { get; set; }

            static void Changeset(Changeset<Badge> c) => c.Cast("holder").ValidateRequired("holder");

            [OnAction("revoke")]
            static void Revoke(Changeset<Badge> c, string reason) => c.Record.RevokedBecause = reason;
        }
        """;

    [Test]
    public async Task Every_operation_uses_the_key_property_and_the_row_is_keyed_by_its_column()
    {
        using var model = Load("Keyed", Source);
        var log = model.Log("Keyed.KeyedEvents");
        log.Use(Log.Store);
        if (Database == Db.Postgres)
            await log.MigrateDownAsync();
        await log.MigrateUpAsync();

        var badge = (await model.CallAsync("Keyed.Badge", "InsertAsync", new Attrs { ["holder"] = "ada" }))!;
        var uuid = (Guid)Get(badge, "Uuid")!;
        var events = (IReadOnlyList<StoredEvent>)(await model.CallAsync("Keyed.Badge", "AllEventsAsync", uuid))!;
        Assert.That(uuid, Is.EqualTo(events[0].Id), "the key is the insert event's id");

        await CallAsync(badge, "UpdateAsync", new Attrs { ["holder"] = "bob" });
        await CallAsync(badge, "RevokeAsync", "lost");
        var replayed = (await model.CallAsync("Keyed.Badge", "GetAsync", uuid))!;
        Assert.That(
            (Get(replayed, "Uuid"), Get(replayed, "Holder"), Get(replayed, "RevokedBecause")),
            Is.EqualTo((uuid, "bob", "lost"))
        );

        await using (var connection = await OpenAsync())
        {
            var holder = await connection.QuerySingleAsync<string>(
                "SELECT \"holder\" FROM \"badges\" WHERE \"uuid\" = @uuid",
                new { uuid }
            );
            Assert.That(holder, Is.EqualTo("bob"));
        }
        await CallAsync(replayed, "DeleteAsync");
        Assert.That(await model.CallAsync("Keyed.Badge", "GetAsync", uuid), Is.Null);
        Assert.That(await CountAsync("badges"), Is.Zero, "the delete found the row by its key column");
    }

    [Test]
    public async Task An_evented_record_class_is_written_replayed_and_materialized()
    {
        using var model = Load(
            "Notes",
            """
            using System;
            using Spector;
            namespace Notes;
            [EventsTable("note_events")]
            [EventSchema(typeof(Note), 0)]
            public partial class NoteEvents;
            [Evented(Table = "notes")]
            public partial record Note
            {
                public Guid Id { get; set; }
                public string Text { get; set; } = "";
                static void Changeset(Changeset<Note> c) => c.Cast("text").ValidateRequired("text");
            }
            """
        );
        var log = model.Log("Notes.NoteEvents");
        log.Use(Log.Store);
        if (Database == Db.Postgres)
            await log.MigrateDownAsync();
        await log.MigrateUpAsync();

        var note = (await model.CallAsync("Notes.Note", "InsertAsync", new Attrs { ["text"] = "draft" }))!;
        var updated = (await CallAsync(note, "UpdateAsync", new Attrs { ["text"] = "final" }))!;
        var replayed = (await model.CallAsync("Notes.Note", "GetAsync", Get(note, "Id")))!;

        Assert.That(replayed, Is.EqualTo(updated), "record equality: the replay equals what the write returned");
        Assert.That(Get(replayed, "Text"), Is.EqualTo("final"));
        await using var connection = await OpenAsync();
        Assert.That(await connection.QuerySingleAsync<string>("SELECT \"text\" FROM \"notes\""), Is.EqualTo("final"));
    }
}
