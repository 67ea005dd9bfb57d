using System.Collections.Concurrent;
using System.Text.Json.Nodes;
using Dapper;

namespace Spector.Tests;

/// <summary>Attacks on the follower's read-ahead (several batches per read on PostgreSQL): failures, stops and
/// odd values inside a large read must neither skip an event nor apply one twice.</summary>
[TestFixture(Db.Sqlite)]
[TestFixture(Db.Postgres)]
public sealed class FollowerAttackTests(Db db) : DatabaseTest(db)
{
    /// <summary>Numbers effects in attempt order across every follower instance of a test.</summary>
    private long _effectNumber;

    [SetUp]
    public Task DropCheckpointsAndEffectsAsync() =>
        ExecuteRawAsync(
            "DROP TABLE IF EXISTS \"spector_followers\"; DROP TABLE IF EXISTS \"spector_follower_positions\"; "
                + "DROP TABLE IF EXISTS \"attack_effects\"; DROP TABLE IF EXISTS \"attack_projection\"; "
                + "CREATE TABLE \"attack_effects\" (\"n\" bigint NOT NULL, \"event_id\" text NOT NULL)"
        );

    private static string NewName() => "fa_" + Guid.NewGuid().ToString("N")[..12];

    private FollowerOptions Options(string name, int batchSize) =>
        new(name, Log)
        {
            BatchSize = batchSize,
            MinPollInterval = TimeSpan.FromMilliseconds(5),
            MaxPollInterval = TimeSpan.FromMilliseconds(50),
            FirstRetryDelay = TimeSpan.FromMilliseconds(1),
            MaxRetryDelay = TimeSpan.FromMilliseconds(5),
            LeaseDuration = TimeSpan.FromSeconds(10),
        };

    /// <summary>Inserts <paramref name="count"/> counters one write each and returns their event ids in log
    /// order (one writer at a time: position order is also (tx_id, position) order).</summary>
    private async Task<List<Guid>> WriteAsync(int count)
    {
        for (var i = 0; i < count; i++)
            await Counter.InsertAsync(new Attrs { ["name"] = $"c{i}" });
        return await LoggedIdsAsync();
    }

    private async Task<List<Guid>> LoggedIdsAsync()
    {
        await using var connection = await OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT \"id\" FROM \"events\" ORDER BY \"position\"";
        var ids = new List<Guid>();
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
            ids.Add(reader.GetGuid(0));
        return ids;
    }

    private async Task<List<Guid>> EffectsAsync()
    {
        await using var connection = await OpenAsync();
        return (await connection.QueryAsync<string>("SELECT \"event_id\" FROM \"attack_effects\" ORDER BY \"n\""))
            .Select(Guid.Parse)
            .ToList();
    }

    /// <summary>A transactional handler recording each effect (numbered in attempt order) and every call.</summary>
    private Func<FollowedEvent, SpectorSession, CancellationToken, Task> Recording(
        ConcurrentQueue<Guid> calls,
        Func<FollowedEvent, bool> fails
    )
    {
        return async (e, session, ct) =>
        {
            calls.Enqueue(e.Id);
            await session.Connection.ExecuteAsync(
                new CommandDefinition(
                    "INSERT INTO \"attack_effects\" (\"n\", \"event_id\") VALUES (@n, @id)",
                    new { n = Interlocked.Increment(ref _effectNumber), id = e.Id.ToString() },
                    session.Transaction,
                    cancellationToken: ct
                )
            );
            if (fails(e))
                throw new InvalidOperationException("handler down at " + e.Id);
        };
    }

