using System.Globalization;
using System.Text.Json.Nodes;
using Dapper;

namespace Spector.Tests;

[TestFixture(Db.Sqlite)]
[TestFixture(Db.Postgres)]
public sealed class WriteAndReplayTests(Db db) : DatabaseTest(db)
{
    private static Attrs Ann() =>
        new()
        {
            ["name"] = "Ann",
            ["email"] = "ann@example.com",
            ["age"] = 41,
            ["visits"] = 9_000_000_000L,
            ["balance"] = 12.345m,
            ["score"] = 0.25,
            ["active"] = true,
            ["plan"] = "Pro",
            ["source"] = "newsletter",
            ["tags"] = new JsonArray("a", "b"),
        };

    [Test]
    public async Task Insert_assigns_a_uuidv7_id_equal_to_the_insert_event_id_and_writes_the_row()
    {
        var user = await User.InsertAsync(Ann());

        Assert.That(user.Id.Version, Is.EqualTo(7));
        var events = await User.AllEventsAsync(user.Id);
        Assert.That(events, Has.Count.EqualTo(1));
        Assert.Multiple(() =>
        {
            Assert.That(events[0].Id, Is.EqualTo(user.Id));
            Assert.That(events[0].ParentId, Is.EqualTo(user.Id));
            Assert.That(events[0].Seq, Is.EqualTo(1));
            Assert.That(events[0].Action, Is.EqualTo("insert"));
            Assert.That(events[0].ActionCode, Is.EqualTo(EventActions.Insert));
            Assert.That(events[0].Schema, Is.EqualTo(0));
        });
        Assert.That(await CountAsync("users"), Is.EqualTo(1));
        await AssertRowMatchesReplayAsync(user.Id);
    }

    [Test]
    public async Task Insert_payload_carries_version_event_id_and_timestamps()
    {
        var user = await User.InsertAsync(Ann());

        var payload = (await User.AllEventsAsync(user.Id))[0].ReadAttrs();
        Assert.Multiple(() =>
        {
            Assert.That(payload["__version__"]!.GetValue<int>(), Is.EqualTo(1));
            Assert.That(payload["__event_id__"]!.GetValue<Guid>(), Is.EqualTo(user.Id));
            Assert.That(payload["inserted_at"]!.GetValue<DateTimeOffset>(), Is.EqualTo(user.InsertedAt));
            Assert.That(payload["updated_at"]!.GetValue<DateTimeOffset>(), Is.EqualTo(user.UpdatedAt));
            Assert.That(user.InsertedAt, Is.EqualTo(DateTimeOffset.UtcNow).Within(TimeSpan.FromMinutes(1)));
            Assert.That(payload["name"]!.GetValue<string>(), Is.EqualTo("Ann"));
        });
    }

    [Test]
    public async Task Insert_keeps_caller_supplied_timestamps()
    {
        var then = new DateTimeOffset(2020, 1, 2, 3, 4, 5, TimeSpan.Zero);
        var attrs = Ann();
        attrs["inserted_at"] = then;

        var user = await User.InsertAsync(attrs);

        Assert.That(user.InsertedAt, Is.EqualTo(then));
        Assert.That((await User.GetAsync(user.Id))!.InsertedAt, Is.EqualTo(then));
    }

    [Test]
    public async Task Every_column_type_round_trips_through_replay_and_the_record_table()
    {
        var referrer = Guid.NewGuid();
        var archived = new DateTimeOffset(2026, 5, 6, 7, 8, 9, 123456 / 1000, TimeSpan.FromHours(2)).AddTicks(4560);
        var user = await User.InsertAsync(Ann());
        await user.UpdateAsync(new Attrs { ["referrer_id"] = referrer, ["archived_at"] = archived });

        var replayed = await User.GetAsync(user.Id);

        Assert.That(replayed, Is.Not.Null);
        Assert.Multiple(() =>
        {
            Assert.That(replayed!.Name, Is.EqualTo("Ann"));
            Assert.That(replayed.Age, Is.EqualTo(41));
            Assert.That(replayed.Visits, Is.EqualTo(9_000_000_000L));
            Assert.That(replayed.Balance, Is.EqualTo(12.345m));
            Assert.That(replayed.Score, Is.EqualTo(0.25));
            Assert.That(replayed.Active, Is.True);
            Assert.That(replayed.Plan, Is.EqualTo(Plan.Pro));
            Assert.That(replayed.ReferrerId, Is.EqualTo(referrer));
            Assert.That(replayed.ArchivedAt, Is.EqualTo(archived));
            Assert.That(replayed.Source, Is.EqualTo("newsletter"));
            Assert.That(replayed.Tags, Is.EqualTo(new[] { "a", "b" }));
        });
        await AssertRowMatchesReplayAsync(user.Id);
    }

