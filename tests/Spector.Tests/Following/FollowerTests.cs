using System.Collections.Concurrent;
using Dapper;

namespace Spector.Tests;

/// <summary>Followers deliver every committed event once caught up and live, in each record's order, and stop
/// clearly.</summary>
[TestFixture(Db.Sqlite)]
[TestFixture(Db.Postgres)]
public sealed class FollowerTests(Db db) : DatabaseTest(db)
{
    /// <summary>Checkpoints left by an earlier test would point past the recreated events table.</summary>
    [SetUp]
    public Task DropCheckpointsAsync() =>
        ExecuteRawAsync(
            "DROP TABLE IF EXISTS \"spector_followers\"; DROP TABLE IF EXISTS \"spector_follower_positions\""
        );

    private static string NewName() => "f_" + Guid.NewGuid().ToString("N")[..12];

    private FollowerOptions Options(string name) =>
        new(name, Log)
        {
            MinPollInterval = TimeSpan.FromMilliseconds(5),
            MaxPollInterval = TimeSpan.FromMilliseconds(100),
            FirstRetryDelay = TimeSpan.FromMilliseconds(5),
            LeaseDuration = TimeSpan.FromSeconds(5),
        };

    private async Task<List<(Guid Id, Guid Record, long Seq, long Position)>> LoggedEventsAsync()
    {
        await using var connection = await OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText =
            "SELECT \"id\", \"parent_id\", \"seq\", \"position\" FROM \"events\" ORDER BY \"position\"";
        var rows = new List<(Guid, Guid, long, long)>();
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
            rows.Add((reader.GetGuid(0), reader.GetGuid(1), reader.GetInt64(2), reader.GetInt64(3)));
        return rows;
    }

    [Test]
    public async Task Catch_up_delivers_every_event_once_in_record_order_and_the_checkpoint_survives_a_new_instance()
    {
        var counters = new List<Counter>();
        for (var i = 0; i < 5; i++)
            counters.Add(await Counter.InsertAsync(new Attrs { ["name"] = $"c{i}" }));
        for (var round = 0; round < 4; round++)
            foreach (var c in counters)
                await c.UpdateAsync(new Attrs { ["by"] = round + 1 });
        await Note.InsertAsync(new Attrs { ["title"] = "other schema" });

        var name = NewName();
        var seen = new List<FollowedEvent>();
        var follower = new Follower(
            Options(name),
            (e, _) =>
            {
                seen.Add(e);
                return Task.CompletedTask;
            }
        );
        await follower.MigrateAsync();
        Assert.That(await follower.CatchUpAsync(), Is.EqualTo(26));

        var logged = await LoggedEventsAsync();
        Assert.That(seen.Select(e => e.Id), Is.EquivalentTo(logged.Select(e => e.Id)));
        foreach (var record in seen.GroupBy(e => e.RecordId))
            Assert.That(
                record.Select(e => e.Event.Seq),
                Is.EqualTo(Enumerable.Range(1, record.Count()).Select(i => (long)i))
            );
        Assert.That(
            seen.First(e => e.Event.Schema == 1).Event.ReadAttrs()["name"]!.GetValue<string>(),
            Is.EqualTo("c0")
        );

        await counters[0].UpdateAsync(new Attrs { ["by"] = 9 });
        var again = new List<FollowedEvent>();
        var second = new Follower(
            Options(name),
            (e, _) =>
            {
                again.Add(e);
                return Task.CompletedTask;
            }
        );
        Assert.That(await second.CatchUpAsync(), Is.EqualTo(1), "a new instance resumes from the stored checkpoint");
        Assert.That(again.Single().Event.Seq, Is.EqualTo(6));

        var status = await second.ReadStatusAsync();
        Assert.That(status.Processed, Is.EqualTo(27));
        Assert.That(status.LagEvents, Is.EqualTo(0));
        Assert.That(status.Lag, Is.EqualTo(TimeSpan.Zero));
        Assert.That(status.Tables.Single().Position, Is.EqualTo((await LoggedEventsAsync()).Max(e => e.Position)));
        Assert.That(status.LeaseHeld, Is.False, "a finished catch-up releases its lease");
    }