    // With BatchSize 3 the reads of a far-behind follower span several batches: failing events in the first,
    // second and last batch of a read, and on an exact batch boundary. BatchSize 1000 over 2,500 events puts
    // the failure in the 1st, 2nd and 3rd batch of one read.
    [TestCase(3, 60, 0)]
    [TestCase(3, 60, 4)]
    [TestCase(3, 60, 9)]
    [TestCase(3, 60, 11)]
    [TestCase(3, 60, 20)]
    [TestCase(3, 60, 33)]
    [TestCase(3, 60, 59)]
    [TestCase(1, 40, 17)]
    [TestCase(1000, 2500, 1)]
    [TestCase(1000, 2500, 1500)]
    [TestCase(1000, 2500, 2499)]
    public async Task A_transactional_handler_failing_inside_a_large_read_is_retried_and_applies_every_effect_once(
        int batchSize,
        int events,
        int failAt
    )
    {
        var ids = await WriteAsync(events);
        var poison = ids[failAt];
        var failures = 0;
        var calls = new ConcurrentQueue<Guid>();
        var follower = new Follower(
            Options(NewName(), batchSize) with
            {
                MaxAttempts = 3,
            },
            Recording(calls, e => e.Id == poison && failures++ < 2)
        );
        await follower.MigrateAsync();

        Assert.That(await follower.CatchUpAsync(), Is.EqualTo(events));
        Assert.That(failures, Is.EqualTo(3), "two failed attempts, then the third went through");
        Assert.That(await EffectsAsync(), Is.EqualTo(ids), "each effect once, in log order, failed attempts gone");
        var order = calls.ToList();
        var lastPoisonCall = order.LastIndexOf(poison);
        Assert.That(
            order.Take(lastPoisonCall).Intersect(ids.Skip(failAt + 1)),
            Is.Empty,
            "no event after the failing one reached the handler before it went through"
        );
        var status = await follower.ReadStatusAsync();
        Assert.That(status.Processed, Is.EqualTo(events));
        Assert.That(status.LagEvents, Is.EqualTo(0));
        Assert.That(status.FailedEventId, Is.Null);
        Assert.That(status.LastError, Is.Null);
    }

    [TestCase(3, 60, 0)]
    [TestCase(3, 60, 10)]
    [TestCase(3, 60, 11)]
    [TestCase(3, 60, 21)]
    [TestCase(3, 60, 44)]
    [TestCase(1, 40, 25)]
    [TestCase(1000, 2500, 1700)]
    public async Task A_transactional_handler_exhausting_its_attempts_inside_a_large_read_stops_right_before_the_event(
        int batchSize,
        int events,
        int failAt
    )
    {
        var ids = await WriteAsync(events);
        var poison = ids[failAt];
        var broken = true;
        var calls = new ConcurrentQueue<Guid>();
        var name = NewName();
        var follower = new Follower(
            Options(name, batchSize) with
            {
                MaxAttempts = 2,
            },
            Recording(calls, e => broken && e.Id == poison)
        );
        await follower.MigrateAsync();

        var error = Assert.ThrowsAsync<FollowerFailedException>(() => follower.CatchUpAsync());
        Assert.That(error!.EventId, Is.EqualTo(poison));
        Assert.That(error.RecordId, Is.EqualTo(poison), "an insert event's id is its record's id");
        Assert.That(error.Attempts, Is.EqualTo(2));
        Assert.That(error.Follower, Is.EqualTo(name));
        Assert.That(follower.State, Is.EqualTo(FollowerState.Failed));
        Assert.That(calls.Count(id => id == poison), Is.EqualTo(2));
        Assert.That(calls.Intersect(ids.Skip(failAt + 1)), Is.Empty, "nothing after the failing event delivered");
        Assert.That(await EffectsAsync(), Is.EqualTo(ids.Take(failAt)), "the effects before it, once each");
        var status = await follower.ReadStatusAsync();
        Assert.That(status.Processed, Is.EqualTo(failAt), "the checkpoint is right before the failing event");
        Assert.That(status.LagEvents, Is.EqualTo(events - failAt));
        Assert.That(status.FailedEventId, Is.EqualTo(poison));
        Assert.That(status.FailedAttempts, Is.EqualTo(2));
        Assert.That(status.LastError, Does.Contain("handler down at " + poison));

        // A new instance (a restarted process) resumes at the failed event once the handler is fixed.
        broken = false;
        var resumed = new Follower(Options(name, batchSize), Recording(new ConcurrentQueue<Guid>(), _ => false));
        Assert.That(await resumed.CatchUpAsync(), Is.EqualTo(events - failAt));
        var effects = await EffectsAsync();
        Assert.That(effects, Is.EquivalentTo(ids), "every effect exactly once across both runs");
        Assert.That(effects.Skip(failAt), Is.EqualTo(ids.Skip(failAt)), "resumed in log order at the event");
        Assert.That((await resumed.ReadStatusAsync()).FailedEventId, Is.Null);
    }

