using System.Data.Common;
using Microsoft.Data.Sqlite;
using Npgsql;

namespace Spector;

/// <summary>Where an events table lives: a database and how to open connections to it.</summary>
public abstract class SpectorStore
{
    private protected SpectorStore(SqlDialect dialect) => Dialect = dialect;

    /// <summary>The database kind.</summary>
    public SqlDialect Dialect { get; }

    /// <summary>Opens a connection; the caller disposes it.</summary>
    public abstract ValueTask<DbConnection> OpenConnectionAsync(CancellationToken cancellationToken = default);

    /// <summary>An embedded SQLite database file (created when missing), in WAL mode.</summary>
    public static SpectorStore Sqlite(string connectionString) => new SqliteStore(connectionString);

    /// <summary>A PostgreSQL database reached through an Npgsql data source (which owns pooling).</summary>
    public static SpectorStore Postgres(NpgsqlDataSource dataSource) => new PostgresStore(dataSource);
}

internal sealed class SqliteStore : SpectorStore
{
    private readonly string _connectionString;
    private int _walChecked;

    public SqliteStore(string connectionString) : base(SqlDialect.Sqlite)
    {
        // Pooling keeps opens cheap; the per-connection pragmas below are then a few microseconds.
        _connectionString = new SqliteConnectionStringBuilder(connectionString) { Pooling = true }.ToString();
    }

    public override async ValueTask<DbConnection> OpenConnectionAsync(CancellationToken cancellationToken = default)
    {
        var connection = new SqliteConnection(_connectionString);
        try
        {
            await connection.OpenAsync(cancellationToken).ConfigureAwait(false);
            await using var pragma = connection.CreateCommand();
            // WAL lets readers run beside the one writer; NORMAL sync is WAL's usual durability trade.
            pragma.CommandText = Interlocked.Exchange(ref _walChecked, 1) == 0
                ? "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=30000;"
                : "PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=30000;";
            await pragma.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            return connection;
        }
        catch
        {
            await connection.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }
}

internal sealed class PostgresStore(NpgsqlDataSource dataSource) : SpectorStore(SqlDialect.PostgreSql)
{
    public override async ValueTask<DbConnection> OpenConnectionAsync(CancellationToken cancellationToken = default) =>
        await dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
}

/// <summary>
/// A caller's open connection and, optionally, transaction. Operations given a session run inside it, so
/// the event commits (or rolls back) with the caller's own work. Without a transaction each operation
/// commits on its own.
/// </summary>
public sealed class SpectorSession
{
    /// <summary>Wraps an open <see cref="NpgsqlConnection"/> or <see cref="SqliteConnection"/>.</summary>
    public SpectorSession(DbConnection connection, DbTransaction? transaction = null)
    {
        ArgumentNullException.ThrowIfNull(connection);
        if (connection.State != System.Data.ConnectionState.Open)
            throw new InvalidOperationException("A SpectorSession needs an open connection.");
        if (transaction is not null && transaction.Connection != connection)
            throw new ArgumentException("The transaction belongs to another connection.", nameof(transaction));
        Dialect = Spector.Dialect.For(connection);
        Connection = connection;
        Transaction = transaction;
    }

    /// <summary>The caller's connection.</summary>
    public DbConnection Connection { get; }

    /// <summary>The caller's transaction, if any.</summary>
    public DbTransaction? Transaction { get; }

    /// <summary>
    /// The context of the writes made through this session, over the ambient <see cref="SpectorContext"/>: a
    /// per-call way to say who and why without opening a scope.
    /// </summary>
    public EventContext? Context { get; init; }

    internal Dialect Dialect { get; }
}
