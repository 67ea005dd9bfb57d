using Dapper;

namespace Spector.Tests;

/// <summary>
/// A log sharded over two tables: every write, read, link, savepoint, chain and verification stays in the shard
/// the record routes to, and each shard's chain is verified on its own.
/// </summary>
[TestFixture(Db.Sqlite)]
[TestFixture(Db.Postgres)]
public sealed class ShardingTests(Db db) : DatabaseTest(db)
{
    private static readonly string[] Shards = ["notes_even", "notes_odd"];

    [TearDown]
    public void RestoreRouting() => ShardedEvents.Misroute = null;

    private static string Expected(Guid id) =>
        Convert.ToInt32(id.ToString("N")[^1..], 16) % 2 == 0 ? "notes_even" : "notes_odd";

    private async Task<List<ShardNote>> InsertNotesAsync(int count)
    {
        var notes = new List<ShardNote>();
        for (var i = 0; i < count; i++)
            notes.Add(await ShardNote.InsertAsync(new Attrs { ["title"] = $"note {i}", ["body"] = "first" }));
        return notes;
    }

    [Test]
    public async Task Migration_creates_each_shard_with_its_own_link_table_and_no_base_table()
    {
        var up = ShardedEvents.Log.UpSql(Dialect);
        foreach (var table in new[] { "notes_even", "notes_odd", "notes_even_revisions", "notes_odd_revisions" })
            Assert.That(up, Does.Contain($"CREATE TABLE IF NOT EXISTS \"{table}\""));
        Assert.That(up, Does.Not.Contain("CREATE TABLE IF NOT EXISTS \"notes\" "));
        Assert.That(ShardedEvents.Log.Shards.Select(s => s.Table), Is.EqualTo(Shards));
        Assert.That(ShardedEvents.Log.Shards[1].Links.Single().Table, Is.EqualTo("notes_odd_revisions"));
        Assert.That(await CountAsync("notes_even_revisions"), Is.Zero);
    }

    [Test]
    public async Task Each_record_is_written_to_and_read_from_the_shard_its_id_routes_to()
    {
        var notes = await InsertNotesAsync(24);
        foreach (var note in notes.Take(6))
            await note.UpdateAsync(new Attrs { ["body"] = "second" });

        foreach (var note in notes)
        {
            var home = Expected(note.Id);
            var other = Shards.Single(s => s != home);
            Assert.That(ShardedEvents.Log.ShardFor(note.Id).Table, Is.EqualTo(home));
            Assert.That(
                await CountAsync(home, "\"parent_id\" = @id", new { id = note.Id }),
                Is.EqualTo(notes.IndexOf(note) < 6 ? 2 : 1)
            );
            Assert.That(await CountAsync(other, "\"parent_id\" = @id", new { id = note.Id }), Is.Zero);
            Assert.That(
                (await ShardNote.GetAsync(note.Id))!.Body,
                Is.EqualTo(notes.IndexOf(note) < 6 ? "second" : "first")
            );
        }
        // 24 random ids land in both shards (all in one has odds of 2 in 16.7 million).
        Assert.That(await CountAsync("notes_even"), Is.GreaterThan(0));
        Assert.That(await CountAsync("notes_odd"), Is.GreaterThan(0));
        Assert.That(await CountAsync("notes_even") + await CountAsync("notes_odd"), Is.EqualTo(30));
        Assert.That(await CountAsync("sharded_notes"), Is.EqualTo(24));
    }

