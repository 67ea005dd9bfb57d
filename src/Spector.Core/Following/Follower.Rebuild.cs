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
            await connection
                .ExecuteAsync(new CommandDefinition(sql, transaction: tx, cancellationToken: ct))
                .ConfigureAwait(false);
        await tx.CommitAsync(ct).ConfigureAwait(false);
    }

    /// <summary>
    /// Under the lease: in one transaction, runs <paramref name="clear"/>, hands every event from the beginning to
    /// the handler and moves every cursor to the last event read. Returns the events passed. When the follower runs
    /// on this store object it is paused for the replay and resumed after it; when it runs anywhere else the replay
    /// fails at once with <see cref="FollowerBusyException"/>.
    /// </summary>
    internal async Task<long> ReplayAllAsync(
        IReadOnlyList<string> clear,
        IProgress<long>? progress,
        CancellationToken ct
    )
    {
        if (!_transactional)
            throw new InvalidOperationException(
                $"Follower {Name}: only a transactional handler can be replayed in one transaction."
            );
        EnterRun();
        IAsyncDisposable? paused = null;
        try
        {
            // An instance running in this process steps aside before the lease is asked for: on SQLite asking is a
            // write, which would wait behind the write lock of that instance's batch (and time out behind a long one).
            if (Store.Followers.FindOther(Name, this) is { } running)
                paused = await running.PauseAsync(ct).ConfigureAwait(false);
            // Twice at most: once to find the holder, once after pausing it (or after its lease lapsed meanwhile).
            for (var attempt = 0; !await HoldLeaseAsync(ct).ConfigureAwait(false); attempt++)
            {
                var local = _holder is { } holder ? Store.Followers.Find(Name, holder) : null;
                if (attempt > 0 || (_holder is not null && local is null))
                    throw new FollowerBusyException(Name, _tables[0].Shard.Table, _holder, _options.LeaseDuration);
                if (local is not null && paused is null)
                    paused = await local.PauseAsync(ct).ConfigureAwait(false);
            }
            _state = FollowerState.Running;
            return await ReplayUnderLeaseAsync(clear, progress, ct).ConfigureAwait(false);
        }
        finally
        {
            // The lease goes first, so the resumed follower finds it free.
            await LeaveRunAsync().ConfigureAwait(false);
            if (paused is not null)
                await paused.DisposeAsync().ConfigureAwait(false);
        }
    }

    private async Task<long> ReplayUnderLeaseAsync(
        IReadOnlyList<string> clear,
        IProgress<long>? progress,
        CancellationToken ct
    )
    {
        await using var connection = await Store.OpenConnectionAsync(ct).ConfigureAwait(false);
        await using var tx = await Dialect.BeginWriteAsync(connection, ct).ConfigureAwait(false);
        var session = new SpectorSession(connection, tx);
        foreach (var sql in clear)
            await connection
                .ExecuteAsync(new CommandDefinition(sql, transaction: tx, cancellationToken: ct))
                .ConfigureAwait(false);
        var stored = new Dictionary<string, Cursor>(_cursors);
        foreach (var table in _cursors.Keys.ToList())
            _cursors[table] = default;
        long total = 0;
        await using var reads = new BatchReads(this);
        try
        {
            for (var more = true; more; )
            {
                more = false;
                foreach (var (log, shard) in _tables)
                {
                    // Read beside the transaction, which SQLite's write lock does not block (WAL readers never wait).
                    var batch = await reads.ReadAsync(log, shard, _options.BatchSize, ct).ConfigureAwait(false);
                    foreach (var followed in batch)
                        if (Matches(followed))
                            await _handler(followed, session, ct).ConfigureAwait(false);
                    if (batch.Count == 0)
                        continue;
                    var last = batch[^1];
                    _cursors[shard.Table] = new Cursor(
                        last.TxId,
                        last.Event.Position,
                        _cursors[shard.Table].Processed + batch.Count
                    );
                    total += batch.Count;
                    more |= batch.Count == _options.BatchSize;
                    progress?.Report(total);
                }
            }
            var renewed = await connection
                .ExecuteAsync(
                    new CommandDefinition(
                        Sql.RenewLease,
                        new
                        {
                            name = Name,
                            owner = _owner,
                            lease_ms = (long)_options.LeaseDuration.TotalMilliseconds,
                        },
                        tx,
                        cancellationToken: ct
                    )
                )
                .ConfigureAwait(false);
            if (renewed == 0)
                throw new FollowerLeaseLostException(Name);
            foreach (var (table, cursor) in _cursors)
            {
                var moved = await connection
                    .ExecuteAsync(
                        new CommandDefinition(
                            Sql.AdvancePosition,
                            new
                            {
                                name = Name,
                                events_table = table,
                                tx_id = cursor.TxId,
                                position = cursor.Position,
                                count = cursor.Processed,
                                old_tx_id = _checkpoints[table].TxId,
                                old_position = _checkpoints[table].Position,
                            },
                            tx,
                            cancellationToken: ct
                        )
                    )
                    .ConfigureAwait(false);
                if (moved == 0)
                    throw new FollowerLeaseLostException(Name);
            }
            await tx.CommitAsync(ct).ConfigureAwait(false);
            foreach (var (table, cursor) in _cursors)
                _checkpoints[table] = cursor;
            return total;
        }
        catch
        {
            foreach (var (table, cursor) in stored)
                _cursors[table] = cursor;
            throw;
        }
    }
}
