using System.Diagnostics;
using Followers;
using Microsoft.Data.Sqlite;

namespace Spector.Tests;

/// <summary>
/// The Followers sample's follower run as a real child process, killed at random points again and again while
/// writers run: it resumes without losing an order or counting one twice.
/// </summary>
[TestFixture(Db.Sqlite)]
[TestFixture(Db.Postgres)]
public sealed class FollowerProcessTests(Db db) : ShopTest(db)
{
    private const int Kills = 20;

    private async Task<string> ConnectionStringAsync()
    {
        if (Database == Db.Postgres)
            return PostgresServer.DataSource.ConnectionString;
        await using var connection = await OpenAsync();
        return $"Data Source={((SqliteConnection)connection).DataSource}";
    }

    [Test]
    public async Task A_follower_process_killed_at_random_points_resumes_without_loss_or_double_effect()
    {
        var projection = new OrdersPerCustomerDay();
        await projection.MigrateAsync();
        var random = new Random(11);
        for (var i = 0; i < 150; i++)
            await PlaceAsync(random);
        using var stopWriting = new CancellationTokenSource();
        var writer = Task.Run(async () =>
        {
            var own = new Random(12);
            while (!stopWriting.IsCancellationRequested)
            {
                await PlaceAsync(own);
                await Task.Delay(own.Next(0, 10));
            }
        });

        var connectionString = await ConnectionStringAsync();
        var follower = projection.CreateFollower();
        var progress = new List<long>();
        for (var kill = 0; kill < Kills; kill++)
        {
            using var child = FollowersSample.Start(
                "follow",
                Dialect == SqlDialect.PostgreSql ? "postgres" : "sqlite",
                connectionString
            );
            // Wait until it follows, then let it work for a random moment before killing it mid-stride.
            var line = await child.StandardOutput.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(60));
            if (line != "following")
            {
                child.Kill(entireProcessTree: true);
                Assert.Fail($"the child printed '{line}': {await child.StandardError.ReadToEndAsync()}");
            }
            // The killed process's lease must lapse first: kill only once this one is delivering, at a random moment.
            var before = progress.Count == 0 ? 0 : progress[^1];
            var deadline = DateTime.UtcNow.AddSeconds(60);
            while ((await follower.ReadStatusAsync()).Processed <= before && DateTime.UtcNow < deadline)
                await Task.Delay(5);
            await Task.Delay(random.Next(0, 300));
            child.Kill(entireProcessTree: true);
            await child.WaitForExitAsync();
            progress.Add((await follower.ReadStatusAsync()).Processed);
        }
        stopWriting.Cancel();
        await writer;

        using (
            var last = FollowersSample.Start(
                "follow",
                Dialect == SqlDialect.PostgreSql ? "postgres" : "sqlite",
                connectionString
            )
        )
        {
            var deadline = DateTime.UtcNow.AddSeconds(120);
            while ((await follower.ReadStatusAsync()).LagEvents > 0)
            {
                if (DateTime.UtcNow > deadline)
                    Assert.Fail("the last follower process did not catch up");
                await Task.Delay(50);
            }
            last.Kill(entireProcessTree: true);
            await last.WaitForExitAsync();
        }

        var expected = await ExpectedAsync();
        Assert.That(
            progress,
            Is.Ordered.Ascending.And.Unique,
            "every killed process made progress before it was killed"
        );
        Assert.That(progress[^1], Is.LessThan(expected.Sum(r => r.Orders)), "the kills left work for the last process");
        Assert.That(await ProjectedAsync(), Is.EqualTo(expected), "every order counted exactly once");
        Assert.That((await follower.ReadStatusAsync()).Processed, Is.EqualTo(await CountAsync("shop_events")));
    }
}

/// <summary>The Followers sample, run as a child process from its build output.</summary>
public sealed class FollowersSample
{
    /// <summary>The sample's build output beside this test assembly's (same configuration and framework).</summary>
    private static string Dll
    {
        get
        {
            var here = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar));
            var (framework, configuration) = (here.Name, here.Parent!.Name);
            var root = here.Parent!.Parent!.Parent!.Parent!.Parent!.FullName;
            return Path.Combine(root, "samples", "Followers", "bin", configuration, framework, "Followers.dll");
        }
    }

    public static Process Start(params string[] arguments)
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add(Dll);
        foreach (var argument in arguments)
            start.ArgumentList.Add(argument);
        return Process.Start(start)!;
    }

    /// <summary>The demo (its own SQLite file): a projection kept live while writers run, then rebuilt.</summary>
    [Test]
    public async Task The_sample_keeps_its_projection_live_and_rebuilds_it_identically()
    {
        using var process = FollowersSample.Start();
        var output = await process.StandardOutput.ReadToEndAsync();
        await process.WaitForExitAsync();
        Assert.That(process.ExitCode, Is.EqualTo(0), output + await process.StandardError.ReadToEndAsync());
        Assert.That(output, Does.Contain("100 orders"));
        Assert.That(output, Does.Contain("Rebuilt from 100 events").And.Contain("identical"));
        Assert.That(output, Does.Contain("lag"));
    }
}
