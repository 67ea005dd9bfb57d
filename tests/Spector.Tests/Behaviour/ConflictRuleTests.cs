using System.Data.Common;
using Dapper;
using Npgsql;

namespace Spector.Tests;

/// <summary>
/// Conflicts are known from the head row, never guessed from error codes: a user's own constraint violation
/// surfaces at once as itself, and every name the identifier rule accepts works.
/// </summary>
[TestFixture(Db.Sqlite)]
[TestFixture(Db.Postgres)]
public sealed class ConflictRuleTests(Db db) : DatabaseTest(db)
{
    [Test]
    public async Task A_users_unique_index_violation_surfaces_at_once_as_itself_and_nothing_is_stored()
    {
        await ExecuteRawAsync("CREATE UNIQUE INDEX \"users_email_unique\" ON \"users\" (\"email\")");
        await User.InsertAsync(new Attrs { ["name"] = "Ann", ["email"] = "a@x" });
        var bob = await User.InsertAsync(new Attrs { ["name"] = "Bob", ["email"] = "b@x" });
        var eventsBefore = await CountAsync("events");

        var update = Assert.CatchAsync(() => bob.UpdateAsync(new Attrs { ["email"] = "a@x" }));
        var insert = Assert.CatchAsync(() => User.InsertAsync(new Attrs { ["name"] = "Cy", ["email"] = "a@x" }));

        foreach (var error in new[] { update, insert })
        {
            Assert.That(error, Is.InstanceOf<DbException>(), "the database's own error, not a retried 'conflict'");
            if (error is PostgresException pg)
                Assert.That(pg.ConstraintName, Is.EqualTo("users_email_unique"));
            else
                Assert.That(error!.Message, Does.Contain("users.email"));
        }
        Assert.That(await CountAsync("events"), Is.EqualTo(eventsBefore), "nothing stored");
        Assert.That(await CountAsync("events_heads"), Is.EqualTo(2), "no head for the refused insert");
        var stored = await User.GetVersionedAsync(bob.Id);
        Assert.That((stored!.Record.Email, stored.Seq), Is.EqualTo(("b@x", 1L)));
        Assert.That(
            (await bob.UpdateAsync(new Attrs { ["email"] = "bob@x" })).Email,
            Is.EqualTo("bob@x"),
            "the record still takes writes"
        );
    }

    [Test]
    public async Task An_events_table_named_with_63_characters_migrates_twice_and_writes_a_valid_chain()
    {
        Assert.That(LongNameEvents.Name, Has.Length.EqualTo(63));
        var heads = LongNameEvents.Log.Shards[0].HeadsTable;
        Assert.That(heads, Has.Length.LessThanOrEqualTo(63));
        Assert.That(heads, Is.Not.EqualTo(LongNameEvents.Name));
        await LongNameEvents.Log.MigrateUpAsync();

        var tally = await Tally.InsertAsync(new Attrs { ["name"] = "t", ["by"] = 1 });
        for (var i = 0; i < 5; i++)
            tally = await tally.UpdateAsync(new Attrs { ["by"] = 1 });
        await tally.DeleteAsync();
        await Tally.InsertAsync(new Attrs { ["name"] = "u", ["by"] = 2 });

        Assert.That((await LongNameEvents.Log.VerifyHashChainAsync()).FirstBreak, Is.Null);
        Assert.That(await CountAsync(LongNameEvents.Name), Is.EqualTo(8));
        Assert.That(await CountAsync(heads, "\"schema\" = 0"), Is.EqualTo(2));
        Assert.That(await Tally.ExistsAsync(tally.Id), Is.False);
    }

    [Test]
    public async Task A_column_named_like_spectors_own_parameters_is_written_like_any_other()
    {
        var tally = await Tally.InsertAsync(new Attrs { ["name"] = "t", ["by"] = 4 });
        tally = await tally.UpdateAsync(new Attrs { ["by"] = 3 });

        Assert.That(tally.Count, Is.EqualTo(7));
        await using var connection = await OpenAsync();
        Assert.That(
            await connection.ExecuteScalarAsync<long>("SELECT \"__seq\" FROM \"tallies\""),
            Is.EqualTo(7),
            "the column holds the count, not the event's seq"
        );
    }
}