    [Test]
    public async Task Each_context_column_reaches_the_handler_even_when_it_is_the_only_one_stored()
    {
        // The batch read skips the context columns of an event that has none: each column alone must still count.
        string[] columns =
        [
            "actor_type",
            "actor_id",
            "correlation_id",
            "causation_id",
            "reason",
            "trace_id",
            "span_id",
        ];
        var counter = await Counter.InsertAsync(new Attrs { ["name"] = "ctx" });
        for (var i = 0; i < columns.Length + 1; i++)
            await counter.UpdateAsync(new Attrs { ["by"] = i + 1 });
        await DropAppendOnlyTriggersAsync();
        for (var i = 0; i < columns.Length; i++)
            await ExecuteRawAsync(
                $"UPDATE \"events\" SET \"{columns[i]}\" = @value WHERE \"seq\" = @seq",
                new { value = $"v{i}", seq = i + 1 }
            );
        await ExecuteRawAsync(
            "UPDATE \"events\" SET "
                + string.Join(", ", columns.Select(c => $"\"{c}\" = 'all-{c}'"))
                + " WHERE \"seq\" = @seq",
            new { seq = columns.Length + 1 }
        );

        var seen = new ConcurrentDictionary<long, StoredContext>();
        var follower = new Follower(
            Options(NewName()),
            (e, _) =>
            {
                seen[e.Event.Seq] = e.Event.StoredContext;
                return Task.CompletedTask;
            }
        );
        await follower.MigrateAsync();
        Assert.That(await follower.CatchUpAsync(), Is.EqualTo(columns.Length + 2));

        for (var i = 0; i < columns.Length; i++)
        {
            string?[] only = new string?[columns.Length];
            only[i] = $"v{i}";
            Assert.That(
                seen[i + 1],
                Is.EqualTo(new StoredContext(only[0], only[1], only[2], only[3], only[4], only[5], only[6])),
                columns[i]
            );
        }
        Assert.That(
            seen[columns.Length + 1],
            Is.EqualTo(
                new StoredContext(
                    "all-actor_type",
                    "all-actor_id",
                    "all-correlation_id",
                    "all-causation_id",
                    "all-reason",
                    "all-trace_id",
                    "all-span_id"
                )
            )
        );
        Assert.That(seen[columns.Length + 2].IsEmpty, Is.True);
    }

    [Test]
    public async Task A_filter_delivers_only_the_chosen_schemas_and_actions_but_passes_the_others()
    {
        var counter = await Counter.InsertAsync(new Attrs { ["name"] = "c" });
        await counter.UpdateAsync(new Attrs { ["by"] = 1 });
        await Note.InsertAsync(new Attrs { ["title"] = "n" });
        await counter.DeleteAsync();

        var seen = new List<string?>();
        var follower = new Follower(
            Options(NewName()) with
            {
                Schemas = [1],
                Actions = ["insert", "delete"],
            },
            (e, _) =>
            {
                seen.Add(e.Event.Action);
                return Task.CompletedTask;
            }
        );
        await follower.MigrateAsync();
        Assert.That(await follower.CatchUpAsync(), Is.EqualTo(4));
        Assert.That(seen, Is.EqualTo(new[] { "insert", "delete" }));
        Assert.That((await follower.ReadStatusAsync()).Processed, Is.EqualTo(4));
    }

    [Test]
    public async Task A_follower_started_at_the_end_sees_only_later_events()
    {
        await Counter.InsertAsync(new Attrs { ["name"] = "old" });
        var seen = new List<FollowedEvent>();
        var follower = new Follower(
            Options(NewName()),
            (e, _) =>
            {
                seen.Add(e);
                return Task.CompletedTask;
            }
        );
        await follower.MigrateAsync();
        await follower.StartAtEndAsync();
        var fresh = await Counter.InsertAsync(new Attrs { ["name"] = "new" });
        Assert.That(await follower.CatchUpAsync(), Is.EqualTo(1));
        Assert.That(seen.Single().RecordId, Is.EqualTo(fresh.Id));
    }

