using Dapper;

namespace Spector.Tests;

[TestFixture(Db.Sqlite)]
[TestFixture(Db.Postgres)]
public sealed class HookTests(Db db) : DatabaseTest(db)
{
    [Test]
    public async Task PrepareEvent_sees_the_stored_events_and_its_metadata_is_stored_with_the_event()
    {
        Ticket.Actor = "ops@example.com";
        var ticket = await Ticket.InsertAsync(new Attrs { ["title"] = "Printer jam" });
        await ticket.UpdateAsync(new Attrs { ["title"] = "Printer on fire" });

        var events = await Ticket.AllEventsAsync(ticket.Id);

        Assert.That(
            events.Select(e =>
                System.Text.Json.Nodes.JsonNode.Parse(e.MetadataJson!)!["previous_events"]!.GetValue<int>()
            ),
            Is.EqualTo(new[] { 0, 1 })
        );
        Assert.That(
            System.Text.Json.Nodes.JsonNode.Parse(events[1].MetadataJson!)!["actor"]!.GetValue<string>(),
            Is.EqualTo("ops@example.com")
        );
        Assert.That(
            System.Text.Json.Nodes.JsonNode.Parse(events[1].MetadataJson!)!["action"]!.GetValue<string>(),
            Is.EqualTo("update")
        );
    }

    // Characters by code: a lone surrogate in an attribute argument would be compiled as U+FFFD.
    [TestCase(0x0000, "U+0000")]
    [TestCase(0xD800, "lone UTF-16 surrogate")]
    [TestCase(0xDFFF, "lone UTF-16 surrogate")]
    public async Task Metadata_that_cannot_be_stored_is_refused_on_both_databases(int character, string reason)
    {
        var actor = "ops" + (char)character + "!";
        Ticket.Actor = "ops@example.com";
        var ticket = await Ticket.InsertAsync(new Attrs { ["title"] = "Printer jam" });
        try
        {
            Ticket.Actor = actor;
            var error = Assert.ThrowsAsync<ChangesetInvalidException>(() =>
                ticket.UpdateAsync(new Attrs { ["title"] = "Paper out" })
            )!;
            Assert.That(error.Errors.Keys, Is.EqualTo(new[] { "metadata" }));
            Assert.That(error.Errors["metadata"].Single(), Does.Contain(reason).And.Contain("metadata.actor"));
            Assert.That(error.RecordId, Is.EqualTo(ticket.Id));
            Assert.That(await CountAsync("events", "\"schema\" = 8"), Is.EqualTo(1), "nothing stored");
            Assert.That((await Ticket.GetAsync(ticket.Id))!.Title, Is.EqualTo("Printer jam"));
        }
        finally
        {
            Ticket.Actor = "system";
        }
    }

    [Test]
    public async Task PrepareMaterialization_shapes_the_row_and_can_refuse_the_write()
    {
        var ticket = await Ticket.InsertAsync(new Attrs { ["title"] = "Printer jam" });
        await ticket.UpdateAsync(new Attrs { ["title"] = "Paper out" });

        await using var connection = await OpenAsync();
        Assert.That(
            await connection.ExecuteScalarAsync<string>("SELECT \"slug\" FROM \"tickets\""),
            Is.EqualTo("paper-out")
        );

        var error = Assert.ThrowsAsync<ChangesetInvalidException>(() =>
            ticket.UpdateAsync(new Attrs { ["title"] = "A title far too long to slug" })
        );
        Assert.That(error!.Errors["title"], Is.EqualTo(new[] { "is too long for a slug" }));
        Assert.That(await CountAsync("events", "\"schema\" = 8"), Is.EqualTo(2), "nothing stored");
    }

    [Test]
    public void The_savepoint_hook_is_recognised()
    {
        Assert.That(Ticket.SpectorType.HasSavepoint, Is.True);
        Assert.That(
            Ticket.SpectorType.CreateSavepoint(new Ticket { Title = "T" }, 0)["title"]!.GetValue<string>(),
            Is.EqualTo("T")
        );
        Assert.That(User.SpectorType.HasSavepoint, Is.False);
        Assert.That(User.SpectorType.HasPrepareEvent, Is.False);
    }
}
