using System.Text.Json.Nodes;

namespace Spector.Tests;

/// <summary>A record as of an instant, its events in a time range, and the fields each event changed.</summary>
[TestFixture(Db.Sqlite)]
[TestFixture(Db.Postgres)]
public sealed class RecordHistoryTests(Db db) : DatabaseTest(db)
{
    private static readonly TimeSpan OneMicrosecond = TimeSpan.FromTicks(10);

    [Test]
    public async Task As_of_an_instant_gives_the_state_after_the_last_event_by_then_for_tabled_and_embedded_records()
    {
        var user = await User.InsertAsync(new Attrs { ["name"] = "Ann", ["email"] = "a@example.com" });
        await Task.Delay(3);
        user = await user.UpdateAsync(new Attrs { ["age"] = 30 });
        await Task.Delay(3);
        await user.DeleteAsync();
        var memo = await Memo.InsertAsync(new Attrs { ["title"] = "first", ["price"] = 1m });
        await Task.Delay(3);
        await memo.RepriceAsync(2m);

        var userEvents = await User.AllEventsAsync(user.Id);
        Assert.That(
            await User.GetAsOfAsync(user.Id, userEvents[0].InsertedAt - OneMicrosecond),
            Is.Null,
            "before its insert"
        );
        Assert.That((await User.GetAsOfAsync(user.Id, userEvents[0].InsertedAt))!.Age, Is.Zero);
        Assert.That((await User.GetAsOfAsync(user.Id, userEvents[1].InsertedAt - OneMicrosecond))!.Age, Is.Zero);
        Assert.That((await User.GetAsOfAsync(user.Id, userEvents[1].InsertedAt))!.Age, Is.EqualTo(30));
        Assert.That(await User.GetAsOfAsync(user.Id, userEvents[2].InsertedAt), Is.Null, "after its delete");
        Assert.That(await User.GetAsOfAsync(Guid.NewGuid(), DateTimeOffset.MaxValue), Is.Null);

        var memoEvents = await Memo.AllEventsAsync(memo.Id);
        // The same instant written in another offset is the same instant.
        var inIndia = memoEvents[0].InsertedAt.ToOffset(TimeSpan.FromHours(5.5));
        Assert.That((await Memo.GetAsOfAsync(memo.Id, inIndia))!.Price, Is.EqualTo(1m));
        Assert.That((await Memo.GetAsOfAsync(memo.Id, DateTimeOffset.MaxValue))!.Price, Is.EqualTo(2m));
    }

    [Test]
    public async Task A_write_never_stamps_an_event_before_the_records_last_one_whatever_this_servers_clock_says()
    {
        var user = await User.InsertAsync(new Attrs { ["name"] = "Ann", ["email"] = "a@example.com" });
        user = await user.UpdateAsync(new Attrs { ["age"] = 30 });
        // Another server, its clock an hour ahead, wrote the last event: its time is in this server's future.
        var ahead = (await User.AllEventsAsync(user.Id))[1].InsertedAt.AddHours(1);
        object stored = Database == Db.Postgres ? ahead : EventHash.Micros(ahead);
        await DropAppendOnlyTriggersAsync();
        await ExecuteRawAsync(
            "UPDATE \"events\" SET \"inserted_at\" = @stored WHERE \"parent_id\" = @id AND \"seq\" = 2",
            new { stored, id = user.Id }
        );
        await ExecuteRawAsync(
            "UPDATE \"events_heads\" SET \"last_at\" = @stored WHERE \"record_id\" = @id",
            new { stored, id = user.Id }
        );

        user = await user.UpdateAsync(new Attrs { ["age"] = 31 });

        var events = await User.AllEventsAsync(user.Id);
        Assert.That(events[2].InsertedAt, Is.GreaterThanOrEqualTo(events[1].InsertedAt), "time order is seq order");
        Assert.That((await User.GetAsOfAsync(user.Id, ahead))!.Age, Is.EqualTo(31));
        Assert.That((await User.GetAsOfAsync(user.Id, DateTimeOffset.MaxValue))!.Age, Is.EqualTo(31));
        Assert.That((await User.GetAsOfAsync(user.Id, ahead.AddTicks(-10)))!.Age, Is.Zero, "before the second event");
    }

