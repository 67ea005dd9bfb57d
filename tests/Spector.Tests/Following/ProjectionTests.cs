using Followers;

namespace Spector.Tests;

/// <summary>A projection across records, async (a follower) and inline (the write's transaction), rebuilt from
/// zero.</summary>
[TestFixture(Db.Sqlite)]
[TestFixture(Db.Postgres)]
public sealed class ProjectionTests(Db db) : ShopTest(db)
{
    [Test]
    public async Task The_async_form_follows_every_order_and_a_rebuild_from_zero_gives_the_same_rows()
    {
        var projection = new OrdersPerCustomerDay();
        await projection.MigrateAsync();
        var random = new Random(3);
        for (var i = 0; i < 60; i++)
            await PlaceAsync(random);
        var follower = projection.CreateFollower(o => o with { BatchSize = 16 });
        Assert.That(await follower.CatchUpAsync(), Is.EqualTo(60));
        var expected = await ExpectedAsync();
        Assert.That(expected.Sum(r => r.Orders), Is.EqualTo(60));
        Assert.That(await ProjectedAsync(), Is.EqualTo(expected));

        // Damage the projection, then rebuild it: every row comes back from the log.
        await ExecuteRawAsync($"UPDATE \"{OrdersPerCustomerDay.Table}\" SET \"orders\" = 999");
        var reports = new List<long>();
        Assert.That(await projection.RebuildAsync(new SyncProgress(reports)), Is.EqualTo(60));
        Assert.That(await ProjectedAsync(), Is.EqualTo(expected));
        Assert.That(reports, Is.Not.Empty);
        Assert.That(reports[^1], Is.EqualTo(60));

        // The rebuild moved the follower's checkpoint too: nothing is applied twice afterwards.
        for (var i = 0; i < 5; i++)
            await PlaceAsync(random);
        Assert.That(await follower.CatchUpAsync(), Is.EqualTo(5));
        Assert.That(await ProjectedAsync(), Is.EqualTo(await ExpectedAsync()));
    }

    [Test]
    public async Task The_inline_form_commits_and_rolls_back_with_the_write_and_a_failing_projection_fails_the_write()
    {
        var projection = new OrdersPerCustomerDay();
        await projection.MigrateAsync();
        ShopEvents.Log.AddInlineProjection(projection);
        try
        {
            var random = new Random(5);
            for (var i = 0; i < 20; i++)
                await PlaceAsync(random);
            Assert.That(
                await ProjectedAsync(),
                Is.EqualTo(await ExpectedAsync()),
                "up to date the moment each write returns"
            );

            await using (var connection = await OpenAsync())
            await using (var tx = await connection.BeginTransactionAsync())
            {
                await PlaceAsync(random, new SpectorSession(connection, tx));
                await tx.RollbackAsync();
            }
            Assert.That(
                (await ProjectedAsync()).Sum(r => r.Orders),
                Is.EqualTo(20),
                "a rolled-back write leaves no trace"
            );

            await ExecuteRawAsync($"DROP TABLE \"{OrdersPerCustomerDay.Table}\"");
            Assert.That(async () => await PlaceAsync(random), Throws.InstanceOf<System.Data.Common.DbException>());
            Assert.That(await CountAsync("shop_events"), Is.EqualTo(20), "the failed projection refused the write");
        }
        finally
        {
            Assert.That(ShopEvents.Log.RemoveInlineProjection(projection), Is.True);
        }
        await projection.MigrateAsync();
        Assert.That(await projection.RebuildAsync(), Is.EqualTo(20));
        Assert.That(await ProjectedAsync(), Is.EqualTo(await ExpectedAsync()));
    }

    [Test]
    public async Task A_rebuild_while_the_projections_follower_runs_in_this_process_pauses_it_rebuilds_and_resumes_it()
    {
        var projection = new OrdersPerCustomerDay();
        await projection.MigrateAsync();
        var random = new Random(7);
        for (var i = 0; i < 40; i++)
            await PlaceAsync(random);
        var lines = new System.Collections.Concurrent.ConcurrentQueue<string>();
        var follower = projection.CreateFollower(o =>
            o with
            {
                MinPollInterval = TimeSpan.FromMilliseconds(5),
                MaxPollInterval = TimeSpan.FromMilliseconds(200),
                Log = lines.Enqueue,
            }
        );
        using var stop = new CancellationTokenSource();
        var running = follower.RunAsync(stop.Token);
        await WaitForAsync(async () =>
            (await follower.ReadStatusAsync()).LagEvents == 0 && follower.State == FollowerState.Running
        );
        await ExecuteRawAsync($"UPDATE \"{OrdersPerCustomerDay.Table}\" SET \"orders\" = 999");

        // Before the fix this waited forever for the lease the running follower kept renewing.
        using var patience = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        Assert.That(await projection.RebuildAsync(cancellationToken: patience.Token), Is.EqualTo(40));
        Assert.That(await ProjectedAsync(), Is.EqualTo(await ExpectedAsync()));
        Assert.That(lines, Has.Some.Contains("stepped aside"));

        // The same RunAsync carries on from the rebuilt checkpoint: new orders once, old ones not again.
        for (var i = 0; i < 15; i++)
            await PlaceAsync(random);
        await WaitForAsync(async () => (await follower.ReadStatusAsync()).LagEvents == 0);
        Assert.That(follower.State, Is.EqualTo(FollowerState.Running));
        Assert.That(await ProjectedAsync(), Is.EqualTo(await ExpectedAsync()));
        Assert.That((await ProjectedAsync()).Sum(r => r.Orders), Is.EqualTo(55));
        stop.Cancel();
        await running;
    }

