using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;

namespace Spector;

/// <summary>Adds Spector's health checks:
/// <c>builder.Services.AddHealthChecks().AddSpectorDatabase().AddSpectorChain(LedgerEvents.Log)</c>.</summary>
public static class SpectorHealthChecksBuilderExtensions
{
    /// <summary>
    /// The database of the registered store answers and every registered events table is migrated. With <paramref
    /// name="storeKey"/>, the store registered under that key (<c>AddSpector("tenantB", ...)</c>) and its events
    /// tables; the check is then named <c>spector-database-tenantB</c> unless <paramref name="name"/> is given.
    /// </summary>
    public static IHealthChecksBuilder AddSpectorDatabase(
        this IHealthChecksBuilder builder,
        string? name = null,
        HealthStatus? failureStatus = null,
        IEnumerable<string>? tags = null,
        string? storeKey = null
    ) =>
        builder.Add(
            new HealthCheckRegistration(
                name ?? (storeKey is null ? "spector-database" : $"spector-database-{storeKey}"),
                sp =>
                    StoreOf(sp, storeKey) is { } store
                        ? new SpectorDatabaseHealthCheck(
                            store,
                            Options.Create(
                                sp.GetRequiredService<IOptionsMonitor<SpectorServiceOptions>>()
                                    .Get(storeKey ?? Options.DefaultName)
                            )
                        )
                        : new MissingStoreHealthCheck(storeKey),
                failureStatus,
                tags
            )
        );

    /// <summary>
    /// <paramref name="log"/>'s hash chain verifies, incrementally from the head the previous check reached (one
    /// checker per registration keeps it). With <paramref name="storeKey"/>, the chain in the database of the store
    /// registered under that key; the check is then named <c>spector-chain-{table}-{key}</c>.
    /// </summary>
    public static IHealthChecksBuilder AddSpectorChain(
        this IHealthChecksBuilder builder,
        EventLog log,
        string? name = null,
        HealthStatus? failureStatus = null,
        IEnumerable<string>? tags = null,
        string? storeKey = null
    )
    {
        ArgumentNullException.ThrowIfNull(log);
        SpectorChainHealthCheck? check = null;
        return builder.Add(
            new HealthCheckRegistration(
                name ?? (storeKey is null ? $"spector-chain-{log.Table}" : $"spector-chain-{log.Table}-{storeKey}"),
                sp =>
                    (IHealthCheck?)check
                    ?? (
                        StoreOf(sp, storeKey) is { } store
                            ? check = new SpectorChainHealthCheck(log, store)
                            : new MissingStoreHealthCheck(storeKey)
                    ),
                failureStatus,
                tags
            )
        );
    }

    private static SpectorStore? StoreOf(IServiceProvider services, string? storeKey) =>
        storeKey is null ? services.GetService<SpectorStore>() : services.GetKeyedService<SpectorStore>(storeKey);

    /// <summary>
    /// Reports a check registered for a store the container lacks: unhealthy with the reason, rather than an exception
    /// that turns the whole health endpoint into a 500 and hides the other checks.
    /// </summary>
    private sealed class MissingStoreHealthCheck(string? storeKey) : IHealthCheck
    {
        public Task<HealthCheckResult> CheckHealthAsync(
            HealthCheckContext context,
            CancellationToken cancellationToken = default
        ) =>
            Task.FromResult(
                new HealthCheckResult(
                    context.Registration.FailureStatus,
                    storeKey is null
                        ? "No unkeyed SpectorStore is registered (AddSpector(o => ...)); for a keyed store pass its "
                            + "key: AddSpectorDatabase(storeKey: \"tenantB\")."
                        : $"No SpectorStore is registered under the key '{storeKey}' (AddSpector(\"{storeKey}\", ...))."
                )
            );
    }
}
