using System.Data.Common;

namespace Spector;

/// <summary>
/// A connection for one operation: the caller's (from a <see cref="SpectorSession"/>) or one opened from the
/// events table's store, which the lease then closes.
/// </summary>
internal sealed class ConnectionLease : IAsyncDisposable
{
    private readonly bool _owned;

    private ConnectionLease(DbConnection connection, DbTransaction? transaction, Dialect dialect, bool owned)
    {
        Connection = connection;
        Transaction = transaction;
        Dialect = dialect;
        _owned = owned;
    }

    public DbConnection Connection { get; }
    public DbTransaction? Transaction { get; }
    public Dialect Dialect { get; }

    public static async ValueTask<ConnectionLease> OpenAsync(
        EventLog log,
        SpectorSession? session,
        CancellationToken ct
    )
    {
        if (session is { HasConnection: true })
            return new(session.Connection, session.Transaction, session.Dialect, owned: false);
        var store = session?.Store ?? log.Store;
        var connection = await store.OpenConnectionAsync(ct).ConfigureAwait(false);
        return new(connection, null, Dialect.For(store), owned: true);
    }

    public ValueTask DisposeAsync() => _owned ? Connection.DisposeAsync() : ValueTask.CompletedTask;
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
    ) => RunAsync(log, session, (connection, tx, dialect, _) => attempt(connection, tx, dialect), ct);

    /// <summary>
    /// As above; in its own transaction on a database whose last command can carry the COMMIT, the attempt gets an
    /// <see cref="InlineCommit"/> and, when it commits that way, nothing is sent afterwards.
    /// </summary>
    public static async Task<TResult> RunAsync<TResult>(
        EventLog log,
        SpectorSession? session,
        Func<DbConnection, DbTransaction, Dialect, InlineCommit?, Task<TResult>> attempt,
        CancellationToken ct
    )
    {
        await using var lease = await ConnectionLease.OpenAsync(log, session, ct).ConfigureAwait(false);
        if (lease.Transaction is { } outer)
        {
            await outer.SaveAsync(SavepointName, ct).ConfigureAwait(false);
            try
            {
                var result = await attempt(lease.Connection, outer, lease.Dialect, null).ConfigureAwait(false);
                await outer.ReleaseAsync(SavepointName, ct).ConfigureAwait(false);
                return result;
            }
            catch
            {
                await outer.RollbackAsync(SavepointName, CancellationToken.None).ConfigureAwait(false);
                throw;
            }
        }

        await using var tx = await lease.Dialect.BeginWriteAsync(lease.Connection, ct).ConfigureAwait(false);
        var inline = lease.Dialect.CommitsInCommand ? new InlineCommit() : null;
        var value = await attempt(lease.Connection, tx, lease.Dialect, inline).ConfigureAwait(false);
        if (inline is not { Committed: true })
            await tx.CommitAsync(ct).ConfigureAwait(false);
        // Followers of this log in this process need not wait for their next poll.
        (session?.Store ?? log.Store).Followers.Appended(log);
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
