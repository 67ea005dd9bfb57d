using System.Data.Common;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;

namespace Spector;

/// <summary>
/// Healthy when the store's database answers and every table of the registered events tables exists (events
/// tables, shards, link tables and record tables): the app is reachable and migrated.
/// </summary>
public sealed class SpectorDatabaseHealthCheck(SpectorStore store, IOptions<SpectorServiceOptions> options)
    : IHealthCheck
{
    /// <inheritdoc />
    public async Task<HealthCheckResult> CheckHealthAsync(
        HealthCheckContext context,
        CancellationToken cancellationToken = default
    )
    {
        DbConnection connection;
        try
        {
            connection = await store.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is DbException or InvalidOperationException or TimeoutException)
        {
            return HealthCheckResult.Unhealthy($"The {store.Dialect} database is unreachable: {e.GetType().Name}.", e);
        }
        await using (connection.ConfigureAwait(false))
        {
            var missing = new List<string>();
            foreach (var log in options.Value.EventsTables)
            foreach (var table in TablesOf(log))
                if (!await ExistsAsync(connection, table, cancellationToken).ConfigureAwait(false))
                    missing.Add($"{table} ({log.Table})");
            var data = new Dictionary<string, object> { ["events_tables"] = options.Value.EventsTables.Count };
            return missing.Count == 0
                ? HealthCheckResult.Healthy($"The {store.Dialect} database answers and is migrated.", data)
                : HealthCheckResult.Unhealthy(
                    $"Not migrated: missing tables {string.Join(", ", missing)}. Run the migrations.",
                    data: data
                );
        }
    }

    private static IEnumerable<string> TablesOf(EventLog log) =>
        log
            .Shards.SelectMany(s => s.Links.Select(l => l.Table).Prepend(s.Table))
            .Concat(log.RecordTables.Select(t => t.Name));

    /// <summary>Selects nothing from the table: an error means it is missing. Names were validated when the log was
    /// made.</summary>
    private static async Task<bool> ExistsAsync(DbConnection connection, string table, CancellationToken ct)
    {
        await using var command = connection.CreateCommand();
        command.CommandText = $"SELECT 1 FROM {SqlIdentifier.Quote(table)} WHERE 1 = 0";
        try
        {
            await command.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
            return true;
        }
        catch (DbException)
        {
            return false;
        }
    }
}
