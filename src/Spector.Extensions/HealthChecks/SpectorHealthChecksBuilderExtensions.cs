using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;

namespace Spector;

/// <summary>Adds Spector's health checks:
/// <c>builder.Services.AddHealthChecks().AddSpectorDatabase().AddSpectorChain(LedgerEvents.Log)</c>.</summary>
public static class SpectorHealthChecksBuilderExtensions
{
    /// <summary>The database of the registered store answers and every registered events table is migrated.</summary>
    public static IHealthChecksBuilder AddSpectorDatabase(
        this IHealthChecksBuilder builder,
        string name = "spector-database",
        HealthStatus? failureStatus = null,
        IEnumerable<string>? tags = null
    ) =>
        builder.Add(
            new HealthCheckRegistration(
                name,
                sp => new SpectorDatabaseHealthCheck(
                    sp.GetRequiredService<SpectorStore>(),
                    sp.GetRequiredService<IOptions<SpectorServiceOptions>>()
                ),
                failureStatus,
                tags
            )
        );

    /// <summary>
    /// <paramref name="log"/>'s hash chain verifies, incrementally from the head the previous check reached (one
    /// checker per
    /// registration keeps it).
    /// </summary>
    public static IHealthChecksBuilder AddSpectorChain(
        this IHealthChecksBuilder builder,
        EventLog log,
        string? name = null,
        HealthStatus? failureStatus = null,
        IEnumerable<string>? tags = null
    )
    {
        ArgumentNullException.ThrowIfNull(log);
        SpectorChainHealthCheck? check = null;
        return builder.Add(
            new HealthCheckRegistration(
                name ?? $"spector-chain-{log.Table}",
                sp => check ??= new SpectorChainHealthCheck(log, sp.GetRequiredService<SpectorStore>()),
                failureStatus,
                tags
            )
        );
    }
}
