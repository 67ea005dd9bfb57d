using Dapper;

namespace Spector.Tests;

[TestFixture(Db.Sqlite)]
[TestFixture(Db.Postgres)]
public sealed class ActionAndVersionTests(Db db) : DatabaseTest(db)
{
    private const int DocSchema = 7;

    [Test]
    public async Task A_typed_action_stores_its_parameters_under_snake_case_keys_and_replays_them()
    {
        var user = await User.InsertAsync(new Attrs { ["name"] = "Gil", ["email"] = "gil@example.com" });
        var when = new DateTimeOffset(2026, 3, 4, 5, 6, 7, TimeSpan.Zero);

        var archived = await user.ArchiveAsync(when);

        Assert.That(archived.ArchivedAt, Is.EqualTo(when));
        Assert.That((await User.GetAsync(user.Id))!.ArchivedAt, Is.EqualTo(when));
        var stored = (await User.AllEventsAsync(user.Id))[1];
        Assert.That(stored.Action, Is.EqualTo("archive"));
        Assert.That(stored.ActionCode, Is.EqualTo(ActionCodes.For("archive")));
        Assert.That(stored.ReadAttrs()["archived_at"]!.GetValue<DateTimeOffset>(), Is.EqualTo(when));
        await using var connection = await OpenAsync();
        Assert.That(
            await connection.ExecuteScalarAsync<long>(
                "SELECT COUNT(*) FROM \"users\" WHERE \"archived_at\" IS NOT NULL"
            ),
            Is.EqualTo(1)
        );
    }

    [Test]
    public async Task An_action_without_a_typed_handler_takes_attrs_and_goes_through_the_default_handler()
    {
        var user = await User.InsertAsync(new Attrs { ["name"] = "Gil", ["email"] = "gil@example.com" });

        var touched = await user.TouchAsync(new Attrs { ["age"] = 7 });

        Assert.That(touched.Age, Is.EqualTo(7));
        Assert.That(
            (await User.AllEventsAsync(user.Id)).Select(e => e.Action),
            Is.EqualTo(new[] { "insert", "touch" })
        );
        Assert.That((await User.GetAsync(user.Id))!.Age, Is.EqualTo(7));
    }

    [Test]
    public async Task Actions_with_typed_nullable_parameters_run_in_the_callers_session()
    {
        var doc = await Doc.InsertAsync(new Attrs { ["name"] = "Spec" });
        await using var connection = await OpenAsync();
        await using var tx = await connection.BeginTransactionAsync();

        var published = await doc.PublishAsync(new SpectorSession(connection, tx), "web", null);
        await tx.RollbackAsync();

        Assert.That(published.Channel, Is.EqualTo("web"));
        Assert.That((await Doc.GetAsync(doc.Id))!.Channel, Is.Null, "rolled back with the transaction");
        Assert.That((await doc.PublishAsync("print", 3)).Priority, Is.EqualTo(3));
    }

    [Test]
    public async Task Old_payloads_go_through_their_version_handlers_and_new_events_through_the_current_ones()
    {
        var id = Guid.CreateVersion7();
        await InsertRawAsync(id, id, 1, EventActions.Insert, """{"__version__":0,"title":"Draft"}""");
        await InsertRawAsync(
            Guid.CreateVersion7(),
            id,
            2,
            EventActions.Update,
            """{"__version__":1,"name":"Draft 2"}"""
        );
        await InsertRawAsync(
            Guid.CreateVersion7(),
            id,
            3,
            ActionCodes.For("release"),
            """{"__version__":1,"where":"mail"}"""
        );

        var replayed = await Doc.GetAsync(id);

        Assert.That(replayed!.Name, Is.EqualTo("Draft 2"));
        Assert.That(replayed.Channel, Is.EqualTo("mail"), "a v1 'release' event replays through publish's v1 handler");
        Assert.That(replayed.Handled, Is.EqualTo("default:v0;upcast0;default:v1;upcast1;publish1;"));

        var updated = await replayed.UpdateAsync(new Attrs { ["name"] = "Final" });
        var published = await updated.PublishAsync("web", 5);

        Assert.That(
            published.Handled,
            Is.EqualTo("default:v0;upcast0;default:v1;upcast1;publish1;default:v2;publish;")
        );
        var events = await Doc.AllEventsAsync(id);
        Assert.That(
            events.Select(e => e.Action),
            Is.EqualTo(new[] { "insert", "update", "publish", "update", "publish" })
        );
        Assert.That(
            events[4].ActionCode,
            Is.EqualTo(ActionCodes.For("release")),
            "the alias keeps the stored code of the old name"
        );
        Assert.That(events[4].ReadAttrs()["__version__"]!.GetValue<int>(), Is.EqualTo(2));
        var row = await (await OpenAsync()).QuerySingleAsync<(string Name, string Channel, int Priority)>(
            "SELECT \"name\", \"channel\", \"priority\" FROM \"docs\""
        );
        Assert.That(row, Is.EqualTo(("Final", "web", 5)));
    }