    [Test]
    public async Task A_failing_handler_is_retried_then_the_follower_stops_at_that_event_and_resumes_there_once_fixed()
    {
        var counters = new List<Counter>();
        for (var i = 0; i < 6; i++)
            counters.Add(await Counter.InsertAsync(new Attrs { ["name"] = $"c{i}" }));
        var poison = counters[3].Id;
        var calls = new ConcurrentDictionary<Guid, int>();
        var broken = true;
        var delivered = new List<Guid>();
        var name = NewName();
        var follower = new Follower(
            Options(name) with
            {
                MaxAttempts = 3,
                BatchSize = 100,
            },
            (e, _) =>
            {
                calls.AddOrUpdate(e.RecordId, 1, (_, n) => n + 1);
                if (broken && e.RecordId == poison)
                    throw new InvalidOperationException("projection store is down");
                delivered.Add(e.RecordId);
                return Task.CompletedTask;
            }
        );
        await follower.MigrateAsync();

        var error = Assert.ThrowsAsync<FollowerFailedException>(() => follower.CatchUpAsync());
        Assert.That(error!.EventId, Is.EqualTo(poison), "the insert event's id is the record id");
        Assert.That(error.Attempts, Is.EqualTo(3));
        Assert.That(error.Follower, Is.EqualTo(name));
        Assert.That(error.InnerException, Is.TypeOf<InvalidOperationException>());
        Assert.That(follower.State, Is.EqualTo(FollowerState.Failed));
        Assert.That(calls[poison], Is.EqualTo(3));
        Assert.That(
            delivered,
            Is.EqualTo(counters.Take(3).Select(c => c.Id)),
            "nothing after the failing event was delivered"
        );

        var status = await follower.ReadStatusAsync();
        Assert.That(status.FailedEventId, Is.EqualTo(poison));
        Assert.That(status.FailedAttempts, Is.EqualTo(3));
        Assert.That(status.LastError, Does.Contain("projection store is down"));
        Assert.That(status.Processed, Is.EqualTo(3), "the events before it are behind the checkpoint");
        Assert.That(status.LagEvents, Is.EqualTo(3));

        broken = false;
        Assert.That(await follower.CatchUpAsync(), Is.EqualTo(3));
        Assert.That(
            delivered,
            Is.EqualTo(counters.Select(c => c.Id)),
            "it resumes at the failed event, skipping nothing"
        );
        status = await follower.ReadStatusAsync();
        Assert.That(status.FailedEventId, Is.Null);
        Assert.That(status.FailedAttempts, Is.EqualTo(0));
        Assert.That(status.LastError, Is.Null, "a follower that moved past the event has recovered");
    }

    [Test]
    public async Task A_live_follower_that_recovers_from_a_flaky_handler_clears_its_last_error()
    {
        var counters = new List<Counter>();
        for (var i = 0; i < 4; i++)
            counters.Add(await Counter.InsertAsync(new Attrs { ["name"] = $"c{i}" }));
        var failures = 0;
        var delivered = new ConcurrentQueue<Guid>();
        var name = NewName();
        var follower = new Follower(
            Options(name) with
            {
                MaxAttempts = 5,
            },
            (e, _) =>
            {
                if (e.RecordId == counters[1].Id && Interlocked.Increment(ref failures) <= 2)
                    throw new TimeoutException("flaky");
                delivered.Enqueue(e.RecordId);
                return Task.CompletedTask;
            }
        );
        await follower.MigrateAsync();
        using var stop = new CancellationTokenSource();
        var running = follower.RunAsync(stop.Token);
        await WaitForAsync(() => delivered.Count == 4);
        await Counter.InsertAsync(new Attrs { ["name"] = "later" });
        await WaitForAsync(async () => (await follower.ReadStatusAsync()).LagEvents == 0);
        var status = await follower.ReadStatusAsync();
        stop.Cancel();
        await running;
        Assert.That(failures, Is.EqualTo(3));
        Assert.That(status.LastError, Is.Null, "the error of two failed attempts is gone once the event went through");
        Assert.That(status.FailedEventId, Is.Null);
        Assert.That(status.FailedAttempts, Is.EqualTo(0));
        Assert.That(delivered, Has.Count.EqualTo(5));
    }

    [Test]
    public async Task A_failing_transactional_handler_commits_the_events_before_it_and_none_of_its_partial_effects()
    {
        await using (var connection = await OpenAsync())
        {
            await connection.ExecuteAsync("DROP TABLE IF EXISTS \"seen_events\"");
            await connection.ExecuteAsync("CREATE TABLE \"seen_events\" (\"event_id\" text NOT NULL)");
        }
        var counters = new List<Counter>();
        for (var i = 0; i < 5; i++)
            counters.Add(await Counter.InsertAsync(new Attrs { ["name"] = $"c{i}" }));
        var failures = 0;
        var follower = new Follower(
            Options(NewName()) with
            {
                MaxAttempts = 3,
            },
            async (e, session, ct) =>
            {
                await session.Connection.ExecuteAsync(
                    new CommandDefinition(
                        "INSERT INTO \"seen_events\" (\"event_id\") VALUES (@id)",
                        new { id = e.Id.ToString() },
                        session.Transaction,
                        cancellationToken: ct
                    )
                );
                if (e.RecordId == counters[2].Id && failures++ < 2)
                    throw new TimeoutException("flaky");
            }
        );
        await follower.MigrateAsync();
        Assert.That(await follower.CatchUpAsync(), Is.EqualTo(5));
        Assert.That(failures, Is.EqualTo(3), "two failures, then success on the third attempt");
        await using var check = await OpenAsync();
        var rows = (await check.QueryAsync<string>("SELECT \"event_id\" FROM \"seen_events\"")).ToList();
        Assert.That(
            rows,
            Is.EquivalentTo(counters.Select(c => c.Id.ToString())),
            "each effect exactly once: failed attempts rolled back"
        );
    }

