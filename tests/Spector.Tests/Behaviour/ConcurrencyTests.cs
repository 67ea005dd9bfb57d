namespace Spector.Tests;

[TestFixture(Db.Sqlite)]
[TestFixture(Db.Postgres)]
public sealed class ConcurrencyTests(Db db) : DatabaseTest(db)
{
    [Test]
    public async Task Eight_writers_incrementing_one_counter_lose_no_update()
    {
        const int writers = 8,
            increments = 50;
        var counter = await Counter.InsertAsync(new Attrs { ["name"] = "hits" });

        await Task.WhenAll(
            Enumerable
                .Range(0, writers)
                .Select(_ =>
                    Task.Run(async () =>
                    {
                        // Each writer holds its own stale copy; only the id matters.
                        var mine = new Counter { Id = counter.Id };
                        for (var i = 0; i < increments; i++)
                            await mine.UpdateAsync(new Attrs { ["by"] = 1 });
                    })
                )
        );

        var final = await Counter.GetAsync(counter.Id);
        Assert.That(final!.Value, Is.EqualTo(writers * increments));
        var events = await Counter.AllEventsAsync(counter.Id);
        Assert.That(events.Count(e => e.Action == "update"), Is.EqualTo(writers * increments));
        Assert.That(
            events.Select(e => e.Seq),
            Is.EqualTo(Enumerable.Range(1, writers * increments + 1).Select(i => (long)i)),
            "seq runs 1 (insert), then 2..401 with no gap"
        );
        await using var connection = await OpenAsync();
        Assert.That(
            await Dapper.SqlMapper.ExecuteScalarAsync<long>(connection, "SELECT \"value\" FROM \"counters\""),
            Is.EqualTo(writers * increments),
            "the record table agrees with the log"
        );
    }

    [Test]
    public async Task A_writer_queues_behind_a_rival_transaction_on_the_record_and_replays_its_event()
    {
        var counter = await Counter.InsertAsync(new Attrs { ["name"] = "hits" });
        await counter.UpdateAsync(new Attrs { ["by"] = 1 });
        // A rival holds seq 3 (and the record's head row) open in its transaction.
        await using var rival = await OpenAsync();
        await using var rivalTx = await rival.BeginTransactionAsync();
        await counter.UpdateAsync(new SpectorSession(rival, rivalTx), new Attrs { ["by"] = 1 });
        // One attempt is enough: a writer queues on the head row, it never loses a race it would have to retry.
        var oneAttempt = StoreWith(new SpectorOptions { MaxWriteAttempts = 1 });

        // Task.Run: Microsoft.Data.Sqlite's async calls complete synchronously, and this one waits for the rival.
        var attempt = Task.Run(() => counter.UpdateAsync(oneAttempt, new Attrs { ["by"] = 1 }));
        await Task.Delay(200);
        Assert.That(attempt.IsCompleted, Is.False, "the writer waits on the record's head row");
        await rivalTx.CommitAsync();
        var result = await attempt;
        Assert.That(result.Value, Is.EqualTo(3));
        Assert.That(
            (await Counter.AllEventsAsync(counter.Id)).Select(e => e.Seq),
            Is.EqualTo(new[] { 1L, 2L, 3L, 4L })
        );
    }
}
