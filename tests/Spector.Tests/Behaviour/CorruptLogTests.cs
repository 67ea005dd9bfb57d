namespace Spector.Tests;

/// <summary>Event rows edited by hand, around Spector and its triggers, are reported with the event that is
/// wrong.</summary>
[TestFixture(Db.Sqlite)]
[TestFixture(Db.Postgres)]
public sealed class CorruptLogTests(Db db) : DatabaseTest(db)
{
    private User _user = null!;

    [SetUp]
    public async Task InsertAndUnlockAsync()
    {
        _user = await User.InsertAsync(new Attrs { ["name"] = "Di", ["email"] = "di@example.com" });
        await _user.UpdateAsync(new Attrs { ["age"] = 30 });
        await DropAppendOnlyTriggersAsync();
    }

    private async Task<Guid> SecondEventIdAsync() => (await User.AllEventsAsync(_user.Id))[1].Id;

    private Task TamperAsync(string set) =>
        ExecuteRawAsync(
            $"UPDATE \"events\" SET {set} WHERE \"parent_id\" = @id AND \"seq\" = 2",
            new { id = _user.Id }
        );

    [Test]
    public async Task A_value_of_the_wrong_type_names_the_record_and_event()
    {
        var eventId = await SecondEventIdAsync();
        await TamperAsync(
            Database == Db.Postgres
                ? "\"payload\" = jsonb_set(\"payload\", '{age}', '\"thirty\"')"
                : "\"payload\" = json_set(\"payload\", '$.age', 'thirty')"
        );

        var error = Assert.ThrowsAsync<EventReplayException>(() => User.GetAsync(_user.Id));

        Assert.That(error!.Failure, Is.EqualTo(ReplayFailure.CorruptPayload));
        Assert.That(error.EventId, Is.EqualTo(eventId));
        Assert.That(error.RecordId, Is.EqualTo(_user.Id));
        Assert.That(error.Seq, Is.EqualTo(2));
        Assert.That(
            error.Message,
            Does.Contain("age").And.Contain(eventId.ToString()).And.Contain(_user.Id.ToString())
        );
    }

    [Test]
    public async Task A_write_to_a_record_with_a_corrupt_log_is_refused_and_stores_nothing()
    {
        await TamperAsync(
            Database == Db.Postgres
                ? "\"payload\" = jsonb_set(\"payload\", '{age}', '\"thirty\"')"
                : "\"payload\" = json_set(\"payload\", '$.age', 'thirty')"
        );

        Assert.ThrowsAsync<EventReplayException>(() => _user.UpdateAsync(new Attrs { ["age"] = 31 }));

        Assert.That(await CountAsync("events"), Is.EqualTo(2));
    }

    [Test]
    public async Task A_payload_from_a_newer_version_is_refused()
    {
        await TamperAsync(
            Database == Db.Postgres
                ? "\"payload\" = jsonb_set(\"payload\", '{__version__}', '7')"
                : "\"payload\" = json_set(\"payload\", '$.__version__', 7)"
        );

        var error = Assert.ThrowsAsync<EventReplayException>(() => User.GetAsync(_user.Id));

        Assert.That(error!.Failure, Is.EqualTo(ReplayFailure.NewerVersion));
        Assert.That(error.Message, Does.Contain("version 7"));
    }

    [Test]
    public async Task An_unknown_action_code_is_refused()
    {
        await TamperAsync("\"action\" = 9999");

        var error = Assert.ThrowsAsync<EventReplayException>(() => User.GetAsync(_user.Id));

        Assert.That(error!.Failure, Is.EqualTo(ReplayFailure.UnknownAction));
        Assert.That(error.Message, Does.Contain("9999"));
    }

    [Test]
    public async Task A_missing_event_is_refused()
    {
        await _user.UpdateAsync(new Attrs { ["age"] = 31 });
        await ExecuteRawAsync(
            "DELETE FROM \"events\" WHERE \"parent_id\" = @id AND \"seq\" = 2",
            new { id = _user.Id }
        );

        var error = Assert.ThrowsAsync<EventReplayException>(() => User.GetAsync(_user.Id));

        Assert.That(error!.Failure, Is.EqualTo(ReplayFailure.BrokenSequence));
        Assert.That(error.Seq, Is.EqualTo(3));
    }

    [Test]
    public async Task A_payload_that_is_not_an_object_is_refused()
    {
        await TamperAsync(Database == Db.Postgres ? "\"payload\" = '[1, 2]'" : "\"payload\" = '[1, 2]'");

        var error = Assert.ThrowsAsync<EventReplayException>(() => User.GetAsync(_user.Id));

        Assert.That(error!.Failure, Is.EqualTo(ReplayFailure.CorruptPayload));
    }
}
