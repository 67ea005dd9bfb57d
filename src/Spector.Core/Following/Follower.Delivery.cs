using System.Data.Common;
using Dapper;

namespace Spector;

public sealed partial class Follower
{
    /// <summary>Everything up to (TxId, Position) of one table is behind the checkpoint.</summary>
    private readonly record struct Cursor(long TxId, long Position, long Processed);

    /// <summary>One batch's outcome: how many events are now behind the checkpoint, and where and why it
    /// stopped.</summary>
    private readonly record struct BatchResult(int Committed, int FailedAt, Exception? Error);

    private async Task<Dictionary<string, Cursor>> ReadPositionsAsync(
        DbConnection connection,
        DbTransaction? tx,
        CancellationToken ct
    )
    {
        var rows = await connection
            .QueryAsync<(string Table, long TxId, long Position, long Processed)>(
                new CommandDefinition(Sql.ReadPositions, new { name = Name }, tx, cancellationToken: ct)
            )
            .ConfigureAwait(false);
        return rows.ToDictionary(r => r.Table, r => new Cursor(r.TxId, r.Position, r.Processed));
    }

    /// <summary>
    /// Reads and delivers batch after batch, one table after another, until every table is caught up. On PostgreSQL
    /// a table whose read came back full is behind, and its next read takes twice as many events, up to
    /// <see cref="ReadAhead"/> batches: each batch is still delivered and committed on its own, but a catch-up pays
    /// one round trip per read instead of one per batch. A follower that keeps up reads one batch at a time.
    /// </summary>
    private async Task<long> PumpAsync(CancellationToken ct)
    {
        long total = 0;
        var batchSize = _options.BatchSize;
        // SQLite reads in process: there is no round trip to save, and a longer read only keeps its events alive.
        var maxRead =
            Dialect.Kind == SqlDialect.PostgreSql
                ? Math.Max(batchSize, Math.Min(batchSize * ReadAhead, MaxReadEvents))
                : batchSize;
        var limits = _tables.ToDictionary(t => t.Shard.Table, _ => batchSize);
        await using (var reads = new BatchReads(this))
            for (var more = true; more; )
            {
                more = false;
                foreach (var (log, shard) in _tables)
                {
                    var limit = limits[shard.Table];
                    var events = await reads.ReadAsync(log, shard, limit, ct).ConfigureAwait(false);
                    var full = events.Count == limit;
                    limits[shard.Table] = full ? Math.Min(limit * 2, maxRead) : batchSize;
                    for (var from = 0; from < events.Count; from += batchSize)
                    {
                        // Events read but not delivered are read again from the cursor, which only moves on delivery.
                        if (from > 0 && Volatile.Read(ref _pause) is not null)
                            break;
                        var to = Math.Min(from + batchSize, events.Count);
                        await DeliverAsync(shard.Table, events, from, to, ct).ConfigureAwait(false);
                        total += to - from;
                    }
                    more |= full;
                }
                // A rebuild waiting for this follower to step aside should not wait for a whole catch-up.
                more &= Volatile.Read(ref _pause) is null;
            }
        if (_live)
            StartFlush(ct);
        else
            await FlushCheckpointsAsync(ct).ConfigureAwait(false);
        return total;
    }

    /// <summary>How many batches one read may take while a table is behind (see <see cref="PumpAsync"/>).</summary>
    private const int ReadAhead = 4;

    /// <summary>
    /// The most events one read takes for read-ahead (a larger <see cref="FollowerOptions.BatchSize"/> is read as it
    /// is). Kept small: on a table PostgreSQL has no statistics for yet (freshly loaded, not analyzed), a limit near
    /// a tenth of the table made it sort every remaining row for each read instead of walking the index (8,192 of
    /// 200,000 did; 4,096 did not).
    /// </summary>
    private const int MaxReadEvents = 4096;

