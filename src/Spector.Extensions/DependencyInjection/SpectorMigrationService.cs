using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace Spector;

/// <summary>With <see cref="SpectorServiceOptions.MigrateOnStartup"/>, migrates every registered events table as the host starts.</summary>
internal sealed class SpectorMigrationService(SpectorStore store, IOptions<SpectorServiceOptions> options) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        if (!options.Value.MigrateOnStartup) return;
        foreach (var log in options.Value.EventsTables)
            await log.MigrateUpAsync(store, cancellationToken: cancellationToken).ConfigureAwait(false);
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
