using Followers;

namespace Spector.Tests;

/// <summary>A projection across records, async (a follower) and inline (the write's transaction), rebuilt from zero.</summary>
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
        for (var i = 0; i < 60; i++) await PlaceAsync(random);
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
        for (var i = 0; i < 5; i++) await PlaceAsync(random);
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
            for (var i = 0; i < 20; i++) await PlaceAsync(random);
            Assert.That(await ProjectedAsync(), Is.EqualTo(await ExpectedAsync()), "up to date the moment each write returns");

            await using (var connection = await OpenAsync())
            await using (var tx = await connection.BeginTransactionAsync())
            {
                await PlaceAsync(random, new SpectorSession(connection, tx));
                await tx.RollbackAsync();
            }
            Assert.That((await ProjectedAsync()).Sum(r => r.Orders), Is.EqualTo(20), "a rolled-back write leaves no trace");

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

    /// <summary>Records reports on the reporting thread (Progress&lt;T&gt; would post them later).</summary>
    private sealed class SyncProgress(List<long> reports) : IProgress<long>
    {
        public void Report(long value) => reports.Add(value);
    }
}