    [TestCase(1, 40)]
    [TestCase(3, 200)]
    [TestCase(1000, 5000)]
    public async Task A_plain_handler_gets_every_event_in_order_and_after_a_failure_resumes_without_a_gap(
        int batchSize,
        int events
    )
    {
        var ids = await WriteAsync(events);
        var poison = ids[events * 2 / 3];
        var broken = true;
        var delivered = new List<Guid>();
        var name = NewName();
        Follower Create() =>
            new(
                Options(name, batchSize) with
                {
                    MaxAttempts = 2,
                    CheckpointInterval = TimeSpan.FromHours(1),
                },
                (e, _) =>
                {
                    if (broken && e.Id == poison)
                        throw new TimeoutException("down");
                    delivered.Add(e.Id);
                    return Task.CompletedTask;
                }
            );
        var follower = Create();
        await follower.MigrateAsync();
        Assert.ThrowsAsync<FollowerFailedException>(() => follower.CatchUpAsync());
        Assert.That(delivered, Is.EqualTo(ids.Take(events * 2 / 3)));
        broken = false;
        Assert.That(await Create().CatchUpAsync(), Is.EqualTo(events - events * 2 / 3));
        Assert.That(delivered, Is.EqualTo(ids), "in log order, nothing skipped, nothing twice");
    }

    [TestCase(3, 120, 7)]
    [TestCase(3, 120, 40)]
    [TestCase(1000, 3000, 1500)]
    public async Task A_transactional_follower_stopped_in_the_middle_of_a_read_ahead_resumes_without_gap_or_repeat(
        int batchSize,
        int events,
        int stopAfter
    )
    {
        var ids = await WriteAsync(events);
        var name = NewName();
        using var stop = new CancellationTokenSource();
        var calls = new ConcurrentQueue<Guid>();
        var inner = Recording(calls, _ => false);
        var first = new Follower(
            Options(name, batchSize),
            async (e, session, ct) =>
            {
                await inner(e, session, ct);
                if (calls.Count == stopAfter)
                    await stop.CancelAsync();
            }
        );
        await first.MigrateAsync();
        await first.RunAsync(stop.Token);
        var processed = (await first.ReadStatusAsync()).Processed;
        Assert.That(processed, Is.LessThan(events), "stopped before the end");
        Assert.That(await EffectsAsync(), Is.EqualTo(ids.Take((int)processed)), "effects match the checkpoint");

        var second = new Follower(Options(name, batchSize), Recording(new ConcurrentQueue<Guid>(), _ => false));
        Assert.That(await second.CatchUpAsync(), Is.EqualTo(events - processed));
        var effects = await EffectsAsync();
        Assert.That(effects, Is.EquivalentTo(ids), "each effect exactly once across the stop");
        Assert.That(effects.Distinct().Count(), Is.EqualTo(events));
    }

