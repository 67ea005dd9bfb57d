using Microsoft.Data.Sqlite;
using Spector.Benchmarks.Baselines;
using Spector.Benchmarks.Model;
using Spector.Testing;

namespace Spector.Benchmarks.Harness;

/// <summary>
/// One database for a benchmark run: a temporary SQLite file, or PostgreSQL (SPECTOR_TEST_POSTGRES, else a
/// durable throwaway cluster, fsync on), in a schema of its own that is dropped afterwards. Spector, the hand-written
/// code and EF Core all get their connections
/// from the same <see cref="SpectorStore"/>, so they share pool and settings (SQLite: WAL, synchronous=NORMAL).
/// </summary>
internal sealed class BenchDatabase : IAsyncDisposable
{
    private readonly PostgresCluster? _cluster;
    private readonly PostgresSchema? _schema;
    private readonly string? _file;

    private BenchDatabase(
        string name,
        SpectorStore store,
        PostgresCluster? cluster = null,
        PostgresSchema? schema = null,
        string? file = null
    )
    {
        (Name, Store, _cluster, _schema, _file) = (name, store, cluster, schema, file);
        HandWritten = new HandWrittenAccounts(store);
        EfCore = new EfCoreAccounts(store, schema?.DataSource);
    }

    /// <summary>"sqlite" or "postgres".</summary>
    public string Name { get; }

    public SpectorStore Store { get; }

    public HandWrittenAccounts HandWritten { get; }

    public EfCoreAccounts EfCore { get; }

    public static async Task<BenchDatabase> OpenAsync(string name)
    {
        if (name == "sqlite")
        {
            var file = Path.Combine(Path.GetTempPath(), $"spector-bench-{Guid.NewGuid():N}.db");
            return new BenchDatabase(name, SpectorStore.Sqlite($"Data Source={file}"), file: file);
        }
        var connectionString = Environment.GetEnvironmentVariable("SPECTOR_TEST_POSTGRES");
        var cluster = connectionString is null ? await PostgresCluster.StartAsync(durable: true) : null;
        var schema = await PostgresSchema.CreateAsync(connectionString ?? cluster!.ConnectionString);
        return new BenchDatabase(name, SpectorStore.Postgres(schema.DataSource), cluster, schema);
    }

    /// <summary>Empty tables for Spector's three logs and for EF Core's accounts and audit rows.</summary>
    public async Task ResetAsync()
    {
        foreach (var log in new[] { BenchEvents.Log, BenchHashedEvents.Log, BenchRecordHashedEvents.Log })
        {
            log.Use(Store);
            await log.MigrateDownAsync();
            await log.MigrateUpAsync();
        }
        await EfCore.RecreateTablesAsync();
    }

    public async ValueTask DisposeAsync()
    {
        if (_schema is not null)
            await _schema.DisposeAsync();
        if (_cluster is not null)
            await _cluster.DisposeAsync();
        if (_file is null)
            return;
        SqliteConnection.ClearAllPools();
        foreach (var suffix in new[] { "", "-wal", "-shm" })
            File.Delete(_file + suffix);
    }
}
