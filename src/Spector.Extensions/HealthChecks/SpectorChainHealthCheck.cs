using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Spector;

/// <summary>
/// Healthy while an events table's hash chain verifies up to its current end. The first check verifies the whole
/// chain; each later one continues from the head the previous check reached
/// (<see cref="EventLog.VerifyHashChainFromAsync(SpectorSession, ChainHead, CancellationToken)"/>), so it reads only
/// what was appended since. Once broken it stays unhealthy: the head does not move past a break.
/// </summary>
public sealed class SpectorChainHealthCheck : IHealthCheck
{
    private readonly EventLog _log;
    private readonly SpectorStore _store;
    private readonly SemaphoreSlim _oneAtATime = new(1, 1);
    private ChainHead? _verified;

    /// <summary>Checks <paramref name="log"/>'s chain in <paramref name="store"/>; a hashed, unsharded table
    /// chain.</summary>
    public SpectorChainHealthCheck(EventLog log, SpectorStore store)
    {
        ArgumentNullException.ThrowIfNull(log);
        if (!log.Hashed || log.HashScope != HashScope.Table || log.IsSharded)
            throw new ArgumentException(
                $"Events table {log.Table}: the chain health check follows one table chain, "
                    + "so the table must be hashed, unsharded and of HashScope.Table.",
                nameof(log)
            );
        _log = log;
        _store = store ?? throw new ArgumentNullException(nameof(store));
    }

    /// <inheritdoc />
    public async Task<HealthCheckResult> CheckHealthAsync(
        HealthCheckContext context,
        CancellationToken cancellationToken = default
    )
    {
        await _oneAtATime.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var result = _verified is { } head
                ? await _log.VerifyHashChainFromAsync(_store, head, cancellationToken).ConfigureAwait(false)
                : await _log.VerifyHashChainAsync(_store, cancellationToken: cancellationToken).ConfigureAwait(false);
            var data = new Dictionary<string, object> { ["events_checked"] = result.EventsChecked };
            if (result.FirstBreak is { } broken)
            {
                data["break_position"] = broken.Position;
                return HealthCheckResult.Unhealthy(
                    $"The hash chain of {_log.Table} is broken: {broken.Kind} at position {broken.Position}.",
                    data: data
                );
            }
            _verified = result.Head ?? _verified;
            if (_verified is not null)
                data["head_position"] = _verified.Position;
            return HealthCheckResult.Healthy(
                $"The hash chain of {_log.Table} verifies up to position {_verified?.Position ?? 0} "
                    + $"({result.EventsChecked} events checked now).",
                data
            );
        }
        finally
        {
            _oneAtATime.Release();
        }
    }
}