    [Test]
    public async Task A_follower_far_behind_reads_several_batches_at_once_but_commits_and_stops_batch_by_batch()
    {
        // 40 events with batches of 3: reads grow to 6, 12 and 24 events, each split into batches of 3.
        var counters = new List<Counter>();
        for (var i = 0; i < 40; i++)
            counters.Add(await Counter.InsertAsync(new Attrs { ["name"] = $"c{i}" }));
        var transactions = new List<SpectorSession>();
        var transactional = new Follower(
            Options(NewName()) with
            {
                BatchSize = 3,
            },
            (_, session, _) =>
            {
                transactions.Add(session);
                return Task.CompletedTask;
            }
        );
        await transactional.MigrateAsync();
        Assert.That(await transactional.CatchUpAsync(), Is.EqualTo(40));
        var commits = new List<int>();
        for (var i = 0; i < transactions.Count; i++)
            if (i > 0 && ReferenceEquals(transactions[i], transactions[i - 1]))
                commits[^1]++;
            else
                commits.Add(1);
        Assert.That(
            commits,
            Is.EqualTo(Enumerable.Repeat(3, 13).Append(1)),
            "one transaction per batch of 3, whatever a read took"
        );

        // A failure in the middle of a large read (event 17 of 40 is in the third read, events 10 to 21) stops the
        // follower right before it, and it resumes there.
        var poison = counters[16].Id;
        var broken = true;
        var delivered = new List<Guid>();
        var plain = new Follower(
            Options(NewName()) with
            {
                BatchSize = 3,
                MaxAttempts = 2,
                CheckpointInterval = TimeSpan.FromHours(1),
            },
            (e, _) =>
            {
                if (broken && e.RecordId == poison)
                    throw new InvalidOperationException("down");
                delivered.Add(e.RecordId);
                return Task.CompletedTask;
            }
        );
        await plain.MigrateAsync();
        var error = Assert.ThrowsAsync<FollowerFailedException>(() => plain.CatchUpAsync());
        Assert.That(error!.EventId, Is.EqualTo(poison));
        Assert.That(delivered, Is.EqualTo(counters.Take(16).Select(c => c.Id)));
        Assert.That((await plain.ReadStatusAsync()).Processed, Is.EqualTo(16), "the checkpoint is right before it");
        broken = false;
        Assert.That(await plain.CatchUpAsync(), Is.EqualTo(24));
        Assert.That(delivered, Is.EqualTo(counters.Select(c => c.Id)), "nothing skipped, nothing twice");
    }

    [Test]
    public async Task Two_instances_of_one_follower_never_both_deliver_and_the_standby_takes_over_when_the_first_stops()
    {
        await using (var connection = await OpenAsync())
        {
            await connection.ExecuteAsync("DROP TABLE IF EXISTS \"seen_events\"");
            await connection.ExecuteAsync(
                "CREATE TABLE \"seen_events\" (\"event_id\" text NOT NULL, \"instance\" integer NOT NULL)"
            );
        }
        var name = NewName();
        Follower Instance(int number) =>
            new(
                Options(name),
                async (e, session, ct) =>
                    await session.Connection.ExecuteAsync(
                        new CommandDefinition(
                            "INSERT INTO \"seen_events\" (\"event_id\", \"instance\") VALUES (@id, @number)",
                            new { id = e.Id.ToString(), number },
                            session.Transaction,
                            cancellationToken: ct
                        )
                    )
            );
        var first = Instance(1);
        var second = Instance(2);
        await first.MigrateAsync();
        using var stopFirst = new CancellationTokenSource();
        using var stopSecond = new CancellationTokenSource();
        var runFirst = first.RunAsync(stopFirst.Token);
        await WaitForAsync(() => first.State == FollowerState.Running);
        var runSecond = second.RunAsync(stopSecond.Token);
        await WaitForAsync(() => second.State == FollowerState.Standby);

        for (var i = 0; i < 30; i++)
            await Counter.InsertAsync(new Attrs { ["name"] = $"c{i}" });
        await WaitForAsync(async () => await CountAsync("seen_events") == 30);
        Assert.That(
            await CountAsync("seen_events", "\"instance\" = 2"),
            Is.EqualTo(0),
            "the standby delivered nothing"
        );

        stopFirst.Cancel();
        await runFirst;
        await WaitForAsync(() => second.State == FollowerState.Running);
        for (var i = 0; i < 10; i++)
            await Counter.InsertAsync(new Attrs { ["name"] = $"d{i}" });
        await WaitForAsync(async () => await CountAsync("seen_events") == 40);
        stopSecond.Cancel();
        await runSecond;
        Assert.That(await CountAsync("seen_events", "\"instance\" = 2"), Is.EqualTo(10));
        await using var check = await OpenAsync();
        Assert.That(
            await check.ExecuteScalarAsync<long>("SELECT COUNT(DISTINCT \"event_id\") FROM \"seen_events\""),
            Is.EqualTo(40)
        );
    }

