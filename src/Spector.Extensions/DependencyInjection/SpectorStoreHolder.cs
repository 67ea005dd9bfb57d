using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Spector;

/// <summary>
/// Builds the container's <see cref="SpectorStore"/> once from <see cref="SpectorServiceOptions"/> through the
/// installed provider package, and disposes the data source it made itself (never one taken from the container).
/// </summary>
internal sealed class SpectorStoreHolder : IAsyncDisposable
{
    private readonly IAsyncDisposable? _owned;

    public SpectorStoreHolder(IServiceProvider services, IOptions<SpectorServiceOptions> configured)
    {
        var options = configured.Value;
        var storeOptions = new SpectorOptions
        {
            MaxWriteAttempts = options.MaxWriteAttempts,
            SlowReplayThreshold = options.SlowReplayThreshold,
            LoggerFactory = services.GetService<ILoggerFactory>() ?? SpectorOptions.Default.LoggerFactory,
        };
        var provider = SpectorProvider.For(options.Dialect);
        if (options.Dialect == SqlDialect.Sqlite)
        {
            (Store, _owned) = provider.CreateStore(options.ConnectionString
                ?? throw new InvalidOperationException("Spector: set ConnectionString for SQLite (for example \"Data Source=app.db\")."),
                storeOptions);
            return;
        }
        if (options.ConnectionString is { } connectionString)
            (Store, _owned) = provider.CreateStore(connectionString, storeOptions);
        else
            Store = provider.CreateStore(services, storeOptions) ?? throw new InvalidOperationException(
                "Spector: set ConnectionString for PostgreSQL, or register an NpgsqlDataSource in the container.");
    }

    public SpectorStore Store { get; }

    public ValueTask DisposeAsync() => _owned?.DisposeAsync() ?? ValueTask.CompletedTask;
}
