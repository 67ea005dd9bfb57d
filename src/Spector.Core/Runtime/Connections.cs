using System.Data.Common;
using Dapper;

namespace Spector;

/// <summary>
/// A connection for one operation: the caller's (from a <see cref="SpectorSession"/>), one opened from the events
/// table's store, which the lease then closes, or one lent by the store's <see cref="ConnectionPool"/>, which goes
/// back when the operation <see cref="Succeeded"/> and is closed otherwise.
/// </summary>
internal sealed class ConnectionLease : IAsyncDisposable
{
    private readonly bool _owned;
    private readonly ConnectionPool? _pool;
    private readonly PooledConnection? _pooled;
    private readonly SpectorStore? _store;
    private bool _succeeded;

    private ConnectionLease(
        DbConnection connection,
        DbTransaction? transaction,
        Dialect dialect,
        bool owned,
        SpectorStore? store,
        ConnectionPool? pool = null,
        PooledConnection? pooled = null
    )
    {
        _store = store;
        Connection = connection;
        Transaction = transaction;
        Dialect = dialect;
        _owned = owned;
        _pool = pool;
        _pooled = pooled;
    }

    public DbConnection Connection { get; }
    public DbTransaction? Transaction { get; }
    public Dialect Dialect { get; }

    /// <summary>True for a connection lent by the store's pool: its commands stay prepared between
    /// operations.</summary>
    public bool KeepsCommands => _pooled is not null;

    /// <summary>The session's connection, or one of its store's; <paramref name="pooled"/> takes it from the
    /// store's pool when it keeps one (writes).</summary>
    public static async ValueTask<ConnectionLease> OpenAsync(
        EventLog log,
        SpectorSession? session,
        CancellationToken ct,
        bool pooled = false
    )
    {
        if (session is { HasConnection: true })
            return new(session.Connection, session.Transaction, session.Dialect, owned: false, session.Store);
        var store = session?.Store ?? log.Store;
        if (pooled && store.Pool is { } pool)
        {
            var lent = await pool.RentAsync(ct).ConfigureAwait(false);
            return new(lent.Connection, null, Dialect.For(store), owned: true, store, pool, lent);
        }
        var connection = await store.OpenConnectionAsync(ct).ConfigureAwait(false);
        return new(connection, null, Dialect.For(store), owned: true, store);
    }

    /// <summary>The operation ended cleanly: a pooled connection may serve the next one.</summary>
    public void Succeeded() => _succeeded = true;

    /// <summary>
    /// A command for <paramref name="sql"/> in <paramref name="transaction"/>: on a pooled connection the one kept
    /// for that text, its statements already prepared. Give it back with <see cref="ReleaseAsync"/>.
    /// </summary>
    public DbCommand Command(string sql, DbTransaction? transaction)
    {
        var command = _pooled?.Rent(sql);
        if (command is null)
        {
            command = Connection.CreateCommand();
            command.CommandText = sql;
        }
        command.Transaction = transaction;
        return command;
    }

    /// <summary>Prepares <paramref name="command"/>, its parameters added, where the provider prepares Spector's
    /// statements (<see cref="Dialect.PreparesCommands"/>).</summary>
    public async Task PrepareAsync(DbCommand command, CancellationToken ct)
    {
        if (!Dialect.PreparesCommands || _store is { CannotPrepare: true } or { Options.PrepareStatements: false })
            return;
        try
        {
            await command.PrepareAsync(ct).ConfigureAwait(false);
        }
        catch (NotSupportedException)
        {
            // Npgsql prepares nothing on a multiplexing data source: the statement runs unprepared.
            _store?.CannotPrepare = true;
        }
    }

    /// <summary>Ends the use of a <see cref="Command"/>: a kept command stays prepared, any other is
    /// disposed.</summary>
    public ValueTask ReleaseAsync(DbCommand command) =>
        _pooled?.Return(command) == true ? ValueTask.CompletedTask : command.DisposeAsync();

    /// <summary>Runs <paramref name="sql"/> with <paramref name="args"/>; returns the rows it changed.</summary>
    public async Task<int> ExecuteAsync(string sql, SqlArgs args, DbTransaction? transaction, CancellationToken ct)
    {
        // Values only Dapper knows how to bind (type handlers, lists) go through Dapper, on a command of their own.
        if (!args.BindsPlainly || (_pooled is null && !Dialect.PreparesCommands))
            return await Connection
                .ExecuteAsync(new CommandDefinition(sql, args, transaction, cancellationToken: ct))
                .ConfigureAwait(false);
        var command = Command(sql, transaction);
        try
        {
            args.AddTo(command);
            await PrepareAsync(command, ct).ConfigureAwait(false);
            return await command.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
        }
        finally
        {
            await ReleaseAsync(command).ConfigureAwait(false);
        }
    }

    public ValueTask DisposeAsync() =>
        _pooled is not null ? _pool!.ReturnAsync(_pooled, _succeeded)
        : _owned ? Connection.DisposeAsync()
        : ValueTask.CompletedTask;
}