    [Test]
    public async Task Links_are_stored_in_the_record_shards_link_table_and_queried_by_event_id()
    {
        var note = (await InsertNotesAsync(1))[0];
        note = await note.ReviseAsync("second");
        note = await note.ReviseAsync("third");
        var home = Expected(note.Id);
        var other = Shards.Single(s => s != home);

        var events = await ShardNote.AllEventsAsync(note.Id);
        Assert.That(events.Select(e => e.Action), Is.EqualTo(new[] { "insert", "revise", "revise" }));
        Assert.That(await CountAsync($"{home}_revisions"), Is.EqualTo(2));
        Assert.That(await CountAsync($"{other}_revisions"), Is.Zero);

        var log = ShardedEvents.Log;
        Assert.That((await log.LinkedEventsAsync(events[2].Id, "revises")).Single().Id, Is.EqualTo(events[1].Id));
        Assert.That((await log.LinkingEventsAsync(events[0].Id, "revises")).Single().Id, Is.EqualTo(events[1].Id));
        Assert.That(
            await log.LinksOfAsync(events[1].Id),
            Is.EqualTo(new[] { new EventLinkRow("revises", events[0].Id) })
        );
        Assert.That(
            (await log.PreviousEventsAsync(events[1].Id)).Select(e => e.Id),
            Is.EqualTo(events.Take(2).Select(e => e.Id))
        );
        Assert.That(await log.PreviousEventsAsync(Guid.NewGuid()), Is.Empty, "an unknown event is in no shard");
    }

    [Test]
    public async Task Savepoints_materialize_and_bring_up_work_through_the_shards()
    {
        var note = (await InsertNotesAsync(1))[0];
        for (var i = 0; i < 5; i++)
            note = await note.ReviseAsync($"body {i}");
        var events = await ShardNote.AllEventsAsync(note.Id);
        Assert.That(events.Count(e => e.Action == "savepoint"), Is.EqualTo(1));
        Assert.That((await ShardNote.GetAsync(note.Id))!.Revisions, Is.EqualTo(5));
        Assert.That(await ShardNote.VerifySavepointsAsync(note.Id), Has.Property("IsValid").True);

        await ExecuteRawAsync("DELETE FROM \"sharded_notes\" WHERE \"id\" = @id", new { id = note.Id });
        var materialized = await ShardNote.MaterializeAsync(note.Id);
        Assert.That(
            (materialized.Outcome, materialized.Record!.Body),
            Is.EqualTo((MaterializeOutcome.Materialized, "body 4"))
        );

        // A row with no events in any shard is imported; tracked rows (whatever their shard) are not.
        var legacy = Guid.NewGuid();
        await ExecuteRawAsync(
            "INSERT INTO \"sharded_notes\" (\"id\", \"title\", \"body\", \"revisions\") "
                + "VALUES (@legacy, 'Legacy', 'old', 0)",
            new { legacy }
        );
        var imported = await ShardNote.BringUpAsync();
        Assert.That(imported.Select(n => n.Title), Is.EqualTo(new[] { "Legacy" }));
        Assert.That(
            await CountAsync(Expected(imported[0].Id), "\"parent_id\" = @id", new { id = imported[0].Id }),
            Is.EqualTo(1)
        );
        Assert.That(await ShardNote.BringUpAsync(), Is.Empty);
        Assert.That(await CountAsync("sharded_notes"), Is.EqualTo(2));
    }