    [Test]
    public async Task As_of_starts_from_the_savepoint_before_the_instant_and_agrees_with_replay_by_sequence()
    {
        var wallet = await Wallet.InsertAsync(new Attrs { ["owner"] = "Ann" });
        for (var i = 1; i <= 24; i++)
        {
            wallet = await wallet.DepositAsync(i, $"d{i}");
            if (i % 5 == 0)
                await Task.Delay(1);
        }
        var events = await Wallet.AllEventsAsync(wallet.Id);
        Assert.That(events.Count(e => e.Action == "savepoint"), Is.EqualTo(2));

        foreach (var e in events)
        {
            // Events of one write (an event and the savepoint after it) may share an instant: the later one wins.
            var lastAtThatInstant = events.Last(other => other.InsertedAt == e.InsertedAt);
            var asOf = await Wallet.GetAsOfAsync(wallet.Id, e.InsertedAt);
            var bySeq = await Wallet.GetAtAsync(wallet.Id, lastAtThatInstant.Seq);
            Assert.That(asOf!.Memos, Is.EqualTo(bySeq!.Memos), $"as of event {e.Seq}");
            Assert.That(asOf.Balance, Is.EqualTo(bySeq.Balance));
        }

        // A savepoint whose payload lies is believed from that savepoint on (proof that as-of reads start there).
        await DropAppendOnlyTriggersAsync("ledger");
        var savepoint = events.First(e => e.Action == "savepoint");
        var forged = JsonNode.Parse(savepoint.PayloadJson)!;
        forged["balance"] = 1_000_000;
        await ExecuteRawAsync(
            Database == Db.Postgres
                ? "UPDATE \"ledger\" SET \"payload\" = CAST(@payload AS jsonb) WHERE \"id\" = @id"
                : "UPDATE \"ledger\" SET \"payload\" = @payload WHERE \"id\" = @id",
            new { payload = forged.ToJsonString(), id = savepoint.Id }
        );
        Assert.That((await Wallet.GetAsOfAsync(wallet.Id, savepoint.InsertedAt))!.Balance, Is.EqualTo(1_000_000m));
        Assert.That((await Wallet.GetAsOfAsync(wallet.Id, events[0].InsertedAt))!.Balance, Is.Zero);
    }

    [Test]
    public async Task As_of_with_savepoints_sees_a_delete_after_the_savepoint_and_no_record_of_another_type()
    {
        var wallet = await Wallet.InsertAsync(new Attrs { ["owner"] = "Ann" });
        for (var i = 1; i <= 12; i++)
            wallet = await wallet.DepositAsync(i, $"d{i}");
        await Task.Delay(2);
        await wallet.DeleteAsync();
        var events = await Wallet.AllEventsAsync(wallet.Id);
        Assert.That(events.Select(e => e.Action), Has.Exactly(1).EqualTo("savepoint"));
        var deleted = events[^1];
        Assert.That(deleted.Action, Is.EqualTo("delete"));

        Assert.That(await Wallet.GetAsOfAsync(wallet.Id, deleted.InsertedAt), Is.Null, "deleted after its savepoint");
        Assert.That(await Wallet.GetAsOfAsync(wallet.Id, DateTimeOffset.MaxValue), Is.Null);
        var before = await Wallet.GetAsOfAsync(wallet.Id, deleted.InsertedAt - OneMicrosecond);
        Assert.That((before!.Balance, before.Deposits, before.Memos.Count), Is.EqualTo((78m, 12, 12)));

        // A record of another schema of the same table is no Wallet, at any instant.
        var account = await LedgerAccount.InsertAsync(new Attrs { ["owner"] = "Bob" });
        Assert.That(await Wallet.GetAsOfAsync(account.Id, DateTimeOffset.MaxValue), Is.Null);
    }

