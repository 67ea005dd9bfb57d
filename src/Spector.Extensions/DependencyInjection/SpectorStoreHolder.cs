using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Spector;

/// <summary>
/// Builds the container's <see cref="SpectorStore"/> once from <see cref="SpectorServiceOptions"/>, and disposes the
/// data source it made itself (never one taken from the container). The default store (or a keyed one that asks)
/// becomes the default of its events tables, so generated methods called without a session use it.
/// </summary>
internal sealed class SpectorStoreHolder : IAsyncDisposable
{
    private readonly NpgsqlDataSource? _ownedDataSource;

    public SpectorStoreHolder(IServiceProvider services, string name)
    {
        var options = services.GetRequiredService<IOptionsMonitor<SpectorServiceOptions>>().Get(name);
        Store = Build(services, options, out _ownedDataSource);
        if (options.UseAsDefaultStore ?? name == Options.DefaultName)
            foreach (var log in options.EventsTables) log.Use(Store);
    }

    public SpectorStore Store { get; }

    private static SpectorStore Build(IServiceProvider services, SpectorServiceOptions options, out NpgsqlDataSource? ownedDataSource)
    {
        ownedDataSource = null;
        var storeOptions = new SpectorOptions
        {
            MaxWriteAttempts = options.MaxWriteAttempts,
            SlowReplayThreshold = options.SlowReplayThreshold,
            LoggerFactory = services.GetService<ILoggerFactory>() ?? SpectorOptions.Default.LoggerFactory,
        };
        if (options.Dialect == SqlDialect.Sqlite)
            return SpectorStore.Sqlite(options.ConnectionString
                ?? throw new InvalidOperationException("Spector: set ConnectionString for SQLite (for example \"Data Source=app.db\")."),
                storeOptions);
        var dataSource = options.ConnectionString is { } connectionString
            ? ownedDataSource = NpgsqlDataSource.Create(connectionString)
            : services.GetService<NpgsqlDataSource>() ?? throw new InvalidOperationException(
                "Spector: set ConnectionString for PostgreSQL, or register an NpgsqlDataSource in the container.");
        return SpectorStore.Postgres(dataSource, storeOptions);
    }

    public ValueTask DisposeAsync() => _ownedDataSource?.DisposeAsync() ?? ValueTask.CompletedTask;
}