    [Test]
    public async Task Of_two_instances_only_the_lease_holder_reports_running_and_the_other_names_it_even_on_long_polls()
    {
        var name = NewName();
        // Idle polls three times as long as the lease: an instance that slept through its renewal lost the lease
        // to the standby while still reporting Running.
        var options = Options(name) with
        {
            LeaseDuration = TimeSpan.FromSeconds(1),
            MaxPollInterval = TimeSpan.FromSeconds(3),
        };
        var first = new Follower(options, (_, _) => Task.CompletedTask);
        var second = new Follower(options, (_, _) => Task.CompletedTask);
        await first.MigrateAsync();
        using var stop = new CancellationTokenSource();
        var runFirst = first.RunAsync(stop.Token);
        await WaitForAsync(() => first.State == FollowerState.Running);
        var runSecond = second.RunAsync(stop.Token);
        await WaitForAsync(() => second.State == FollowerState.Standby);

        var both = 0;
        var takeovers = 0;
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var wasFirst = true;
        while (clock.Elapsed < TimeSpan.FromSeconds(5))
        {
            var (a, b) = (first.State, second.State);
            if (a == FollowerState.Running && b == FollowerState.Running)
                both++;
            if (b == FollowerState.Running && wasFirst)
                takeovers++;
            wasFirst = a == FollowerState.Running;
            await Task.Delay(5);
        }
        Assert.That(both, Is.EqualTo(0), "two instances never both report Running");
        Assert.That(takeovers, Is.EqualTo(0), "an idle holder renews its lease in time: the standby never takes over");
        Assert.That(first.State, Is.EqualTo(FollowerState.Running));
        Assert.That(first.Holder, Is.EqualTo(first.InstanceId));
        Assert.That(second.State, Is.EqualTo(FollowerState.Standby));
        Assert.That(second.Holder, Is.EqualTo(first.InstanceId), "the standby names the holder");
        Assert.That((await second.ReadStatusAsync()).Owner, Is.EqualTo(first.InstanceId));
        stop.Cancel();
        await Task.WhenAll(runFirst, runSecond);
        Assert.That(first.State, Is.EqualTo(FollowerState.Stopped));
        Assert.That(second.Holder, Is.Null, "a stopped instance knows of no holder");
    }

    [Test]
    public async Task A_follower_whose_lease_was_taken_over_commits_nothing_more()
    {
        for (var i = 0; i < 4; i++)
            await Counter.InsertAsync(new Attrs { ["name"] = $"c{i}" });
        var name = NewName();
        var seenByFirst = new List<Guid>();
        var first = new Follower(
            Options(name) with
            {
                BatchSize = 2,
            },
            async (e, _) =>
            {
                seenByFirst.Add(e.Id);
                if (seenByFirst.Count != 3)
                    return;
                // Another process takes the lease (as if ours had lapsed) while we are mid-batch.
                await ExecuteRawAsync(
                    "UPDATE \"spector_followers\" SET \"owner\" = 'rival' WHERE \"name\" = @name",
                    new { name }
                );
            }
        );
        await first.MigrateAsync();
        Assert.That(
            await first.CatchUpAsync(),
            Is.EqualTo(2),
            "the first batch committed; the second found the lease gone"
        );
        var rival = new Follower(Options(name), (_, _) => Task.CompletedTask);
        var status = await rival.ReadStatusAsync();
        Assert.That(status.Owner, Is.EqualTo("rival"));
        Assert.That(status.Processed, Is.EqualTo(2));
        Assert.That(
            seenByFirst,
            Has.Count.EqualTo(4),
            "events 3 and 4 reached the handler, so they stay for the new holder"
        );
        Assert.That(status.LagEvents, Is.EqualTo(2));
    }

    private static async Task WaitForAsync(Func<bool> condition) =>
        await WaitForAsync(() => Task.FromResult(condition()));

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
}