    [Test]
    public async Task Every_shard_keeps_and_verifies_its_own_chain_and_a_broken_shard_is_named()
    {
        var notes = await InsertNotesAsync(16);
        await Task.WhenAll(
            notes.Select(async note =>
            {
                for (var i = 0; i < 3; i++)
                    note = await note.ReviseAsync($"body {i}");
            })
        );
        var counts = new Dictionary<string, long>();
        foreach (var shard in Shards)
            counts[shard] = await CountAsync(shard);

        var verification = await ShardedEvents.Log.VerifyShardChainsAsync();
        Assert.That(verification.IsValid, Is.True);
        Assert.That(verification.Chains.Select(c => c.Table), Is.EqualTo(Shards));
        foreach (var shard in Shards)
            Assert.That(verification[shard].EventsChecked, Is.EqualTo(counts[shard]));
        Assert.That(
            verification.EventsChecked,
            Is.EqualTo(16 * 5),
            "insert, three revisions and the savepoint after seq 4"
        );
        Assert.That(
            Assert.ThrowsAsync<InvalidOperationException>(() => ShardedEvents.Log.VerifyHashChainAsync())!.Message,
            Does.Contain("notes_even, notes_odd").And.Contain("VerifyShardChainsAsync")
        );

        // Each shard's chain exports on its own and holds exactly that shard's events.
        using (var export = new MemoryStream())
            Assert.That(
                await ShardedEvents.Log.ExportShardChainAsync("notes_odd", export),
                Is.EqualTo(counts["notes_odd"])
            );

        // Tamper with one shard: it breaks at that row, the other shard still verifies.
        var heads = Shards.ToDictionary(s => s, s => verification[s].Head!);
        var target = notes.First(n => Expected(n.Id) == "notes_odd");
        await using (var connection = await OpenAsync())
        {
            var position = await connection.ExecuteScalarAsync<long>(
                "SELECT \"position\" FROM \"notes_odd\" WHERE \"parent_id\" = @id AND \"seq\" = 2",
                new { id = target.Id }
            );
            if (Database == Db.Postgres)
            {
                await connection.ExecuteAsync("DROP TRIGGER \"notes_odd_no_change\" ON \"notes_odd\"");
                await connection.ExecuteAsync(
                    "UPDATE \"notes_odd\" SET \"inserted_at\" = \"inserted_at\" + interval '1 microsecond' "
                        + "WHERE \"position\" = @position",
                    new { position }
                );
            }
            else
            {
                await connection.ExecuteAsync("DROP TRIGGER \"notes_odd_no_update\"");
                await connection.ExecuteAsync(
                    "UPDATE \"notes_odd\" SET \"inserted_at\" = \"inserted_at\" + 1 WHERE \"position\" = @position",
                    new { position }
                );
            }
            var after = await ShardedEvents.Log.VerifyShardChainsAsync(heads);
            Assert.That(after.IsValid, Is.False);
            Assert.That(after["notes_even"].IsValid, Is.True);
            Assert.That(after["notes_odd"].FirstBreak!.Kind, Is.EqualTo(ChainBreakKind.HashMismatch));
            Assert.That(after["notes_odd"].FirstBreak!.Position, Is.EqualTo(position));
            Assert.That(after["notes_odd"].FirstBreak!.Message, Does.Contain("of notes_odd"));
            Assert.That(
                (await ShardedEvents.Log.VerifyShardChainAsync("notes_odd")).FirstBreak!.Position,
                Is.EqualTo(position)
            );
        }
        Assert.ThrowsAsync<ArgumentException>(() => ShardedEvents.Log.VerifyShardChainAsync("notes"));
    }

    [Test]
    public async Task A_route_to_an_undeclared_table_is_a_clear_error_and_nothing_is_written()
    {
        var note = (await InsertNotesAsync(1))[0];
        ShardedEvents.Misroute = _ => "notes_elsewhere";

        var error = Assert.ThrowsAsync<ShardRoutingException>(() =>
            ShardNote.InsertAsync(new Attrs { ["title"] = "lost" })
        );
        Assert.That(
            error!.Message,
            Does.Contain("ShardNote").And.Contain("'notes_elsewhere'").And.Contain("notes_even, notes_odd")
        );
        Assert.That(error.Routed, Is.EqualTo("notes_elsewhere"));
        Assert.ThrowsAsync<ShardRoutingException>(() => note.ReviseAsync("lost"));
        ShardedEvents.Misroute = _ => throw new InvalidOperationException("routing table offline");
        Assert.That(
            Assert.ThrowsAsync<ShardRoutingException>(() => ShardNote.GetAsync(note.Id))!.Message,
            Does.Contain("routing table offline")
        );

        ShardedEvents.Misroute = null;
        Assert.That(await CountAsync("notes_even") + await CountAsync("notes_odd"), Is.EqualTo(1));
        Assert.That(await CountAsync("sharded_notes"), Is.EqualTo(1));
    }
}