    [Test]
    public async Task Context_and_payload_reach_the_handler_exactly_as_stored_including_odd_values_in_a_large_read()
    {
        string[] odd =
        [
            "plain",
            "quote ' and \" double",
            "back\\slash \\\\ and \\u0041 literally",
            "unicode: été 日本語 🎉 \u2028 line sep",
            "tab\tnew\nline\rreturn",
            "comma, pipe | semicolon ; braces {\"a\":1} [1,2]",
            new string('x', 1999) + "é",
            "",
            " leading and trailing ",
            "NULL",
            "\u0001 control",
        ];
        var records = new List<Counter>();
        for (var i = 0; i < 45; i++)
        {
            var text = odd[i % odd.Length];
            if (i % 3 == 2)
            {
                records.Add(await Counter.InsertAsync(new Attrs { ["name"] = text }));
                continue;
            }
            var metadata = new JsonObject
            {
                ["text"] = text,
                ["n"] = i,
                ["nested"] = new JsonObject { ["list"] = new JsonArray(text, null, 1.5) },
            };
            using (
                SpectorContext.Begin(
                    actor: new Actor("user", i % 2 == 0 ? "ann '\" \\ é 日本 🎉" : "bob"),
                    reason: text.Length == 0 || text.Any(c => char.IsControl(c) && c is not ('\n' or '\r' or '\t'))
                        ? null
                        : text,
                    correlationId: "corr-" + i,
                    causationId: i % 2 == 0 ? "cause-" + i : null,
                    metadata: i % 5 == 0 ? null : metadata
                )
            )
                records.Add(
                    await Counter.InsertAsync(
                        new Attrs
                        {
                            ["name"] = text,
                            ["odd"] = text,
                            ["long"] = new string('y', 10_000),
                        }
                    )
                );
            await records[^1].UpdateAsync(new Attrs { ["by"] = i, ["note"] = text });
        }

        var seen = new List<FollowedEvent>();
        var follower = new Follower(
            Options(NewName(), 3),
            (e, _, _) =>
            {
                seen.Add(e);
                return Task.CompletedTask;
            }
        );
        await follower.MigrateAsync();
        var stored = new List<StoredEvent>();
        foreach (var record in records)
            stored.AddRange(await Counter.AllEventsAsync(record.Id));
        Assert.That(await follower.CatchUpAsync(), Is.EqualTo(stored.Count));

        var byId = seen.ToDictionary(e => e.Id, e => e.Event);
        Assert.That(byId.Keys, Is.EquivalentTo(stored.Select(e => e.Id)));
        foreach (var expected in stored)
        {
            var actual = byId[expected.Id];
            Assert.That(actual.StoredContext, Is.EqualTo(expected.StoredContext), $"context of {expected.Id}");
            Assert.That(actual.Actor, Is.EqualTo(expected.Actor));
            Assert.That(actual.MetadataJson, Is.EqualTo(expected.MetadataJson), $"metadata of {expected.Id}");
            Assert.That(actual.PayloadJson, Is.EqualTo(expected.PayloadJson), $"payload of {expected.Id}");
            Assert.That(actual.Schema, Is.EqualTo(expected.Schema));
            Assert.That(actual.Action, Is.EqualTo(expected.Action));
            Assert.That(actual.ActionCode, Is.EqualTo(expected.ActionCode));
            Assert.That(actual.InsertedAt, Is.EqualTo(expected.InsertedAt));
            Assert.That(actual, Is.EqualTo(expected), $"event {expected.Id}");
        }
        Assert.That(
            seen.Count(e => e.Event.StoredContext.IsEmpty),
            Is.GreaterThan(0),
            "some events carry no context at all"
        );
        Assert.That(seen.Count(e => e.Event.Reason is { Length: 2000 }), Is.GreaterThan(0), "a long reason");
    }

    [Test]
    public async Task A_far_behind_follower_stops_short_of_an_open_transaction_and_delivers_it_before_later_commits()
    {
        var before = await WriteAsync(300);
        // Migrated first: creating the notify trigger would wait for the held writer.
        var name = NewName();
        var follower = new Follower(Options(name, 3), Recording(new ConcurrentQueue<Guid>(), _ => false));
        await follower.MigrateAsync();
        await using var heldConnection = await OpenAsync();
        await using var heldTx =
            Database == Db.Postgres
                ? await heldConnection.BeginTransactionAsync()
                : ((Microsoft.Data.Sqlite.SqliteConnection)heldConnection).BeginTransaction(deferred: true);
        Guid? held = null;
        if (Database == Db.Postgres)
            held = (
                await Counter.InsertAsync(new SpectorSession(heldConnection, heldTx), new Attrs { ["name"] = "held" })
            ).Id;
        else
            await heldConnection.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM \"events\"", transaction: heldTx);
        var after = (await WriteAsync(300)).Except(before).ToList();

