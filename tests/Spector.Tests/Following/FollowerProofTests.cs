using System.Data.Common;
using Dapper;
using Microsoft.Data.Sqlite;

namespace Spector.Tests;

/// <summary>
/// The never-skip proof under load: many writers, rollbacks and a transaction held open across others' commits,
/// with a follower running the whole time. What it saw must equal what committed, exactly.
/// </summary>
[TestFixture(Db.Sqlite)]
[TestFixture(Db.Postgres)]
public sealed class FollowerProofTests(Db db) : DatabaseTest(db)
{
    /// <summary>Checkpoints left by an earlier test would point past the recreated events table.</summary>
    [SetUp]
    public Task DropCheckpointsAsync() =>
        ExecuteRawAsync(
            "DROP TABLE IF EXISTS \"spector_followers\"; DROP TABLE IF EXISTS \"spector_follower_positions\""
        );

    private const int Writers = 16,
        OperationsPerWriter = 30,
        SharedRecords = 8;

    [Test]
    public async Task Sixteen_writers_with_rollbacks_and_a_long_open_transaction_lose_nothing_to_a_running_follower()
    {
        await using (var connection = await OpenAsync())
        {
            await connection.ExecuteAsync("DROP TABLE IF EXISTS \"proof_projection\"");
            await connection.ExecuteAsync(
                Database == Db.Postgres
                    ? "CREATE TABLE \"proof_projection\" (\"ord\" bigserial PRIMARY KEY, \"event_id\" uuid NOT NULL, "
                        + "\"record_id\" uuid NOT NULL, \"seq\" bigint NOT NULL, \"position\" bigint NOT NULL)"
                    : "CREATE TABLE \"proof_projection\" (\"ord\" INTEGER PRIMARY KEY AUTOINCREMENT, "
                        + "\"event_id\" BLOB NOT NULL, \"record_id\" BLOB NOT NULL, "
                        + "\"seq\" INTEGER NOT NULL, \"position\" INTEGER NOT NULL)"
            );
        }
        var shared = new List<Counter>();
        for (var i = 0; i < SharedRecords; i++)
            shared.Add(await Counter.InsertAsync(new Attrs { ["name"] = $"shared{i}" }));

        // No unique key on event_id: a second delivery would show as a second row.
        var follower = new Follower(
            new FollowerOptions("proof", Log)
            {
                BatchSize = 7,
                MinPollInterval = TimeSpan.FromMilliseconds(2),
                MaxPollInterval = TimeSpan.FromMilliseconds(50),
            },
            (e, session, ct) =>
                session.Connection.ExecuteAsync(
                    new CommandDefinition(
                        "INSERT INTO \"proof_projection\" (\"event_id\", \"record_id\", \"seq\", \"position\") "
                            + "VALUES (@id, @record, @seq, @position)",
                        new
                        {
                            id = e.Id,
                            record = e.RecordId,
                            seq = e.Event.Seq,
                            position = e.Event.Position,
                        },
                        session.Transaction,
                        cancellationToken: ct
                    )
                )
        );
        await follower.MigrateAsync();
        using var stop = new CancellationTokenSource();
        var running = Task.Run(() => follower.RunAsync(stop.Token));

        // The long transaction: on PostgreSQL it writes first (taking an old transaction id and a low position), stays
        // open across every other writer's commits, then appends to a record those writers moved on meanwhile. On
        // SQLite a write transaction excludes all others, so it is a read transaction holding an old snapshot.
        await using var longConnection = await OpenAsync();
        await using var longTx =
            Database == Db.Postgres
                ? await longConnection.BeginTransactionAsync()
                : ((SqliteConnection)longConnection).BeginTransaction(deferred: true);
        var longSession = new SpectorSession(longConnection, longTx);
        Counter? early = null;
        if (Database == Db.Postgres)
            early = await Counter.InsertAsync(longSession, new Attrs { ["name"] = "long" });
        else
            await longConnection.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM \"events\"", transaction: longTx);