    /// <summary>Commits every cursor that moved past its stored checkpoint (a plain handler's pending
    /// checkpoints).</summary>
    private async Task FlushCheckpointsAsync(CancellationToken ct)
    {
        await ObserveFlushAsync(wait: true).ConfigureAwait(false);
        foreach (var (table, cursor) in _cursors.ToList())
        {
            if (cursor == _checkpoints[table])
                continue;
            await using var connection = await Store.OpenConnectionAsync(ct).ConfigureAwait(false);
            await using var tx = await Dialect.BeginWriteAsync(connection, ct).ConfigureAwait(false);
            await CommitCheckpointAsync(connection, tx, table, cursor, ct).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Delivers one batch, <paramref name="events"/> from <paramref name="from"/> to before <paramref name="to"/>, in
    /// order. A failing event is retried alone, with backoff, after the events before it are committed; after
    /// <see cref="FollowerOptions.MaxAttempts"/> the follower stops there.
    /// </summary>
    private async Task DeliverAsync(string table, List<FollowedEvent> events, int from, int to, CancellationToken ct)
    {
        var offset = from;
        var failing = -1;
        var attempts = 0;
        while (offset < to)
        {
            var take =
                failing > offset ? failing - offset
                : failing == offset ? 1
                : to - offset;
            if (failing == offset)
                await Task.Delay(RetryDelay(attempts), ct).ConfigureAwait(false);
            var result = _transactional
                ? await TryInTransactionAsync(table, events, offset, take, ct).ConfigureAwait(false)
                : await TryOutsideTransactionAsync(table, events, offset, take, ct).ConfigureAwait(false);
            var start = offset;
            offset += result.Committed;
            if (result.Error is null)
            {
                if (offset > failing)
                    (failing, attempts) = (-1, 0);
                continue;
            }
            var index = start + result.FailedAt;
            attempts = index == failing ? attempts + 1 : 1;
            failing = index;
            var followed = events[index];
            Report(
                $"Follower {Name}: attempt {attempts} of {_options.MaxAttempts} failed on event {followed.Id} "
                    + $"(position {followed.Event.Position} of {table}): {result.Error.Message}"
            );
            await RecordFailureAsync(followed, attempts, result.Error, ct).ConfigureAwait(false);
            if (attempts >= _options.MaxAttempts)
            {
                _state = FollowerState.Failed;
                throw new FollowerFailedException(Name, followed, attempts, result.Error);
            }
        }
    }

    private TimeSpan RetryDelay(int attempts)
    {
        var ticks = _options.FirstRetryDelay.Ticks * Math.Pow(2, Math.Min(attempts - 1, 30));
        return TimeSpan.FromTicks((long)Math.Min(ticks, _options.MaxRetryDelay.Ticks));
    }

    private bool Matches(FollowedEvent followed) =>
        (_schemas is null || _schemas.Contains(followed.Event.Schema))
        && (_actions is null || (followed.Event.Action is { } action && _actions.Contains(action)));

    /// <summary>Handler calls and checkpoint in one transaction: all of them commit, or none.</summary>
    private async Task<BatchResult> TryInTransactionAsync(
        string table,
        List<FollowedEvent> events,
        int offset,
        int take,
        CancellationToken ct
    )
    {
        await using var connection = await Store.OpenConnectionAsync(ct).ConfigureAwait(false);
        await using var tx = await Dialect.BeginWriteAsync(connection, ct).ConfigureAwait(false);
        var session = new SpectorSession(connection, tx);
        for (var i = 0; i < take; i++)
        {
            var followed = events[offset + i];
            if (!Matches(followed))
                continue;
            try
            {
                await _handler(followed, session, ct).ConfigureAwait(false);
            }
            catch (Exception e) when (!ct.IsCancellationRequested)
            {
                await tx.RollbackAsync(CancellationToken.None).ConfigureAwait(false);
                return new BatchResult(0, i, e);
            }
        }
        await CommitCheckpointAsync(
                connection,
                tx,
                table,
                Advance(_cursors[table], events[offset + take - 1], take),
                ct
            )
            .ConfigureAwait(false);
        return new BatchResult(take, take, null);
    }

    /// <summary>Handler calls first, then the checkpoint up to the last event handled: a crash between them repeats
    /// events.</summary>
    private async Task<BatchResult> TryOutsideTransactionAsync(
        string table,
        List<FollowedEvent> events,
        int offset,
        int take,
        CancellationToken ct
    )
    {
        if (!await HoldLeaseAsync(ct).ConfigureAwait(false))
            throw new FollowerLeaseLostException(Name);
        var done = 0;
        Exception? error = null;
        for (; done < take; done++)
        {
            var followed = events[offset + done];
            if (!Matches(followed))
                continue;
            try
            {
                await _handler(followed, null, ct).ConfigureAwait(false);
            }
            catch (Exception e) when (!ct.IsCancellationRequested)
            {
                error = e;
                break;
            }
        }
        if (done > 0)
            _cursors[table] = Advance(_cursors[table], events[offset + done - 1], done);
        // The events before a failure are committed at once: a stop leaves the checkpoint right before the failing one.
        if (error is not null)
            await FlushCheckpointsAsync(ct).ConfigureAwait(false);
        else if (System.Diagnostics.Stopwatch.GetElapsedTime(_checkpointedAt) >= _options.CheckpointInterval)
        {
            if (_live)
                StartFlush(ct);
            else
                await FlushCheckpointsAsync(ct).ConfigureAwait(false);
        }
        return new BatchResult(done, done, error);
    }

    private static Cursor Advance(Cursor from, FollowedEvent last, int count) =>
        new(last.TxId, last.Event.Position, from.Processed + count);

    /// <summary>
    /// Renews the lease and moves the stored checkpoint from where this process last saw it to
    /// <paramref name="target"/>, then commits. Either changes nothing when another process took over: the
    /// transaction is rolled back and this one goes to standby.
    /// </summary>
    private async Task CommitCheckpointAsync(
        System.Data.Common.DbConnection connection,
        System.Data.Common.DbTransaction tx,
        string table,
        Cursor target,
        CancellationToken ct
    )
    {
        var asked = System.Diagnostics.Stopwatch.GetTimestamp();
        var old = _checkpoints[table];
        if (!await RenewAndAdvanceAsync(connection, tx, table, old, target, ct).ConfigureAwait(false))
        {
            await tx.RollbackAsync(CancellationToken.None).ConfigureAwait(false);
            _leaseHeld = false;
            throw new FollowerLeaseLostException(Name);
        }
        await tx.CommitAsync(ct).ConfigureAwait(false);
        _cursors[table] = _checkpoints[table] = target;
        _committed += target.Processed - old.Processed;
        _checkpointedAt = asked;
        Volatile.Write(ref _leaseRenewedAt, asked);
    }

    /// <summary>
    /// Live, with a plain handler: commits the pending checkpoints beside the delivery loop, so the loop never waits
    /// for the write lock (SQLite) or a WAL flush while events arrive. One commit at a time; a later call while
    /// one runs does nothing (the next one takes the newer cursors). Its failure surfaces in the loop.
    /// </summary>
    private void StartFlush(CancellationToken ct)
    {
        if (!_flushing.IsCompleted)
            return;
        if (_flushing.IsFaulted)
            return;
        var targets = _cursors.Where(c => c.Value != _checkpoints[c.Key]).ToList();
        if (targets.Count == 0)
            return;
        _flushing = Task.Run(() => CommitBesideAsync(targets, ct), CancellationToken.None);
    }

    private async Task CommitBesideAsync(List<KeyValuePair<string, Cursor>> targets, CancellationToken ct)
    {
        foreach (var (table, target) in targets)
        {
            var asked = System.Diagnostics.Stopwatch.GetTimestamp();
            await using var connection = await Store.OpenConnectionAsync(ct).ConfigureAwait(false);
            await using var tx = await Dialect.BeginWriteAsync(connection, ct).ConfigureAwait(false);
            var old = _checkpoints[table];
            if (!await RenewAndAdvanceAsync(connection, tx, table, old, target, ct).ConfigureAwait(false))
            {
                await tx.RollbackAsync(CancellationToken.None).ConfigureAwait(false);
                throw new FollowerLeaseLostException(Name);
            }
            await tx.CommitAsync(ct).ConfigureAwait(false);
            _checkpoints[table] = target;
            Interlocked.Add(ref _committed, target.Processed - old.Processed);
            _checkpointedAt = asked;
            Volatile.Write(ref _leaseRenewedAt, asked);
        }
    }

    /// <summary>
    /// Waits for (or, without <paramref name="wait"/>, only looks at a finished) checkpoint commit running beside the
    /// loop, and rethrows its failure: a lost lease or a database error is handled where the loop handles its own.
    /// </summary>
    private async Task ObserveFlushAsync(bool wait)
    {
        var flushing = _flushing;
        if (flushing.IsCompleted is false && !wait)
            return;
        _flushing = Task.CompletedTask;
        await flushing.ConfigureAwait(false);
    }

    /// <summary>Waits for a commit running beside the loop and ignores its outcome (the lease is being dropped
    /// anyway).</summary>
    private async Task SettleFlushAsync()
    {
        try
        {
            await ObserveFlushAsync(wait: true).ConfigureAwait(false);
        }
        catch (Exception e) when (e is FollowerLeaseLostException or DbException or OperationCanceledException)
        {
            Report(
                $"Follower {Name}: a checkpoint commit did not complete ({e.Message}); "
                    + "those events are delivered again."
            );
        }
    }

    /// <summary>In the checkpoint's transaction: renews the lease and moves the cursor from <paramref name="old"/>;
    /// false when either is no longer ours.</summary>
    private async Task<bool> RenewAndAdvanceAsync(
        DbConnection connection,
        DbTransaction tx,
        string table,
        Cursor old,
        Cursor target,
        CancellationToken ct
    )
    {
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
        return renewed > 0
            && await connection
                .ExecuteAsync(
                    new CommandDefinition(
                        Sql.AdvancePosition,
                        new
                        {
                            name = Name,
                            events_table = table,
                            tx_id = target.TxId,
                            position = target.Position,
                            count = target.Processed - old.Processed,
                            old_tx_id = old.TxId,
                            old_position = old.Position,
                        },
                        tx,
                        cancellationToken: ct
                    )
                )
                .ConfigureAwait(false) > 0;
    }

    private async Task RecordFailureAsync(FollowedEvent followed, int attempts, Exception error, CancellationToken ct)
    {
        var message = error.Message.Length > 2000 ? error.Message[..2000] : error.Message;
        await using var connection = await Store.OpenConnectionAsync(ct).ConfigureAwait(false);
        await connection
            .ExecuteAsync(
                new CommandDefinition(
                    Sql.RecordFailure,
                    new
                    {
                        name = Name,
                        error = $"{error.GetType().Name}: {message}",
                        event_id = followed.Id.ToString(),
                        attempts,
                    },
                    cancellationToken: ct
                )
            )
            .ConfigureAwait(false);
    }
}