/// <summary>Runs one write attempt in a transaction that commits or rolls back as a unit.</summary>
internal static class WriteTransaction
{
    private const string SavepointName = "spector_write";

    /// <summary>
    /// Without a session, or with a session that has no transaction, the attempt gets its own transaction.
    /// Inside the caller's transaction it runs under a savepoint, so a lost race or an invalid changeset
    /// undoes only this write and the caller's transaction stays usable.
    /// </summary>
    public static Task<TResult> RunAsync<TResult>(
        EventLog log,
        SpectorSession? session,
        Func<DbConnection, DbTransaction, Dialect, Task<TResult>> attempt,
        CancellationToken ct
    ) =>
        RunAsync(
            log,
            session,
            // Without statements every attempt runs in a driver transaction: tx is never null here.
            (lease, tx, _) => attempt(lease.Connection, tx!, lease.Dialect),
            ct,
            statements: false
        );

    /// <summary>
    /// As above, with the lease itself (its kept commands); in its own transaction on a database whose last command
    /// can carry the COMMIT, the attempt gets an <see cref="InlineCommit"/> and, when it commits that way, nothing
    /// is sent afterwards. With <paramref name="statements"/>, a kept connection whose provider begins with a
    /// statement (SQLite) runs the transaction as kept statements and the attempt gets no transaction object.
    /// </summary>
    public static async Task<TResult> RunAsync<TResult>(
        EventLog log,
        SpectorSession? session,
        Func<ConnectionLease, DbTransaction?, InlineCommit?, Task<TResult>> attempt,
        CancellationToken ct,
        bool statements = true
    )
    {
        await using var lease = await ConnectionLease.OpenAsync(log, session, ct, pooled: true).ConfigureAwait(false);
        if (lease.Transaction is { } outer)
        {
            await outer.SaveAsync(SavepointName, ct).ConfigureAwait(false);
            try
            {
                var result = await attempt(lease, outer, null).ConfigureAwait(false);
                await outer.ReleaseAsync(SavepointName, ct).ConfigureAwait(false);
                return result;
            }
            catch
            {
                await outer.RollbackAsync(SavepointName, CancellationToken.None).ConfigureAwait(false);
                throw;
            }
        }

        // Inline projections get the write's transaction as a session: they need a transaction object.
        var value =
            statements
            && lease.KeepsCommands
            && log.InlineProjections.Count == 0
            && lease.Dialect.OwnTransactionBegin is { } begin
                ? await CommitInStatementsAsync(lease, begin, attempt, ct).ConfigureAwait(false)
                : await CommitAsync(lease, attempt, ct).ConfigureAwait(false);
        lease.Succeeded();
        // Followers of this log in this process need not wait for their next poll.
        (session?.Store ?? log.Store).Followers.Appended(log);
        return value;
    }

    /// <summary>
    /// The write's transaction without a driver transaction object: BEGIN, COMMIT (unless the write's last command
    /// carried it) and, after a failure, ROLLBACK run as statements the connection keeps prepared.
    /// </summary>
    private static async Task<TResult> CommitInStatementsAsync<TResult>(
        ConnectionLease lease,
        string begin,
        Func<ConnectionLease, DbTransaction?, InlineCommit?, Task<TResult>> attempt,
        CancellationToken ct
    )
    {
        await lease.ExecuteAsync(begin, new SqlArgs(0), null, ct).ConfigureAwait(false);
        try
        {
            var inline = new InlineCommit();
            var value = await attempt(lease, null, inline).ConfigureAwait(false);
            if (!inline.Committed)
                await lease.ExecuteAsync("COMMIT", new SqlArgs(0), null, ct).ConfigureAwait(false);
            return value;
        }
        catch
        {
            await lease.Dialect.AbandonOwnTransactionAsync(lease.Connection).ConfigureAwait(false);
            throw;
        }
    }

    private static async Task<TResult> CommitAsync<TResult>(
        ConnectionLease lease,
        Func<ConnectionLease, DbTransaction?, InlineCommit?, Task<TResult>> attempt,
        CancellationToken ct
    )
    {
        await using var tx = await lease.Dialect.BeginWriteAsync(lease.Connection, ct).ConfigureAwait(false);
        var inline = lease.Dialect.CommitsInCommand ? new InlineCommit() : null;
        var value = await attempt(lease, tx, inline).ConfigureAwait(false);
        if (inline is not { Committed: true })
            await tx.CommitAsync(ct).ConfigureAwait(false);
        return value;
    }
}

/// <summary>
/// Lets a write in its own transaction end its last command with COMMIT (a round trip fewer). The writer sets
/// <see cref="Committed"/> once that command has run; the transaction is then over and is not committed again.
/// </summary>
internal sealed class InlineCommit
{
    public bool Committed { get; private set; }

    public void MarkCommitted() => Committed = true;
}