        var rolledBack = 0;
        await Task.WhenAll(
            Enumerable
                .Range(0, Writers)
                .Select(writer =>
                    Task.Run(async () =>
                    {
                        var random = new Random(writer * 7919 + 1);
                        for (var op = 0; op < OperationsPerWriter; op++)
                        {
                            await Task.Delay(random.Next(0, 4));
                            var dice = random.Next(100);
                            if (dice < 65)
                            {
                                await new Counter { Id = shared[random.Next(SharedRecords)].Id }.UpdateAsync(
                                    new Attrs { ["by"] = 1 }
                                );
                            }
                            else if (dice < 80)
                            {
                                var fresh = await Counter.InsertAsync(new Attrs { ["name"] = $"w{writer}-{op}" });
                                await fresh.UpdateAsync(new Attrs { ["by"] = 2 });
                            }
                            else
                            {
                                await using var connection = await OpenAsync();
                                await using var tx = await connection.BeginTransactionAsync();
                                var session = new SpectorSession(connection, tx);
                                var mine = await Counter.InsertAsync(
                                    session,
                                    new Attrs { ["name"] = $"tx{writer}-{op}" }
                                );
                                await Task.Delay(random.Next(0, 6));
                                await new Counter { Id = shared[random.Next(SharedRecords)].Id }.UpdateAsync(
                                    session,
                                    new Attrs { ["by"] = 1 }
                                );
                                await mine.UpdateAsync(session, new Attrs { ["by"] = 1 });
                                if (random.Next(2) == 0)
                                {
                                    await tx.RollbackAsync();
                                    Interlocked.Increment(ref rolledBack);
                                }
                                else
                                {
                                    await tx.CommitAsync();
                                }
                            }
                        }
                    })
                )
        );

        var passedMeanwhile = 0L;
        if (early is not null)
        {
            var earlyPosition = (await Counter.AllEventsAsync(longSession, early.Id)).Single().Position;
            // Committed with higher positions while the long transaction's event is still invisible: a follower
            // reading by position alone would have moved past it and never come back.
            passedMeanwhile = await CountAsync("events", "\"position\" > @p", new { p = earlyPosition });
            await new Counter { Id = shared[0].Id }.UpdateAsync(longSession, new Attrs { ["by"] = 100 });
        }
        await longTx.CommitAsync();

        var committed = await EventsAsync();
        await WaitUntilAsync(async () => await CountAsync("proof_projection") >= committed.Count);
        await Task.Delay(200); // anything delivered twice would arrive now
        stop.Cancel();
        await running;

        var projected = await ProjectedAsync();
        Assert.That(rolledBack, Is.GreaterThan(0), "some transactions rolled back");
        Assert.That(projected.Select(p => p.EventId), Is.Unique, "no event delivered twice");
        Assert.That(
            projected.Select(p => p.EventId),
            Is.EquivalentTo(committed.Select(e => e.Id)),
            "seen set equals committed set"
        );
        foreach (var record in projected.GroupBy(p => p.RecordId))
            Assert.That(
                record.Select(p => p.Seq),
                Is.EqualTo(Enumerable.Range(1, record.Count()).Select(i => (long)i)),
                $"record {record.Key} delivered in sequence order"
            );
        if (early is null)
            return;
        Assert.That(passedMeanwhile, Is.GreaterThan(100), "many commits overtook the long transaction's event");
        Assert.That((await Counter.GetAsync(shared[0].Id))!.Value, Is.GreaterThanOrEqualTo(100));
    }

    private async Task<List<(Guid Id, Guid Record, long Seq)>> EventsAsync()
    {
        await using var connection = await OpenAsync();
        return await ReadAsync(
            connection,
            "SELECT \"id\", \"parent_id\", \"seq\" FROM \"events\"",
            r => (r.GetGuid(0), r.GetGuid(1), r.GetInt64(2))
        );
    }

    private async Task<List<(Guid EventId, Guid RecordId, long Seq, long Position)>> ProjectedAsync()
    {
        await using var connection = await OpenAsync();
        return await ReadAsync(
            connection,
            "SELECT \"event_id\", \"record_id\", \"seq\", \"position\" FROM \"proof_projection\" ORDER BY \"ord\"",
            r => (r.GetGuid(0), r.GetGuid(1), r.GetInt64(2), r.GetInt64(3))
        );
    }

    private static async Task<List<T>> ReadAsync<T>(DbConnection connection, string sql, Func<DbDataReader, T> row)
    {
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        var rows = new List<T>();
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
            rows.Add(row(reader));
        return rows;
    }

    private static async Task WaitUntilAsync(Func<Task<bool>> condition)
    {
        var deadline = DateTime.UtcNow.AddSeconds(120);
        while (!await condition())
        {
            if (DateTime.UtcNow > deadline)
                Assert.Fail("the follower did not catch up within two minutes");
            await Task.Delay(50);
        }
    }
}
