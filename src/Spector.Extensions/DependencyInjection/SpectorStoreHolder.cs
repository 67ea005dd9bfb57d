using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Spector;

/// <summary>
/// Builds the container's <see cref="SpectorStore"/> once from <see cref="SpectorServiceOptions"/> through the
/// installed provider package, and disposes the data source it made itself (never one taken from the container).
/// The default store (or a keyed one that asks) becomes the default of its events tables, so generated methods
/// called without a session use it.
/// </summary>
internal sealed class SpectorStoreHolder : IAsyncDisposable
{
    private readonly IAsyncDisposable? _owned;

    public SpectorStoreHolder(IServiceProvider services, string name)
    {
        var options = services.GetRequiredService<IOptionsMonitor<SpectorServiceOptions>>().Get(name);
        (Store, _owned) = Build(services, options);
        if (options.UseAsDefaultStore ?? name == Options.DefaultName)
            foreach (var log in options.EventsTables)
                log.Use(Store);
    }

    public SpectorStore Store { get; }

    private static (SpectorStore Store, IAsyncDisposable? Owned) Build(
        IServiceProvider services,
        SpectorServiceOptions options
    )
    {
        var storeOptions = new SpectorOptions
        {
            MaxWriteAttempts = options.MaxWriteAttempts,
            SlowReplayThreshold = options.SlowReplayThreshold,
            LoggerFactory = services.GetService<ILoggerFactory>() ?? SpectorOptions.Default.LoggerFactory,
        };
        var provider = SpectorProvider.For(options.Dialect);
        if (options.Dialect == SqlDialect.Sqlite)
            return provider.CreateStore(
                options.ConnectionString
                    ?? throw new InvalidOperationException(
                        "Spector: set ConnectionString for SQLite (for example \"Data Source=app.db\")."
                    ),
                storeOptions
            );
        if (options.ConnectionString is { } connectionString)
            return provider.CreateStore(connectionString, storeOptions);
        return (
            provider.CreateStore(services, storeOptions)
                ?? throw new InvalidOperationException(
                    "Spector: set ConnectionString for PostgreSQL, or register an NpgsqlDataSource in the container."
                ),
            null
        );
    }

    public ValueTask DisposeAsync() => _owned?.DisposeAsync() ?? ValueTask.CompletedTask;
}
