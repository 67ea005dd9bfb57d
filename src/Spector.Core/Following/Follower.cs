using System.Data.Common;
using System.Diagnostics;
using Dapper;

namespace Spector;

/// <summary>
/// Hands every committed event of some events tables to a handler, once caught up then live, and never skips
/// one: a durable checkpoint per table, a lease so one process delivers at a time, retries with backoff, and a
/// typed stop (<see cref="FollowerFailedException"/>) when an event keeps failing. Delivery is at least once; a
/// handler that takes a <see cref="SpectorSession"/> commits its effect with the checkpoint, so it sees each event
/// once. Order: each record's events in sequence order; across records, see docs/followers.md.
/// </summary>
public sealed partial class Follower
{
    private readonly FollowerOptions _options;
    private readonly Func<FollowedEvent, SpectorSession?, CancellationToken, Task> _handler;
    private readonly bool _transactional;
    private readonly string _owner = Guid.NewGuid().ToString("N");
    private readonly IReadOnlyList<(EventLog Log, EventShard Shard)> _tables;
    private readonly HashSet<int>? _schemas;
    private readonly HashSet<string>? _actions;

    // Where reading continues, and what the database holds; they differ only while a plain handler's checkpoint waits.
    private readonly Dictionary<string, Cursor> _cursors = [];
    private readonly Dictionary<string, Cursor> _checkpoints = [];
    private long _checkpointedAt;
    private long _leaseRenewedAt;
    private bool _leaseHeld;
    private long _committed;
    private volatile FollowerState _state = FollowerState.Stopped;
    private volatile string? _holder;
    private int _running;

    // Set while a rebuild in this process has asked the running loop to step aside (see PauseAsync).
    private Pause? _pause;
    private LiveSignal? _signal;

    // Inside RunAsync with a plain handler: checkpoints commit beside the delivery loop (_flushing).
    private bool _live;
    private Task _flushing = Task.CompletedTask;

    /// <summary>A follower whose handler works outside the checkpoint's transaction: each event arrives at least
    /// once.</summary>
    [System.Diagnostics.CodeAnalysis.RequiresDynamicCode(SqlArgs.DapperMapsRows)]
    public Follower(FollowerOptions options, Func<FollowedEvent, CancellationToken, Task> handler)
        : this(options, handler is null ? null! : (e, _, ct) => handler(e, ct), transactional: false) { }

    /// <summary>
    /// A follower whose handler works in the checkpoint's transaction (the session's connection and transaction):
    /// its writes and the checkpoint commit together, so each event's effect happens once. The handler must not
    /// commit or roll back the transaction.
    /// </summary>
    [System.Diagnostics.CodeAnalysis.RequiresDynamicCode(SqlArgs.DapperMapsRows)]
    public Follower(FollowerOptions options, Func<FollowedEvent, SpectorSession, CancellationToken, Task> handler)
        : this(options, handler is null ? null! : (e, session, ct) => handler(e, session!, ct), transactional: true) { }

    private Follower(
        FollowerOptions options,
        Func<FollowedEvent, SpectorSession?, CancellationToken, Task> handler,
        bool transactional
    )
    {
        ArgumentNullException.ThrowIfNull(options);
        _handler = handler ?? throw new ArgumentNullException(nameof(handler));
        options.Validate();
        _options = options;
        _transactional = transactional;
        _tables = options.Logs.SelectMany(log => log.Shards.Select(shard => (log, shard))).ToList();
        _schemas = options.Schemas is null ? null : [.. options.Schemas];
        _actions = options.Actions is null ? null : new HashSet<string>(options.Actions, StringComparer.Ordinal);
    }

    /// <summary>The follower's name.</summary>
    public string Name => _options.Name;

    /// <summary>
    /// What this instance is doing now. <see cref="FollowerState.Running"/> only while it holds the lease by its own
    /// clock: an instance whose lease lapsed unrenewed (a handler slower than the lease) reports
    /// <see cref="FollowerState.Standby"/>, since another instance may hold it by then.
    /// </summary>
    public FollowerState State
    {
        get
        {
            var state = _state;
            return state == FollowerState.Running && !LeaseValid ? FollowerState.Standby : state;
        }
    }

    /// <summary>This instance's lease token, as <see cref="FollowerStatus.Owner"/> shows it while it holds the
    /// lease.</summary>
    public string InstanceId => _owner;

    /// <summary>
    /// The lease token of the instance holding the follower, as this one last saw it: its own <see cref="InstanceId"/>
    /// while running, another's while on standby, null when not known (or nobody holds it).
    /// </summary>
    public string? Holder =>
        State == FollowerState.Running ? _owner
        : _state == FollowerState.Standby ? _holder
        : null;

