using System.Data.Common;
using Microsoft.Data.Sqlite;
using SQLitePCL;

namespace Spector;

/// <summary>SQLite through Microsoft.Data.Sqlite: its error codes and how a write transaction takes the lock.</summary>
public sealed class SqliteProvider : SpectorProvider
{
    private const int SqliteBusy = 5;
    private const int SqliteCantOpen = 14; // SQLITE_CANTOPEN: the file or its folder cannot be opened
    private const int SqliteConstraintTrigger = 1811; // SQLITE_CONSTRAINT_TRIGGER, raised by RAISE(ABORT, ...)

    private SqliteProvider()
        : base(SqlDialect.Sqlite) { }

    /// <summary>The one instance (the provider holds no state).</summary>
    public static SqliteProvider Instance { get; } = new();

    /// <inheritdoc/>
    /// <remarks>The host disposes the store when it stops: that closes the connections it keeps open.</remarks>
    public override (SpectorStore Store, IAsyncDisposable? Owned) CreateStore(
        string connectionString,
        SpectorOptions? options
    )
    {
        var store = new SqliteStore(connectionString, options);
        return (store, store);
    }

    /// <inheritdoc/>
    protected internal override bool Handles(DbConnection connection) => connection is SqliteConnection;

    // SQLITE_BUSY reaches a write only when a deferred caller transaction read an older snapshot
    // (SQLITE_BUSY_SNAPSHOT) or the busy timeout ran out.
    /// <inheritdoc/>
    protected internal override bool IsSerializationFailure(DbException error) =>
        error is SqliteException { SqliteErrorCode: SqliteBusy };

    // RAISE(ABORT) in the link trigger; only link inserts can meet it.
    /// <inheritdoc/>
    protected internal override bool IsLinkRejected(DbException error) =>
        error is SqliteException { SqliteExtendedErrorCode: SqliteConstraintTrigger };

    /// <inheritdoc/>
    protected internal override bool IsAppendOnlyViolation(DbException error) =>
        error is SqliteException { SqliteExtendedErrorCode: SqliteConstraintTrigger };

    /// <inheritdoc/>
    protected internal override bool CannotConnect(DbException error) =>
        error is SqliteException { SqliteErrorCode: SqliteCantOpen };

    /// <inheritdoc/>
    // IMMEDIATE: the write lock is taken at BEGIN, before the write reads the record's head.
    protected internal override string? OwnTransactionBegin => "BEGIN IMMEDIATE";

    /// <inheritdoc/>
    protected internal override async ValueTask AbandonOwnTransactionAsync(DbConnection connection)
    {
        var sqlite = (SqliteConnection)connection;
        // Some errors (a full disk, an I/O error) end the transaction themselves: then nothing is left to undo.
        if (sqlite.Handle is not { } handle || raw.sqlite3_get_autocommit(handle) != 0)
            return;
        try
        {
            await using var rollback = sqlite.CreateCommand();
            rollback.CommandText = "ROLLBACK";
            await rollback.ExecuteNonQueryAsync().ConfigureAwait(false);
        }
        catch (SqliteException)
        {
            // A connection that may still be inside the transaction must never serve anyone again.
            SqliteConnection.ClearPool(sqlite);
        }
    }

    /// <inheritdoc/>
    protected internal override async ValueTask<DbTransaction> BeginWriteAsync(
        DbConnection connection,
        CancellationToken ct
    ) =>
        // Microsoft.Data.Sqlite begins with BEGIN IMMEDIATE unless deferred: one writer at a time, no stale reads.
        await ((SqliteConnection)connection).BeginTransactionAsync(ct).ConfigureAwait(false);

    /// <inheritdoc/>
    // A deferred caller transaction would otherwise take the lock at its first write, after reading.
    protected internal override ValueTask TakeWriteLockAsync(
        DbConnection connection,
        string noOpWrite,
        CancellationToken ct
    ) => SqliteWriteLock.TakeAsync((SqliteConnection)connection, noOpWrite, ct);
}
