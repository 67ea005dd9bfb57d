using Dapper;

namespace Spector;

public sealed partial class Follower
{
    /// <summary>Runs idempotent statements (a projection's DDL) in one transaction.</summary>
    internal async Task RunStatementsAsync(IReadOnlyList<string> statements, CancellationToken ct)
    {
        await using var connection = await Store.OpenConnectionAsync(ct).ConfigureAwait(false);
        await using var tx = await Dialect.BeginWriteAsync(connection, ct).ConfigureAwait(false);
        foreach (var sql in statements)
            await connection.ExecuteAsync(new CommandDefinition(sql, transaction: tx, cancellationToken: ct)).ConfigureAwait(false);
        await tx.CommitAsync(ct).ConfigureAwait(false);
    }

    /// <summary>
    /// Under the lease: in one transaction, runs <paramref name="clear"/>, hands every event from the beginning to
    /// the handler and moves every cursor to the last event read. Returns the events passed.
    /// </summary>
    internal async Task<long> ReplayAllAsync(IReadOnlyList<string> clear, IProgress<long>? progress, CancellationToken ct)
    {
        if (!_transactional) throw new InvalidOperationException($"Follower {Name}: only a transactional handler can be replayed in one transaction.");
        EnterRun();
        try
        {
            while (!await HoldLeaseAsync(ct).ConfigureAwait(false))
            {
                _state = FollowerState.Standby;
                await Task.Delay(StandbyWait, ct).ConfigureAwait(false);
            }
            _state = FollowerState.Running;
            await using var connection = await Store.OpenConnectionAsync(ct).ConfigureAwait(false);
            await using var tx = await Dialect.BeginWriteAsync(connection, ct).ConfigureAwait(false);
            var session = new SpectorSession(connection, tx);
            foreach (var sql in clear)
                await connection.ExecuteAsync(new CommandDefinition(sql, transaction: tx, cancellationToken: ct)).ConfigureAwait(false);
            var stored = new Dictionary<string, Cursor>(_cursors);
            foreach (var table in _cursors.Keys.ToList()) _cursors[table] = default;
            long total = 0;
            try
            {
                for (var more = true; more;)
                {
                    more = false;
                    foreach (var (log, shard) in _tables)
                    {
                        // Read beside the transaction, which SQLite's write lock does not block (WAL readers never wait).
                        var batch = await ReadBatchAsync(log, shard, ct).ConfigureAwait(false);
                        foreach (var followed in batch)
                            if (Matches(followed)) await _handler(followed, session, ct).ConfigureAwait(false);
                        if (batch.Count == 0) continue;
                        var last = batch[^1];
                        _cursors[shard.Table] = new Cursor(last.TxId, last.Event.Position, _cursors[shard.Table].Processed + batch.Count);
                        total += batch.Count;
                        more |= batch.Count == _options.BatchSize;
                        progress?.Report(total);
                    }
                }
                var renewed = await connection.ExecuteAsync(new CommandDefinition(Sql.RenewLease,
                    new { name = Name, owner = _owner, lease_ms = (long)_options.LeaseDuration.TotalMilliseconds }, tx, cancellationToken: ct))
                    .ConfigureAwait(false);
                if (renewed == 0) throw new FollowerLeaseLostException(Name);
                foreach (var (table, cursor) in _cursors)
                {
                    var moved = await connection.ExecuteAsync(new CommandDefinition(Sql.AdvancePosition, new
                    {
                        name = Name, events_table = table, tx_id = cursor.TxId, position = cursor.Position, count = cursor.Processed,
                        old_tx_id = _checkpoints[table].TxId, old_position = _checkpoints[table].Position,
                    }, tx, cancellationToken: ct)).ConfigureAwait(false);
                    if (moved == 0) throw new FollowerLeaseLostException(Name);
                }
                await tx.CommitAsync(ct).ConfigureAwait(false);
                foreach (var (table, cursor) in _cursors) _checkpoints[table] = cursor;
                return total;
            }
            catch
            {
                foreach (var (table, cursor) in stored) _cursors[table] = cursor;
                throw;
            }
        }
        finally
        {
            await LeaveRunAsync().ConfigureAwait(false);
        }
    }
}
