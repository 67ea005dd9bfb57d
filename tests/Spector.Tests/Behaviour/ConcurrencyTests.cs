namespace Spector.Tests;

[TestFixture(Db.Sqlite)]
[TestFixture(Db.Postgres)]
public sealed class ConcurrencyTests(Db db) : DatabaseTest(db)
{
    [Test]
    public async Task Eight_writers_incrementing_one_counter_lose_no_update()
    {
        const int writers = 8, increments = 50;
        var counter = await Counter.InsertAsync(new Attrs { ["name"] = "hits" });

        await Task.WhenAll(Enumerable.Range(0, writers).Select(_ => Task.Run(async () =>
        {
            // Each writer holds its own stale copy; only the id matters.
            var mine = new Counter { Id = counter.Id };
            for (var i = 0; i < increments; i++) await mine.UpdateAsync(new Attrs { ["by"] = 1 });
        })));

        var final = await Counter.GetAsync(counter.Id);
        Assert.That(final!.Value, Is.EqualTo(writers * increments));
        var events = await Counter.AllEventsAsync(counter.Id);
        Assert.That(events.Count(e => e.Action == "update"), Is.EqualTo(writers * increments));
        Assert.That(events.Select(e => e.Seq), Is.EqualTo(Enumerable.Range(1, writers * increments + 1).Select(i => (long)i)),
            "seq runs 1 (insert), then 2..401 with no gap");
        await using var connection = await OpenAsync();
        Assert.That(await Dapper.SqlMapper.ExecuteScalarAsync<long>(connection, "SELECT \"value\" FROM \"counters\""),
            Is.EqualTo(writers * increments), "the record table agrees with the log");
    }

    [Test]
    public async Task A_writer_that_loses_a_race_replays_and_one_that_cannot_win_gives_up_with_a_typed_conflict()
    {
        var counter = await Counter.InsertAsync(new Attrs { ["name"] = "hits" });
        await counter.UpdateAsync(new Attrs { ["by"] = 1 });
        // A rival holds seq 3 open in its transaction; our writer keeps colliding with it.
        await using var rival = await OpenAsync();
        await using var rivalTx = await rival.BeginTransactionAsync();
        await counter.UpdateAsync(new SpectorSession(rival, rivalTx), new Attrs { ["by"] = 1 });
        var twoAttempts = StoreWith(new SpectorOptions { MaxWriteAttempts = 2 });

        // Task.Run: Microsoft.Data.Sqlite's async calls complete synchronously, and this one waits for the rival.
        var attempt = Task.Run(() => counter.UpdateAsync(twoAttempts, new Attrs { ["by"] = 1 }));
        await Task.Delay(200);
        await rivalTx.CommitAsync();
        // PostgreSQL: the first attempt blocks on the rival's seq 3 and loses; the retry replays and appends seq 4.
        // SQLite: BEGIN IMMEDIATE waits for the rival's write lock, then replays its committed event.
        var result = await attempt;
        Assert.That(result.Value, Is.EqualTo(3));
        Assert.That((await Counter.AllEventsAsync(counter.Id)).Select(e => e.Seq), Is.EqualTo(new[] { 1L, 2L, 3L, 4L }));
        if (Database == Db.Sqlite) return; // one writer at a time: SQLite never loses a race, so never gives up


        await using var rivalTx2 = await rival.BeginTransactionAsync();
        await counter.UpdateAsync(new SpectorSession(rival, rivalTx2), new Attrs { ["by"] = 1 });
        var oneAttempt = StoreWith(new SpectorOptions { MaxWriteAttempts = 1 });
        var losing = Task.Run(() => counter.UpdateAsync(oneAttempt, new Attrs { ["by"] = 1 }));
        await Task.Delay(200);
        await rivalTx2.CommitAsync();
        var error = Assert.ThrowsAsync<ConcurrencyConflictException>(async () => await losing);
        Assert.That(error!.RecordId, Is.EqualTo(counter.Id));
        Assert.That(error.Attempts, Is.EqualTo(1));
        Assert.That((await Counter.GetAsync(counter.Id))!.Value, Is.EqualTo(4));
        Assert.That(await CountAsync("events"), Is.EqualTo(5));
    }
}