    [Test]
    public async Task All_events_in_a_time_range_are_half_open_and_an_inverted_range_is_refused()
    {
        var memo = await Memo.InsertAsync(new Attrs { ["title"] = "m" });
        for (var i = 0; i < 3; i++)
        {
            await Task.Delay(2);
            memo = await memo.RepriceAsync(i);
        }
        var all = await Memo.AllEventsAsync(memo.Id);

        Assert.That(
            (await Memo.AllEventsAsync(memo.Id, all[1].InsertedAt, all[3].InsertedAt)).Select(e => e.Seq),
            Is.EqualTo(new[] { 2L, 3L })
        );
        Assert.That(
            (await Memo.AllEventsAsync(memo.Id, null, all[1].InsertedAt)).Select(e => e.Seq),
            Is.EqualTo(new[] { 1L })
        );
        Assert.That(
            (await Memo.AllEventsAsync(memo.Id, all[2].InsertedAt, null)).Select(e => e.Seq),
            Is.EqualTo(new[] { 3L, 4L })
        );
        Assert.That(await Memo.AllEventsAsync(memo.Id, all[2].InsertedAt, all[2].InsertedAt), Is.Empty);
        Assert.That(await Memo.AllEventsAsync(memo.Id, null, null), Is.EqualTo(all));
        Assert.That(
            () => Memo.AllEventsAsync(memo.Id, all[3].InsertedAt, all[0].InsertedAt),
            Throws.ArgumentException.With.Message.Contains("inverted")
        );
    }

    [Test]
    public async Task Range_bounds_finer_than_a_microsecond_compare_as_the_instants_they_are()
    {
        var memo = await Memo.InsertAsync(new Attrs { ["title"] = "edge" });
        var t = (await Memo.AllEventsAsync(memo.Id)).Single().InsertedAt;
        var justAfter = t.AddTicks(1);
        var justBefore = t.AddTicks(-1);

        Assert.That(await Memo.AllEventsAsync(memo.Id, justAfter, null), Is.Empty, "t < from");
        Assert.That(await Memo.AllEventsAsync(memo.Id, null, justAfter), Has.Count.EqualTo(1), "t < to");
        Assert.That(await Memo.AllEventsAsync(memo.Id, justBefore, null), Has.Count.EqualTo(1), "from < t");
        Assert.That(await Memo.AllEventsAsync(memo.Id, null, justBefore), Is.Empty, "to < t");
        // Adjacent windows split at an instant with 100 ns ticks share no event.
        Assert.That(
            (await Memo.AllEventsAsync(memo.Id, null, justAfter)).Count
                + (await Memo.AllEventsAsync(memo.Id, justAfter, null)).Count,
            Is.EqualTo(1)
        );

        var audit = AppEvents.Log.Audit;
        Assert.That(
            (await audit.TimelinePageAsync(new TimelineQuery { RecordId = memo.Id, From = justAfter })).Events,
            Is.Empty
        );
        Assert.That(
            (await audit.TimelinePageAsync(new TimelineQuery { RecordId = memo.Id, To = justAfter })).Events,
            Has.Count.EqualTo(1)
        );
        Assert.That(
            (await audit.TimelinePageAsync(new TimelineQuery { RecordId = memo.Id, From = justBefore })).Events,
            Has.Count.EqualTo(1)
        );
        Assert.That(
            (await audit.TimelinePageAsync(new TimelineQuery { RecordId = memo.Id, To = justBefore })).Events,
            Is.Empty
        );

        Assert.That(await Memo.GetAsOfAsync(memo.Id, justBefore), Is.Null);
        Assert.That(await Memo.GetAsOfAsync(memo.Id, justAfter), Is.Not.Null);
    }