    [Test]
    public async Task A_rebuild_while_another_process_holds_the_follower_fails_at_once_naming_the_holder()
    {
        var projection = new OrdersPerCustomerDay();
        await projection.MigrateAsync();
        for (var i = 0; i < 5; i++)
            await PlaceAsync(new Random(i));
        // Another process's follower: a lease that will not lapse during the test.
        await ExecuteRawAsync(
            "UPDATE \"spector_followers\" SET \"owner\" = 'other-process', \"lease_expires_at\" = 99999999999999"
        );
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var error = Assert.ThrowsAsync<FollowerBusyException>(() => projection.RebuildAsync());
        Assert.That(
            clock.Elapsed,
            Is.LessThan(TimeSpan.FromSeconds(20)),
            "fails fast rather than waiting for the lease"
        );
        Assert.That(error!.Holder, Is.EqualTo("other-process"));
        Assert.That(error.Follower, Is.EqualTo("projection:" + projection.Name));
        Assert.That(error.Message, Does.Contain("other-process").And.Contain("Stop that instance"));
        Assert.That(await ProjectedAsync(), Is.Empty, "nothing was applied");
    }

    [Test]
    public async Task A_rebuild_cancelled_while_the_follower_is_busy_stepping_aside_leaves_the_follower_running()
    {
        var projection = new OrdersPerCustomerDay();
        await projection.MigrateAsync();
        var random = new Random(9);
        for (var i = 0; i < 10; i++)
            await PlaceAsync(random);
        var gate = new TaskCompletionSource();
        gate.SetResult();
        var stuck = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var follower = new Follower(
            new FollowerOptions("projection:" + projection.Name, ShopEvents.Log)
            {
                MinPollInterval = TimeSpan.FromMilliseconds(5),
                MaxPollInterval = TimeSpan.FromMilliseconds(50),
            },
            async (e, ct) =>
            {
                // A plain handler: stuck, it holds the lease but no transaction (SQLite's write lock stays free).
                if (!gate.Task.IsCompleted)
                    stuck.TrySetResult();
                await gate.Task.WaitAsync(ct);
                await using var connection = await OpenAsync();
                await using var tx = await connection.BeginTransactionAsync(ct);
                await projection.ApplyAsync(e, new SpectorSession(connection, tx), ct);
                await tx.CommitAsync(ct);
            }
        );
        using var stop = new CancellationTokenSource();
        var running = follower.RunAsync(stop.Token);
        await WaitForAsync(async () => (await follower.ReadStatusAsync()).LagEvents == 0);

        // The follower is stuck in its handler (holding the lease) when the rebuild asks it to step aside.
        gate = new TaskCompletionSource();
        await PlaceAsync(random);
        await stuck.Task.WaitAsync(TimeSpan.FromSeconds(30));
        using var patience = new CancellationTokenSource(TimeSpan.FromMilliseconds(500));
        Assert.That(
            async () => await projection.RebuildAsync(cancellationToken: patience.Token),
            Throws.InstanceOf<OperationCanceledException>()
        );
        gate.SetResult();
        await PlaceAsync(random);
        await WaitForAsync(async () => (await follower.ReadStatusAsync()).LagEvents == 0);
        Assert.That(follower.State, Is.EqualTo(FollowerState.Running), "the cancelled pause was withdrawn");
        Assert.That(await ProjectedAsync(), Is.EqualTo(await ExpectedAsync()));
        Assert.That((await ProjectedAsync()).Sum(r => r.Orders), Is.EqualTo(12));
        stop.Cancel();
        await running;
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

    /// <summary>Records reports on the reporting thread (Progress&lt;T&gt; would post them later).</summary>
    private sealed class SyncProgress(List<long> reports) : IProgress<long>
    {
        public void Report(long value) => reports.Add(value);
    }
}