    [Test]
    public async Task Update_rolls_forward_from_the_log_so_a_stale_object_is_harmless()
    {
        var original = await User.InsertAsync(Ann());
        await original.UpdateAsync(new Attrs { ["age"] = 42 });
        var stale = new User
        {
            Id = original.Id,
            Name = "stale",
            Age = 1,
        };

        var updated = await stale.UpdateAsync(new Attrs { ["email"] = "ann@new.example" });

        Assert.Multiple(() =>
        {
            Assert.That(updated.Name, Is.EqualTo("Ann"));
            Assert.That(updated.Age, Is.EqualTo(42));
            Assert.That(updated.Email, Is.EqualTo("ann@new.example"));
            Assert.That(updated.InsertedAt, Is.EqualTo(original.InsertedAt));
            Assert.That(updated.UpdatedAt, Is.GreaterThanOrEqualTo(original.UpdatedAt));
        });
        var events = await User.AllEventsAsync(original.Id);
        Assert.That(
            events.Select(e => (e.Seq, e.Action)),
            Is.EqualTo(new[] { (1L, "insert"), (2L, "update"), (3L, "update") })
        );
        Assert.That(events[1].ReadAttrs().ContainsKey("inserted_at"), Is.False, "updates stamp only updated_at");
        await AssertRowMatchesReplayAsync(original.Id);
    }

    [Test]
    public async Task GetAt_replays_an_old_state_from_the_log()
    {
        var user = await User.InsertAsync(Ann());
        await user.UpdateAsync(new Attrs { ["name"] = "Annie" });
        await user.UpdateAsync(new Attrs { ["name"] = "Anna" });

        Assert.That((await User.GetAtAsync(user.Id, 1))!.Name, Is.EqualTo("Ann"));
        Assert.That((await User.GetAtAsync(user.Id, 2))!.Name, Is.EqualTo("Annie"));
        Assert.That((await User.GetAsync(user.Id))!.Name, Is.EqualTo("Anna"));
    }

    [Test]
    public async Task Delete_appends_a_delete_event_removes_the_row_and_hides_the_record()
    {
        var user = await User.InsertAsync(Ann());

        await user.DeleteAsync();

        Assert.That(await User.GetAsync(user.Id), Is.Null);
        Assert.That(await CountAsync("users"), Is.EqualTo(0));
        var events = await User.AllEventsAsync(user.Id);
        Assert.That(events.Select(e => e.Action), Is.EqualTo(new[] { "insert", "delete" }));
        Assert.That((await User.GetAtAsync(user.Id, 1))!.Name, Is.EqualTo("Ann"), "history stays readable");
    }

    [Test]
    public async Task Update_or_delete_of_a_deleted_record_is_refused_and_writes_nothing()
    {
        var user = await User.InsertAsync(Ann());
        await user.DeleteAsync();

        var update = Assert.ThrowsAsync<RecordNotFoundException>(() => user.UpdateAsync(new Attrs { ["age"] = 1 }));
        var delete = Assert.ThrowsAsync<RecordNotFoundException>(() => user.DeleteAsync());

        Assert.That(update!.WasDeleted, Is.True);
        Assert.That(update.RecordId, Is.EqualTo(user.Id));
        Assert.That(update.Message, Does.Contain(user.Id.ToString()).And.Contain("events"));
        Assert.That(delete!.WasDeleted, Is.True);
        Assert.That(await CountAsync("events"), Is.EqualTo(2));
    }

    [Test]
    public async Task Update_of_an_unknown_id_is_refused_and_writes_nothing()
    {
        var ghost = new User { Id = Guid.CreateVersion7() };

        var error = Assert.ThrowsAsync<RecordNotFoundException>(() => ghost.UpdateAsync(new Attrs { ["age"] = 1 }));

        Assert.That(error!.WasDeleted, Is.False);
        Assert.That(error.Message, Does.Contain(ghost.Id.ToString()).And.Contain("User"));
        Assert.That(await CountAsync("events"), Is.EqualTo(0));
        Assert.That(await User.GetAsync(ghost.Id), Is.Null);
    }

    [Test]
    public async Task An_id_of_another_type_is_not_found()
    {
        var counter = await Counter.InsertAsync(new Attrs { ["name"] = "c" });

        Assert.That(await User.GetAsync(counter.Id), Is.Null);
        Assert.ThrowsAsync<RecordNotFoundException>(() =>
            new User { Id = counter.Id }.UpdateAsync(new Attrs { ["age"] = 3 })
        );
    }