    private bool LeaseValid =>
        _leaseHeld && Stopwatch.GetElapsedTime(Volatile.Read(ref _leaseRenewedAt)) < _options.LeaseDuration;

    private SpectorStore Store => _options.Logs[0].Store;

    private Dialect Dialect => Dialect.For(Store);

    private FollowerSql Sql => FollowerSql.For(Store.Dialect);

    /// <summary>
    /// Creates the checkpoint tables and this follower's rows (idempotent; new followers start at the beginning),
    /// and on PostgreSQL the notify triggers of the followed tables.
    /// </summary>
    public async Task MigrateAsync(CancellationToken cancellationToken = default)
    {
        await using var connection = await Store.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var tx = await Dialect.BeginWriteAsync(connection, cancellationToken).ConfigureAwait(false);
        var statements = new List<string>();
        if (Sql.MigrationLock is { } lockSql)
            statements.Add(lockSql);
        statements.AddRange(Sql.CreateTables());
        if (_options.UseNotifications)
            statements.AddRange(_tables.SelectMany(t => Sql.Notifications(t.Shard.Table)));
        foreach (var sql in statements)
            await connection
                .ExecuteAsync(new CommandDefinition(sql, transaction: tx, cancellationToken: cancellationToken))
                .ConfigureAwait(false);
        await connection
            .ExecuteAsync(
                new CommandDefinition(Sql.AddFollower, new { name = Name }, tx, cancellationToken: cancellationToken)
            )
            .ConfigureAwait(false);
        foreach (var (_, shard) in _tables)
            await connection
                .ExecuteAsync(
                    new CommandDefinition(
                        Sql.AddPosition,
                        new { name = Name, events_table = shard.Table },
                        tx,
                        cancellationToken: cancellationToken
                    )
                )
                .ConfigureAwait(false);
        await tx.CommitAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Moves the checkpoint of every followed table to the end of the log, so only events written from now on are
    /// delivered. Call it after <see cref="MigrateAsync"/> and before the first run.
    /// </summary>
    public async Task StartAtEndAsync(CancellationToken cancellationToken = default)
    {
        await using var connection = await Store.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        foreach (var (_, shard) in _tables)
        {
            var (txId, position) = await connection
                .QuerySingleAsync<(long, long)>(
                    new CommandDefinition(Sql.End(shard.Table), cancellationToken: cancellationToken)
                )
                .ConfigureAwait(false);
            await connection
                .ExecuteAsync(
                    new CommandDefinition(
                        Sql.SetPosition,
                        new
                        {
                            name = Name,
                            events_table = shard.Table,
                            tx_id = txId,
                            position,
                        },
                        cancellationToken: cancellationToken
                    )
                )
                .ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Follows until cancelled: catches up, then waits for new events (notifications on PostgreSQL, polling with
    /// backoff everywhere) while another process holding the lease keeps this one on standby. Throws
    /// <see cref="FollowerFailedException"/> when the handler keeps failing on one event.
    /// </summary>
    public Task RunAsync(CancellationToken cancellationToken = default)
    {
        if (Store.Dialect != SqlDialect.Sqlite)
            return RunLoopAsync(null, cancellationToken);
        // Microsoft.Data.Sqlite works synchronously, and writers waiting for SQLite's write lock block their threads:
        // under many writers the thread pool starves and a loop that needs a pool thread after every poll lags by
        // seconds. On a thread of its own, with blocking waits, the loop needs none (its SQLite calls complete inline).
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var thread = new Thread(() =>
        {
            try
            {
                RunLoopAsync(LiveSignal.Blocking(_options.Log), cancellationToken).GetAwaiter().GetResult();
                done.SetResult();
            }
            catch (Exception e)
            {
                done.SetException(e);
            }
        })
        {
            IsBackground = true,
            Name = $"Spector follower {Name}",
        };
        thread.Start();
        return done.Task;
    }

    private async Task RunLoopAsync(LiveSignal? blocking, CancellationToken cancellationToken)
    {
        EnterRun();
        Store.Followers.Add(this);
        try
        {
            await using var signal =
                blocking
                ?? await LiveSignal
                    .OpenAsync(Store, Sql.Channel, _options.UseNotifications, _options.Log, cancellationToken)
                    .ConfigureAwait(false);
            _signal = signal;
            _live = !_transactional;
            var idle = _options.MinPollInterval;
            while (!cancellationToken.IsCancellationRequested)
            {
                long delivered;
                try
                {
                    await ObserveFlushAsync(wait: false).ConfigureAwait(false);
                    if (Volatile.Read(ref _pause) is { } pause)
                    {
                        await StepAsideAsync(pause, cancellationToken).ConfigureAwait(false);
                        idle = _options.MinPollInterval;
                        continue;
                    }
                    if (!await HoldLeaseAsync(cancellationToken).ConfigureAwait(false))
                    {
                        _state = FollowerState.Standby;
                        await signal.WaitAsync(StandbyWait, cancellationToken).ConfigureAwait(false);
                        continue;
                    }
                    _state = FollowerState.Running;
                    delivered = await PumpAsync(cancellationToken).ConfigureAwait(false);
                }
                catch (FollowerLeaseLostException e)
                {
                    Report(e.Message);
                    _leaseHeld = false;
                    _state = FollowerState.Standby;
                    continue;
                }
                catch (DbException e) when (!cancellationToken.IsCancellationRequested)
                {
                    // The database went away for a moment: nothing past the checkpoint was committed, so try again.
                    Report(
                        $"Follower {Name}: {e.Message}; retrying in {_options.MaxPollInterval.TotalMilliseconds} ms."
                    );
                    _leaseHeld = false;
                    await Task.Delay(_options.MaxPollInterval, cancellationToken).ConfigureAwait(false);
                    continue;
                }
                idle =
                    delivered > 0
                        ? _options.MinPollInterval
                        : TimeSpan.FromTicks(Math.Min(idle.Ticks * 2, _options.MaxPollInterval.Ticks));
                // Never sleep past the lease's renewal point: a lapsed lease would hand the follower to a standby.
                var wait = TimeSpan.FromTicks(Math.Min(idle.Ticks, _options.LeaseDuration.Ticks / 3));
                if (await signal.WaitAsync(wait, cancellationToken).ConfigureAwait(false))
                    idle = _options.MinPollInterval;
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested) { }
        finally
        {
            Store.Followers.Remove(this);
            _signal = null;
            await SettleFlushAsync().ConfigureAwait(false);
            _live = false;
            // What was delivered is committed on the way out, so a restart does not deliver it again.
            if (_leaseHeld && _state != FollowerState.Failed)
            {
                try
                {
                    await FlushCheckpointsAsync(CancellationToken.None).ConfigureAwait(false);
                }
                catch (Exception e) when (e is FollowerLeaseLostException or DbException)
                {
                    Report(
                        $"Follower {Name}: the last checkpoint did not commit ({e.Message}); "
                            + "those events are delivered again."
                    );
                }
            }
            // A rebuild waiting for this loop to step aside need not wait: a stopped follower holds nothing.
            Volatile.Read(ref _pause)?.SteppedAside.TrySetResult();
            await LeaveRunAsync().ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Delivers everything committed now and returns how many events passed the checkpoint (delivered or filtered
    /// out); 0 when another process holds the lease. For tests, tools and batch jobs.
    /// </summary>
    public async Task<long> CatchUpAsync(CancellationToken cancellationToken = default)
    {
        EnterRun();
        try
        {
            if (!await HoldLeaseAsync(cancellationToken).ConfigureAwait(false))
                return 0;
            _state = FollowerState.Running;
            var before = _committed;
            try
            {
                await PumpAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (FollowerLeaseLostException e)
            {
                Report(e.Message);
            }
            return _committed - before;
        }
        finally
        {
            await LeaveRunAsync().ConfigureAwait(false);
        }
    }

    /// <summary>The follower's checkpoint, lease, lag and last failure, as stored.</summary>
    public async Task<FollowerStatus> ReadStatusAsync(CancellationToken cancellationToken = default)
    {
        await using var connection = await Store.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        var row = await connection
            .QuerySingleOrDefaultAsync<(string? Owner, bool Held, string? Error, string? Failed, int Attempts)>(
                new CommandDefinition(Sql.ReadFollower, new { name = Name }, cancellationToken: cancellationToken)
            )
            .ConfigureAwait(false);
        var positions = await ReadPositionsAsync(connection, null, cancellationToken).ConfigureAwait(false);
        var tables = new List<FollowerTableStatus>();
        foreach (var (_, shard) in _tables)
        {
            var cursor = positions.GetValueOrDefault(shard.Table);
            await using var command = connection.CreateCommand();
            command.CommandText = Sql.Lag(shard.Table);
            EventReader.AddParameter(command, "tx_id", cursor.TxId);
            EventReader.AddParameter(command, "position", cursor.Position);
            await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            await reader.ReadAsync(cancellationToken).ConfigureAwait(false);
            var count = reader.GetInt64(0);
            var lag = reader.IsDBNull(1) ? TimeSpan.Zero : DateTimeOffset.UtcNow - Dialect.ReadTimestamp(reader, 1);
            tables.Add(
                new FollowerTableStatus(
                    shard.Table,
                    cursor.TxId,
                    cursor.Position,
                    cursor.Processed,
                    count,
                    lag < TimeSpan.Zero ? TimeSpan.Zero : lag
                )
            );
        }
        return new FollowerStatus(
            Name,
            row.Owner,
            row.Held,
            tables,
            row.Error,
            Guid.TryParse(row.Failed, out var id) ? id : null,
            row.Attempts
        );
    }

    /// <summary>Removes the follower's checkpoint, lease and status; a later run starts again from the
    /// beginning.</summary>
    public async Task ForgetAsync(CancellationToken cancellationToken = default)
    {
        await using var connection = await Store.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        foreach (var positions in new[] { true, false })
            await connection
                .ExecuteAsync(
                    new CommandDefinition(
                        Sql.Forget(positions),
                        new { name = Name },
                        cancellationToken: cancellationToken
                    )
                )
                .ConfigureAwait(false);
    }

    private TimeSpan StandbyWait =>
        TimeSpan.FromTicks(Math.Min(_options.LeaseDuration.Ticks / 4, _options.MaxPollInterval.Ticks));

    private void EnterRun()
    {
        if (Interlocked.Exchange(ref _running, 1) == 1)
            throw new InvalidOperationException($"Follower {Name} is already running in this instance.");
    }

    private async Task LeaveRunAsync()
    {
        try
        {
            await ReleaseLeaseAsync().ConfigureAwait(false);
        }
        finally
        {
            if (_state != FollowerState.Failed)
                _state = FollowerState.Stopped;
            Volatile.Write(ref _running, 0);
        }
    }

    private async Task ReleaseLeaseAsync()
    {
        try
        {
            if (_leaseHeld)
            {
                await using var connection = await Store
                    .OpenConnectionAsync(CancellationToken.None)
                    .ConfigureAwait(false);
                await connection
                    .ExecuteAsync(Sql.ReleaseLease, new { name = Name, owner = _owner })
                    .ConfigureAwait(false);
            }
        }
        catch (DbException e)
        {
            // The lease lapses by itself; the next holder waits at most its duration.
            Report($"Follower {Name} could not release its lease: {e.Message}");
        }
        finally
        {
            _leaseHeld = false;
        }
    }

    /// <summary>
    /// True when this process holds the lease, renewing it when a third of it has passed. A newly taken lease
    /// reloads the cursors: another process may have moved them.
    /// </summary>
    private async Task<bool> HoldLeaseAsync(CancellationToken ct)
    {
        if (_leaseHeld && Stopwatch.GetElapsedTime(_leaseRenewedAt) < _options.LeaseDuration / 3)
            return true;
        // Counted from before the round trip: this process never believes in a longer lease than the database granted.
        var asked = Stopwatch.GetTimestamp();
        await using var connection = await Store.OpenConnectionAsync(ct).ConfigureAwait(false);
        var taken = await connection
            .ExecuteAsync(
                new CommandDefinition(
                    Sql.AcquireLease,
                    new
                    {
                        name = Name,
                        owner = _owner,
                        lease_ms = (long)_options.LeaseDuration.TotalMilliseconds,
                    },
                    cancellationToken: ct
                )
            )
            .ConfigureAwait(false);
        if (taken == 0)
        {
            if (_leaseHeld)
                Report($"Follower {Name} lost its lease to another process.");
            _leaseHeld = false;
            _holder = await connection
                .QuerySingleOrDefaultAsync<string?>(
                    new CommandDefinition(Sql.ReadHolder, new { name = Name }, cancellationToken: ct)
                )
                .ConfigureAwait(false);
            return false;
        }
        if (!_leaseHeld)
        {
            // A commit still running beside the loop would write checkpoints over the ones read here.
            await SettleFlushAsync().ConfigureAwait(false);
            var positions = await ReadPositionsAsync(connection, null, ct).ConfigureAwait(false);
            var missing = _tables.FirstOrDefault(t => !positions.ContainsKey(t.Shard.Table)).Shard;
            if (missing is not null)
                throw new InvalidOperationException(
                    $"Follower {Name} has no checkpoint for events table {missing.Table}: call MigrateAsync first."
                );
            _cursors.Clear();
            _checkpoints.Clear();
            foreach (var (table, cursor) in positions)
                _cursors[table] = _checkpoints[table] = cursor;
            Report($"Follower {Name} took the lease.");
        }
        _leaseHeld = true;
        _holder = _owner;
        Volatile.Write(ref _leaseRenewedAt, asked);
        return true;
    }

    private void Report(string line) => _options.Log?.Invoke(line);
}