        var first = await follower.CatchUpAsync();
        if (Database == Db.Postgres)
        {
            Assert.That(first, Is.EqualTo(300), "only what committed before the held transaction began writing");
            Assert.That(await EffectsAsync(), Is.EqualTo(before));
            Assert.That((await follower.ReadStatusAsync()).LagEvents, Is.EqualTo(300), "the later commits wait");
        }
        else
            Assert.That(first, Is.EqualTo(600), "SQLite: a read transaction holds nothing back");

        await heldTx.CommitAsync();
        var rest = await follower.CatchUpAsync();
        Assert.That(first + rest, Is.EqualTo(Database == Db.Postgres ? 601 : 600));
        var effects = await EffectsAsync();
        var expected = Database == Db.Postgres ? before.Append(held!.Value).Concat(after) : before.Concat(after);
        Assert.That(
            effects,
            Is.EqualTo(expected),
            "the held transaction's event in (tx_id, position) order, none twice"
        );
    }

    [TestCase(3)]
    [TestCase(1000)]
    public async Task Writers_committing_while_a_transactional_follower_reads_ahead_lose_nothing_and_repeat_nothing(
        int batchSize
    )
    {
        await WriteAsync(1500);
        var follower = new Follower(Options(NewName(), batchSize), Recording(new ConcurrentQueue<Guid>(), _ => false));
        await follower.MigrateAsync();
        using var stop = new CancellationTokenSource();
        var running = Task.Run(() => follower.RunAsync(stop.Token));
        await Task.WhenAll(
            Enumerable
                .Range(0, 4)
                .Select(writer =>
                    Task.Run(async () =>
                    {
                        for (var i = 0; i < 60; i++)
                        {
                            if (i % 10 == 9)
                            {
                                await using var connection = await OpenAsync();
                                await using var tx = await connection.BeginTransactionAsync();
                                var session = new SpectorSession(connection, tx);
                                var mine = await Counter.InsertAsync(session, new Attrs { ["name"] = $"t{writer}" });
                                await mine.UpdateAsync(session, new Attrs { ["by"] = 1 });
                                await Task.Delay(3);
                                await tx.CommitAsync();
                            }
                            else
                                await Counter.InsertAsync(new Attrs { ["name"] = $"w{writer}-{i}" });
                        }
                    })
                )
        );
        var logged = await LoggedIdsAsync();
        await WaitForAsync(async () => (await CountAsync("attack_effects")) >= logged.Count);
        stop.Cancel();
        await running;
        var effects = await EffectsAsync();
        Assert.That(effects, Is.EquivalentTo(logged), "every committed event's effect exactly once");
        Assert.That(effects.Distinct().Count(), Is.EqualTo(effects.Count));
    }

    private static async Task WaitForAsync(Func<Task<bool>> condition, int seconds = 60)
    {
        var deadline = DateTime.UtcNow.AddSeconds(seconds);
        while (!await condition())
        {
            if (DateTime.UtcNow > deadline)
                Assert.Fail("timed out waiting");
            await Task.Delay(20);
        }
    }

    [TestCase(3, 16)]
    [TestCase(3, 40)]
    [TestCase(1000, 1400)]
    public async Task A_rebuild_requested_while_a_read_ahead_is_half_delivered_applies_every_event_once(
        int batchSize,
        int gateAt
    )
    {
        var ids = await WriteAsync(batchSize == 3 ? 120 : 2500);
        var projection = new GatedProjection(Log, ids[gateAt]);
        await projection.MigrateAsync();
        var follower = projection.CreateFollower(o =>
            o with
            {
                BatchSize = batchSize,
                MinPollInterval = TimeSpan.FromMilliseconds(5),
                MaxPollInterval = TimeSpan.FromMilliseconds(50),
            }
        );
        using var stop = new CancellationTokenSource();
        var running = Task.Run(() => follower.RunAsync(stop.Token));
        using var patience = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await projection.Reached.Task.WaitAsync(patience.Token);
        // On its own task: on SQLite the rebuild's lease write waits synchronously for the write lock the gated
        // batch holds, so called here it would block the thread that releases the gate.
        var rebuild = Task.Run(() => projection.RebuildAsync(cancellationToken: patience.Token));
        await Task.Delay(50);
        projection.Release.SetResult();
        Assert.That(await rebuild, Is.EqualTo(ids.Count));

        var later = (await WriteAsync(10)).Except(ids).ToList();
        await WaitForAsync(async () => (await follower.ReadStatusAsync()).LagEvents == 0);
        await WaitForAsync(async () => await CountAsync("attack_projection") >= ids.Count + later.Count, 10);
        await Task.Delay(100);
        stop.Cancel();
        await running;
        var applied = await ProjectedIdsAsync();
        Assert.That(applied, Is.EquivalentTo(ids.Concat(later)), "every event once: none skipped, none twice");
    }

    [Test]
    // Found by the attack on read-ahead: the rebuild took the lease (a write) before pausing the local follower, so
    // on SQLite it timed out behind a batch holding the write lock for more than 30 s.
    public async Task A_rebuild_waits_for_a_slow_batch_of_the_local_follower_instead_of_failing()
    {
        var ids = await WriteAsync(20);
        var projection = new GatedProjection(Log, ids[5]);
        await projection.MigrateAsync();
        var follower = projection.CreateFollower(o => o with { BatchSize = 10 });
        using var stop = new CancellationTokenSource();
        var running = Task.Run(() => follower.RunAsync(stop.Token));
        await projection.Reached.Task.WaitAsync(TimeSpan.FromSeconds(30));
        var rebuild = Task.Run(() => projection.RebuildAsync());
        await Task.Delay(TimeSpan.FromSeconds(35));
        projection.Release.SetResult();
        Assert.That(await rebuild, Is.EqualTo(20), "the follower steps aside after its batch, however long it took");
        stop.Cancel();
        await running;
        Assert.That(await ProjectedIdsAsync(), Is.EquivalentTo(ids));
    }

    private async Task<List<Guid>> ProjectedIdsAsync()
    {
        await using var connection = await OpenAsync();
        return (await connection.QueryAsync<string>("SELECT \"event_id\" FROM \"attack_projection\""))
            .Select(Guid.Parse)
            .ToList();
    }

    /// <summary>Records each applied event; the first time it meets <paramref name="gate"/> it waits for the test,
    /// holding the follower in the middle of a read.</summary>
    private sealed class GatedProjection(EventLog log, Guid gate)
        : Projection("attack-" + Guid.NewGuid().ToString("N")[..8], log)
    {
        private int _gated;
        public TaskCompletionSource Reached { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
        public TaskCompletionSource Release { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public override IReadOnlyList<string> CreateSql(SqlDialect dialect) =>
            ["CREATE TABLE IF NOT EXISTS \"attack_projection\" (\"event_id\" text NOT NULL)"];

        public override IReadOnlyList<string> ClearSql(SqlDialect dialect) => ["DELETE FROM \"attack_projection\""];

        public override async Task ApplyAsync(
            FollowedEvent followed,
            SpectorSession session,
            CancellationToken cancellationToken
        )
        {
            await session.Connection.ExecuteAsync(
                new CommandDefinition(
                    "INSERT INTO \"attack_projection\" (\"event_id\") VALUES (@id)",
                    new { id = followed.Id.ToString() },
                    session.Transaction,
                    cancellationToken: cancellationToken
                )
            );
            if (followed.Id == gate && Interlocked.Exchange(ref _gated, 1) == 0)
            {
                Reached.SetResult();
                await Release.Task;
            }
        }
    }
}