    [Test]
    public async Task Embedded_records_are_rebuilt_purely_from_events()
    {
        var note = await Note.InsertAsync(new Attrs { ["title"] = "Groceries" });
        await note.UpdateAsync(new Attrs { ["line"] = "eggs" });
        await note.UpdateAsync(new Attrs { ["line"] = "milk" });

        var replayed = await Note.GetAsync(note.Id);

        Assert.That(replayed!.Title, Is.EqualTo("Groceries"));
        Assert.That(replayed.Lines, Is.EqualTo(new[] { "eggs", "milk" }));
        Assert.That((await Note.GetAtAsync(note.Id, 2))!.Lines, Is.EqualTo(new[] { "eggs" }));

        await replayed.DeleteAsync();
        Assert.That(await Note.GetAsync(note.Id), Is.Null);
    }

    [Test]
    public async Task Log_lists_every_event_of_a_record_with_timestamps_in_order()
    {
        var user = await User.InsertAsync(Ann());
        await user.UpdateAsync(new Attrs { ["age"] = 50 });

        var events = await Log.EventsOfAsync(user.Id);

        Assert.That(events.Select(e => e.Seq), Is.EqualTo(new[] { 1L, 2L }));
        Assert.That(events[1].Position, Is.GreaterThan(events[0].Position));
        Assert.That(events[1].InsertedAt, Is.GreaterThanOrEqualTo(events[0].InsertedAt));
        Assert.That(events[0].InsertedAt, Is.EqualTo(user.InsertedAt), "the event time is the payload's inserted_at");
    }

    [Test]
    public async Task A_decimal_keeps_its_scale_in_the_record_table_when_written_and_when_rebuilt()
    {
        var attrs = Ann();
        attrs["balance"] = 1.50m;
        var user = await User.InsertAsync(attrs);
        Assert.That(await BalanceTextAsync(user.Id), Is.EqualTo("1.50"), "an insert");
        user = await user.UpdateAsync(new Attrs { ["balance"] = 120.000m });
        var other = await User.InsertAsync(Ann());
        Assert.That(await BalanceTextAsync(user.Id), Is.EqualTo("120.000"), "an update");

        await RecordTables.RebuildAsync(User.SpectorType);

        Assert.That(await BalanceTextAsync(user.Id), Is.EqualTo("120.000"), "a rebuild");
        Assert.That(await BalanceTextAsync(other.Id), Is.EqualTo("12.345"));
        Assert.That(
            (await User.GetAsync(user.Id))!.Balance.ToString(CultureInfo.InvariantCulture),
            Is.EqualTo("120.000")
        );
    }

    private async Task<string> BalanceTextAsync(Guid id)
    {
        await using var connection = await OpenAsync();
        return await connection.QuerySingleAsync<string>(
            "SELECT CAST(\"balance\" AS TEXT) FROM \"users\" WHERE \"id\" = @id",
            new { id }
        );
    }

    /// <summary>The record table must hold exactly the state a replay of the log produces.</summary>
    private async Task AssertRowMatchesReplayAsync(Guid id)
    {
        var replayed = await User.GetAsync(id);
        await using var connection = await OpenAsync();
        var row = await connection.QuerySingleAsync(
            "SELECT \"name\", \"email\", \"age\", \"visits\", \"balance\", \"score\", \"active\", \"plan\", "
                + "\"signup_source\", \"archived_at\" FROM \"users\" WHERE \"id\" = @id",
            new { id }
        );
        var columns = (IDictionary<string, object?>)row;
        Assert.Multiple(() =>
        {
            Assert.That(columns["name"], Is.EqualTo(replayed!.Name));
            Assert.That(columns["email"], Is.EqualTo(replayed.Email));
            Assert.That(Convert.ToInt32(columns["age"]), Is.EqualTo(replayed.Age));
            Assert.That(Convert.ToInt64(columns["visits"]), Is.EqualTo(replayed.Visits));
            Assert.That(
                Convert.ToDecimal(columns["balance"], System.Globalization.CultureInfo.InvariantCulture),
                Is.EqualTo(replayed.Balance)
            );
            Assert.That(Convert.ToDouble(columns["score"]), Is.EqualTo(replayed.Score));
            Assert.That(Convert.ToBoolean(columns["active"]), Is.EqualTo(replayed.Active));
            Assert.That(columns["plan"], Is.EqualTo(replayed.Plan.ToString()));
            Assert.That(columns["signup_source"], Is.EqualTo(replayed.Source));
            Assert.That(columns["archived_at"] is null or DBNull, Is.EqualTo(replayed.ArchivedAt is null));
        });
    }
}
