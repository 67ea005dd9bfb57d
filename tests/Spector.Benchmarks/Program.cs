using System.Globalization;
using Npgsql;
using Spector;
using Spector.Benchmarks;
using Spector.Testing;

// Modes:
//   verify-chain [--events N] [--db sqlite|postgres|both]   hash-chain verification: events/s and memory held
var mode = args.FirstOrDefault() ?? "verify-chain";
var events = long.Parse(Option("--events") ?? "1000000", CultureInfo.InvariantCulture);
var databases = (Option("--db") ?? "both") switch
{
    "both" => new[] { "sqlite", "postgres" },
    var one => [one],
};

if (mode != "verify-chain")
{
    Console.Error.WriteLine($"unknown mode '{mode}'; modes: verify-chain");
    return 2;
}

Console.WriteLine($"Spector benchmarks on {Environment.ProcessorCount} cores, .NET {Environment.Version}, {DateTime.UtcNow:yyyy-MM-dd}");
foreach (var database in databases)
{
    if (database == "sqlite")
    {
        var file = Path.Combine(Path.GetTempPath(), $"spector-bench-{Guid.NewGuid():N}.db");
        try
        {
            foreach (var n in Sizes()) Console.WriteLine(await ChainVerificationBenchmark.RunAsync("SQLite", SpectorStore.Sqlite($"Data Source={file}"), n));
        }
        finally
        {
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            foreach (var suffix in new[] { "", "-wal", "-shm" }) File.Delete(file + suffix);
        }
    }
    else
    {
        // A durable cluster (fsync on), the settings a production server would have.
        var connectionString = Environment.GetEnvironmentVariable("SPECTOR_TEST_POSTGRES");
        await using var cluster = connectionString is null ? await PostgresCluster.StartAsync(durable: true) : null;
        await using var dataSource = NpgsqlDataSource.Create(connectionString ?? cluster!.ConnectionString);
        foreach (var n in Sizes()) Console.WriteLine(await ChainVerificationBenchmark.RunAsync("PostgreSQL", SpectorStore.Postgres(dataSource), n));
    }
}
return 0;

// A tenth of the chain first: equal memory at both sizes is what "constant memory" means.
IEnumerable<long> Sizes() => events >= 100_000 ? [events / 10, events] : [events];

string? Option(string name)
{
    var index = Array.IndexOf(args, name);
    return index >= 0 && index + 1 < args.Length ? args[index + 1] : null;
}
