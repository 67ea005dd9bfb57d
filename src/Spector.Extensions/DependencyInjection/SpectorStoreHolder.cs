using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Spector;

/// <summary>
/// Builds the container's <see cref="SpectorStore"/> once from <see cref="SpectorServiceOptions"/>, and disposes the
/// data source it made itself (never one taken from the container).
/// </summary>
internal sealed class SpectorStoreHolder : IAsyncDisposable
{
    private readonly NpgsqlDataSource? _ownedDataSource;

    public SpectorStoreHolder(IServiceProvider services, IOptions<SpectorServiceOptions> configured)
    {
        var options = configured.Value;
        var storeOptions = new SpectorOptions
        {
            MaxWriteAttempts = options.MaxWriteAttempts,
            SlowReplayThreshold = options.SlowReplayThreshold,
            LoggerFactory = services.GetService<ILoggerFactory>() ?? SpectorOptions.Default.LoggerFactory,
        };
        if (options.Dialect == SqlDialect.Sqlite)
        {
            Store = SpectorStore.Sqlite(options.ConnectionString
                ?? throw new InvalidOperationException("Spector: set ConnectionString for SQLite (for example \"Data Source=app.db\")."),
                storeOptions);
            return;
        }
        var dataSource = options.ConnectionString is { } connectionString
            ? _ownedDataSource = NpgsqlDataSource.Create(connectionString)
            : services.GetService<NpgsqlDataSource>() ?? throw new InvalidOperationException(
                "Spector: set ConnectionString for PostgreSQL, or register an NpgsqlDataSource in the container.");
        Store = SpectorStore.Postgres(dataSource, storeOptions);
    }

    public SpectorStore Store { get; }

    public ValueTask DisposeAsync() => _ownedDataSource?.DisposeAsync() ?? ValueTask.CompletedTask;
}
