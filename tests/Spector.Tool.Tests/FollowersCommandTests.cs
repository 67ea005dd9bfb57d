using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;
using Spector.Testing;
using Spector.Tool;
using WebApi;

namespace Spector.Tests.Tool;

/// <summary>
/// <c>spector followers</c> inside an app: the followers its container holds, with checkpoint and lag as stored,
/// read through the store AddSpector registered.
/// </summary>
[TestFixture(Db.Sqlite)]
[TestFixture(Db.Postgres)]
[NonParallelizable]
public sealed class FollowersCommandTests(Db db)
{
    [OneTimeSetUp]
    public void RequireDatabase()
    {
        if (db == Db.Postgres)
            PostgresServer.Require();
    }

    [Test]
    public async Task Followers_shows_each_registered_followers_checkpoint_and_lag()
    {
        var file = Path.Combine(Path.GetTempPath(), $"spector-followers-{Guid.NewGuid():N}.db");
        await using var schema =
            db == Db.Postgres ? await PostgresSchema.CreateAsync(PostgresServer.ConnectionString) : null;
        try
        {
            var services = new ServiceCollection()
                .AddLogging()
                .AddSpector(o =>
                {
                    o.Dialect = db == Db.Postgres ? SqlDialect.PostgreSql : SqlDialect.Sqlite;
                    o.ConnectionString = schema?.DataSource.ConnectionString ?? $"Data Source={file}";
                    o.EventsTables.Add(BankEvents.Log);
                });
            var handled = 0;
            // Built after the store, which AddSpector makes the table's default: the follower reads through it.
            services.AddSingleton(sp =>
            {
                sp.GetRequiredService<SpectorStore>();
                return new Follower(
                    new FollowerOptions("statements", BankEvents.Log) { UseNotifications = false },
                    (_, _) => Task.FromResult(Interlocked.Increment(ref handled))
                );
            });
            await using var provider = services.BuildServiceProvider();
            var (output, error) = (new StringWriter(), new StringWriter());
            var console = new ToolConsole(output, error, interactive: false);

            await using var withoutFollowers = new ServiceCollection()
                .AddLogging()
                .AddSpector(o =>
                {
                    o.ConnectionString = $"Data Source={file}";
                    o.EventsTables.Add(BankEvents.Log);
                })
                .BuildServiceProvider();
            var none = await withoutFollowers.RunSpectorCommandAsync(["followers"], console);
            Assert.That((none, output.ToString().Trim()), Is.EqualTo((0, "no followers registered")));
            output.GetStringBuilder().Clear();

            Assert.That(await provider.RunSpectorCommandAsync(["migrate"], console), Is.EqualTo(0), error.ToString());
            var store = provider.GetRequiredService<SpectorStore>();
            var account = await Account.InsertAsync(store, new Attrs { ["owner"] = "Ann" });
            account = await account.DepositAsync(store, 5m);
            var follower = provider.GetRequiredService<Follower>();
            await follower.MigrateAsync();
            await follower.CatchUpAsync();
            await account.DepositAsync(store, 1m);
            await account.DepositAsync(store, 1m);
            await account.DepositAsync(store, 1m);
            output.GetStringBuilder().Clear();

            var code = await provider.RunSpectorCommandAsync(["followers"], console);

            Assert.That(code, Is.EqualTo(0), error.ToString());
            var lines = output.ToString().Trim().Split('\n');
            Assert.That(lines[0], Is.EqualTo("follower\tlease\tprocessed\tlag (events)\tlag\tlast error"));
            Assert.That(lines[1].Split('\t')[..4], Is.EqualTo(new[] { "statements", "free", "2", "3" }));
            Assert.That(handled, Is.EqualTo(2));
        }
        finally
        {
            SqliteConnection.ClearAllPools();
            foreach (var suffix in new[] { "", "-wal", "-shm" })
                File.Delete(file + suffix);
        }
    }
}
