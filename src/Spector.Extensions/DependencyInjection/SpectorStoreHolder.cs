using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Spector;

/// <summary>
/// Builds the container's <see cref="SpectorStore"/> once from <see cref="SpectorServiceOptions"/> through the
/// installed provider package, and disposes the data source it made itself (never one taken from the container).
/// The default store (or a keyed one that asks) becomes the default of its events tables, so generated methods
/// called without a session use it, until the container is disposed: then the default is cleared if it is still this
/// store. One default per events table per process; a second one replacing it is logged as a warning.
/// </summary>
internal sealed class SpectorStoreHolder : IAsyncDisposable
{
    private readonly IAsyncDisposable? _owned;
    private readonly List<EventLog> _defaultOf = [];

    public SpectorStoreHolder(IServiceProvider services, string name)
    {
        var options = services.GetRequiredService<IOptionsMonitor<SpectorServiceOptions>>().Get(name);
        (Store, _owned) = Build(services, options, name);
        if (options.UseAsDefaultStore ?? name == Options.DefaultName)
            foreach (var log in options.EventsTables)
            {
                if (log.HasDefaultStore)
                    Store.Options.LoggerFactory.CreateLogger("Spector").DefaultStoreReplaced(log.Table);
                log.Use(Store);
                _defaultOf.Add(log);
            }
    }

    public SpectorStore Store { get; }

    private static (SpectorStore Store, IAsyncDisposable? Owned) Build(
        IServiceProvider services,
        SpectorServiceOptions options,
        string name
    )
    {
        var storeOptions = new SpectorOptions
        {
            MaxWriteAttempts = options.MaxWriteAttempts,
            SlowReplayThreshold = options.SlowReplayThreshold,
            PrepareStatements = options.PrepareStatements,
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
        // A keyed store takes only the data source registered under its own key, never the unkeyed one: sharing
        // another tenant's database silently is the worst outcome.
        var key = name == Options.DefaultName ? null : name;
        return (
            provider.CreateStore(services, key, storeOptions)
                ?? throw new InvalidOperationException(
                    key is null
                        ? "Spector: set ConnectionString for PostgreSQL, or register an NpgsqlDataSource in the "
                            + "container."
                        : $"Spector store '{key}': set ConnectionString for PostgreSQL, "
                            + $"or register an NpgsqlDataSource under the key '{key}' "
                            + $"(AddNpgsqlDataSource(..., serviceKey: \"{key}\")); "
                            + "a keyed store never uses the unkeyed data source."
                ),
            null
        );
    }

    public ValueTask DisposeAsync()
    {
        foreach (var log in _defaultOf)
            log.ClearDefault(Store);
        return _owned?.DisposeAsync() ?? ValueTask.CompletedTask;
    }
}