    [Test]
    public async Task A_stored_action_code_the_table_does_not_know_is_refused()
    {
        var id = Guid.CreateVersion7();
        await InsertRawAsync(id, id, 1, EventActions.Insert, """{"__version__":2,"name":"Doc"}""");
        await InsertRawAsync(Guid.CreateVersion7(), id, 2, ActionCodes.For("retired_action"), """{"__version__":2}""");

        var error = Assert.ThrowsAsync<EventReplayException>(() => Doc.GetAsync(id));

        Assert.That(error!.Failure, Is.EqualTo(ReplayFailure.UnknownAction));
        Assert.That(error.Seq, Is.EqualTo(2));
    }

    [Test]
    public async Task A_stored_typed_parameter_that_does_not_convert_names_the_event()
    {
        var id = Guid.CreateVersion7();
        var bad = Guid.CreateVersion7();
        await InsertRawAsync(id, id, 1, EventActions.Insert, """{"__version__":2,"name":"Doc"}""");
        await InsertRawAsync(
            bad,
            id,
            2,
            ActionCodes.For("release"),
            """{"__version__":2,"channel":"web","priority":"high"}"""
        );

        var error = Assert.ThrowsAsync<EventReplayException>(() => Doc.GetAsync(id));

        Assert.That(error!.Failure, Is.EqualTo(ReplayFailure.CorruptPayload));
        Assert.That(error.EventId, Is.EqualTo(bad));
        Assert.That(error.Message, Does.Contain("priority"));
    }

    [Test]
    public async Task A_stored_schema_index_the_table_does_not_list_is_refused_not_skipped()
    {
        var id = Guid.CreateVersion7();
        await InsertRawAsync(id, id, 1, EventActions.Insert, """{"__version__":0,"name":"x"}""", schema: 99);

        var error = Assert.ThrowsAsync<EventReplayException>(() => Doc.GetAsync(id));

        Assert.That(error!.Failure, Is.EqualTo(ReplayFailure.UnknownSchema));
        Assert.That(error.EventId, Is.EqualTo(id));
        Assert.That(error.Message, Does.Contain("schema index 99"));
    }

    [Test]
    public void The_action_table_lists_custom_actions_by_stored_code()
    {
        Assert.That(Log.ActionName(ActionCodes.For("release")), Is.EqualTo("publish"));
        Assert.That(Log.ActionName(ActionCodes.For("archive")), Is.EqualTo("archive"));
        Assert.That(Log.ActionName(ActionCodes.For("publish")), Is.Null, "'publish' is stored under 'release''s code");
        Assert.That(
            Log.Actions.Select(a => a.Name),
            Is.EquivalentTo(new[] { "archive", "publish", "reprice", "touch" })
        );
    }

    private Task InsertRawAsync(Guid id, Guid parent, long seq, int action, string payload, int schema = DocSchema)
    {
        var at = DateTimeOffset.UtcNow;
        return Database == Db.Postgres
            ? ExecuteRawAsync(
                "INSERT INTO \"events\" "
                    + "(\"id\", \"parent_id\", \"seq\", \"schema\", \"action\", \"payload\", \"inserted_at\") "
                    + "VALUES (@id, @parent, @seq, @schema, @action, CAST(@payload AS jsonb), @at)",
                new
                {
                    id,
                    parent,
                    seq,
                    schema,
                    action,
                    payload,
                    at,
                }
            )
            : ExecuteRawAsync(
                "INSERT INTO \"events\" "
                    + "(\"id\", \"parent_id\", \"seq\", \"schema\", \"action\", \"payload\", \"inserted_at\") "
                    + "VALUES (@id, @parent, @seq, @schema, @action, @payload, @at)",
                new
                {
                    id,
                    parent,
                    seq,
                    schema,
                    action,
                    payload,
                    at = at.ToUnixTimeMilliseconds() * 1000,
                }
            );
    }
}
