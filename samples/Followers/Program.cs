using System.Diagnostics;
using System.Globalization;
using Followers;
using Npgsql;
using Spector;

CultureInfo.DefaultThreadCurrentCulture = CultureInfo.InvariantCulture;

// "follow <sqlite|postgres> <connection string>": run the projection's follower until killed (the tests kill it).
if (args is ["follow", var database, var connectionString])
{
    if (database == "postgres")
        ShopEvents.UsePostgres(NpgsqlDataSource.Create(connectionString));
    else
        ShopEvents.UseSqlite(connectionString);
    var projection = new OrdersPerCustomerDay();
    var follower = projection.CreateFollower(o =>
        o with
        {
            BatchSize = 5,
            LeaseDuration = TimeSpan.FromSeconds(1),
            MinPollInterval = TimeSpan.FromMilliseconds(5),
            MaxPollInterval = TimeSpan.FromMilliseconds(50),
        }
    );
    Console.WriteLine("following");
    await follower.RunAsync();
    return;
}

var file = Path.Combine(Path.GetTempPath(), $"spector-followers-{Environment.ProcessId}.db");
try
{
    ShopEvents.UseSqlite($"Data Source={file}");
    await ShopEvents.MigrateAsync();
    var orders = new OrdersPerCustomerDay();
    await orders.MigrateAsync();

    // The async form: a follower keeps the projection up to date while four writers place orders.
    var follower = orders.CreateFollower(o =>
        o with
        {
            MinPollInterval = TimeSpan.FromMilliseconds(5),
            MaxPollInterval = TimeSpan.FromMilliseconds(50),
        }
    );
    using var stop = new CancellationTokenSource();
    var following = Task.Run(() => follower.RunAsync(stop.Token));
    string[] customers = ["ada", "bob", "cyd"];
    string[] days = ["2026-11-28", "2026-11-29", "2026-11-30"];
    var writers = Enumerable
        .Range(0, 4)
        .Select(w =>
            Task.Run(async () =>
            {
                for (var i = 0; i < 25; i++)
                    await Order.InsertAsync(
                        new Attrs
                        {
                            ["customer"] = customers[(w + i) % 3],
                            ["day"] = days[i % 3],
                            ["amount_cents"] = 100 * (i + 1),
                        }
                    );
            })
        )
        .ToList();
    while (writers.Any(w => !w.IsCompleted))
    {
        var status = await follower.ReadStatusAsync();
        Console.WriteLine(
            $"processed {status.Processed, 3}, lag {status.LagEvents, 3} events / "
                + $"{status.Lag.TotalMilliseconds, 6:0.0} ms"
        );
        await Task.Delay(40);
    }
    await Task.WhenAll(writers);
    while ((await follower.ReadStatusAsync()).LagEvents > 0)
        await Task.Delay(10);
    stop.Cancel();
    await following;
    var live = await OrdersPerCustomerDay.ReadAsync(ShopEvents.Log.Store);
    Console.WriteLine($"\nOrders per customer per day, kept live ({live.Sum(r => r.Orders)} orders):");
    foreach (var row in live)
        Console.WriteLine($"  {row.Customer} {row.Day}: {row.Orders, 2} orders, {row.TotalCents / 100m, 8:0.00}");

    // Rebuilt from zero in one transaction: readers keep the old rows until the new ones commit.
    var clock = Stopwatch.StartNew();
    var replayed = await orders.RebuildAsync();
    var rebuilt = await OrdersPerCustomerDay.ReadAsync(ShopEvents.Log.Store);
    Console.WriteLine(
        $"\nRebuilt from {replayed} events in {clock.ElapsedMilliseconds} ms: "
            + (rebuilt.SequenceEqual(live) ? "identical" : "DIFFERENT")
            + "."
    );
    if (!rebuilt.SequenceEqual(live))
        Environment.ExitCode = 1;
}
finally
{
    Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
    foreach (var suffix in new[] { "", "-wal", "-shm" })
        File.Delete(file + suffix);
}