    [Test]
    public async Task Changes_list_each_event_with_the_typed_fields_it_changed_and_who_changed_them()
    {
        Memo memo;
        using (SpectorContext.Begin(actor: new Actor("user", "ann")))
            memo = await Memo.InsertAsync(
                new Attrs
                {
                    ["title"] = "Lamp",
                    ["price"] = 10m,
                    ["tags"] = new JsonArray("new"),
                }
            );
        using (SpectorContext.Begin(actor: new Actor("user", "bob"), reason: "sale"))
            memo = await memo.RepriceAsync(12.5m);
        memo = await memo.UpdateAsync(new Attrs { ["tags"] = new JsonArray("new", "sale"), ["plan"] = "Pro" });
        memo = await memo.UpdateAsync(new Attrs { ["title"] = "Lamp" }); // changes nothing
        await memo.DeleteAsync();

        var changes = await Memo.ChangesAsync(memo.Id);

        Assert.That(
            changes.Select(c => c.Event.Action),
            Is.EqualTo(new[] { "insert", "reprice", "update", "update", "delete" })
        );
        Assert.That(changes[0].Changes.Select(f => f.Key), Is.EquivalentTo(new[] { "title", "price", "tags" }));
        var price = changes[1].Changes.Single();
        Assert.That(
            (price.Key, price.BeforeAs<decimal>(), price.AfterAs<decimal>()),
            Is.EqualTo(("price", 10m, 12.5m))
        );
        Assert.That((changes[1].Event.Actor!.Id, changes[1].Event.Reason), Is.EqualTo(("bob", "sale")));
        Assert.That(price.ToString(), Is.EqualTo("price: 10 -> 12.5"));
        var tags = changes[2].Changes.Single(f => f.Key == "tags");
        Assert.That(tags.Before, Is.EqualTo(new List<string> { "new" }), "a copy taken before the update");
        Assert.That(tags.After, Is.EqualTo(new List<string> { "new", "sale" }));
        Assert.That(changes[2].Changes.Single(f => f.Key == "plan").After, Is.EqualTo(Plan.Pro));
        Assert.That(
            () => changes[2].Changes.Single(f => f.Key == "plan").AfterAs<string>(),
            Throws.TypeOf<InvalidCastException>()
        );
        Assert.That(changes[3].Changes, Is.Empty);
        Assert.That(changes[4].Deleted, Is.True);
    }

    [Test]
    public async Task Changes_report_a_field_back_at_its_default_and_hand_out_copies_no_other_change_shares()
    {
        var due = new DateTimeOffset(2026, 5, 1, 9, 0, 0, TimeSpan.FromHours(2));
        var memo = await Memo.InsertAsync(new Attrs { ["title"] = "m", ["tags"] = new JsonArray("a") });
        memo = await memo.UpdateAsync(new Attrs { ["due_at"] = due, ["tags"] = new JsonArray("a", "b") });
        memo = await memo.UpdateAsync(new Attrs { ["due_at"] = null, ["tags"] = new JsonArray() });
        memo = await memo.UpdateAsync(new Attrs { ["due_at"] = due });
        memo = await memo.UpdateAsync(new Attrs { ["due_at"] = due.ToOffset(TimeSpan.Zero) }); // the same instant

        var changes = await Memo.ChangesAsync(memo.Id);

        Assert.That(changes[1].Changes.Select(f => f.Key), Is.EqualTo(new[] { "due_at", "tags" }), "declaration order");
        var cleared = changes[2].Changes.ToDictionary(f => f.Key);
        Assert.That(cleared.Keys, Is.EquivalentTo(new[] { "due_at", "tags" }), "back at their defaults");
        Assert.That(
            (cleared["due_at"].BeforeAs<DateTimeOffset?>(), cleared["due_at"].After),
            Is.EqualTo((due, (object?)null))
        );
        Assert.That(cleared["tags"].After, Is.Empty);
        Assert.That(changes[3].Changes.Single().Before, Is.Null, "set again from its default");
        Assert.That(changes[4].Changes, Is.Empty, "an equal instant in another offset is no change");

        // Editing a list one change hands out leaves every other change as it was.
        ((List<string>)changes[1].Changes.Single(f => f.Key == "tags").After!).Add("edited");
        Assert.That(cleared["tags"].Before, Is.EqualTo(new List<string> { "a", "b" }));
        Assert.That(changes[1].Changes.Single(f => f.Key == "tags").Before, Is.EqualTo(new List<string> { "a" }));
    }

    [Test]
    public async Task Changes_skip_savepoints_and_follow_a_tabled_record()
    {
        var wallet = await Wallet.InsertAsync(new Attrs { ["owner"] = "Ann" });
        for (var i = 1; i <= 10; i++)
            wallet = await wallet.DepositAsync(i, "d");
        var changes = await Wallet.ChangesAsync(wallet.Id);

        Assert.That(changes, Has.Count.EqualTo(12));
        Assert.That(changes.Single(c => c.Event.Action == "savepoint").Changes, Is.Empty);
        var last = changes.Last(c => c.Event.Action == "deposit");
        Assert.That(last.Changes.Single(f => f.Key == "balance").BeforeAs<decimal>(), Is.EqualTo(45m));
        Assert.That(last.Changes.Single(f => f.Key == "deposits").AfterAs<int>(), Is.EqualTo(10));
        Assert.That(await Wallet.ChangesAsync(Guid.NewGuid()), Is.Empty);
    }
}
