using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace Spector;

/// <summary>
/// As the host starts: builds every registered store (which makes each the default of its events tables, when it
/// is the default store) and, with <see cref="SpectorServiceOptions.MigrateOnStartup"/>, migrates its tables.
/// </summary>
internal sealed class SpectorMigrationService(
    IServiceProvider services,
    IOptionsMonitor<SpectorServiceOptions> options,
    IEnumerable<SpectorStoreKey> keys
) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        if (services.GetService<SpectorStoreHolder>() is { } holder)
            await MigrateAsync(holder.Store, options.Get(Options.DefaultName), cancellationToken).ConfigureAwait(false);
        foreach (var key in keys)
            await MigrateAsync(
                    services.GetRequiredKeyedService<SpectorStoreHolder>(key.Key).Store,
                    options.Get(key.Key),
                    cancellationToken
                )
                .ConfigureAwait(false);
    }

    private static async Task MigrateAsync(
        SpectorStore store,
        SpectorServiceOptions options,
        CancellationToken cancellationToken
    )
    {
        if (!options.MigrateOnStartup)
            return;
        foreach (var log in options.EventsTables)
            await log.MigrateUpAsync(store, cancellationToken: cancellationToken).ConfigureAwait(false);
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
