using System.Data.Common;
using Microsoft.Data.Sqlite;
using Npgsql;

namespace Spector;

/// <summary>
/// Where events live: a database, how to open connections to it, and the <see cref="SpectorOptions"/> operations
/// against it run with. A process may hold any number (two databases, one per tenant, one per test); pass one to
/// any generated method as its session (<c>Account.InsertAsync(store, attrs)</c>), or make it an events table's
/// default with <c>UseSqlite</c>/<c>UsePostgres</c>.
/// </summary>
public abstract class SpectorStore
{
    private protected SpectorStore(SqlDialect dialect, SpectorOptions? options)
    {
        Dialect = dialect;
        Options = options ?? SpectorOptions.Default;
        Session = new SpectorSession(this);
    }

    /// <summary>The database kind.</summary>
    public SqlDialect Dialect { get; }

    /// <summary>Retries, logging and thresholds of operations run against this store.</summary>
    public SpectorOptions Options { get; }

    /// <summary>Runs operations against this store, each on a connection of its own (also what the implicit conversion gives).</summary>
    public SpectorSession Session { get; }

    /// <summary>The followers running on this store object (a rebuild pauses its own process's follower through it).</summary>
    internal FollowerRegistry Followers { get; } = new();

    /// <summary>Opens a connection; the caller disposes it.</summary>
    public abstract ValueTask<DbConnection> OpenConnectionAsync(CancellationToken cancellationToken = default);

    /// <summary>An embedded SQLite database file (created when missing), in WAL mode.</summary>
    public static SpectorStore Sqlite(string connectionString, SpectorOptions? options = null) => new SqliteStore(connectionString, options);

    /// <summary>A PostgreSQL database reached through an Npgsql data source (which owns pooling).</summary>
    public static SpectorStore Postgres(NpgsqlDataSource dataSource, SpectorOptions? options = null) =>
        new PostgresStore(dataSource ?? throw new ArgumentNullException(nameof(dataSource)), options);
}

internal sealed class SqliteStore : SpectorStore
{
    private readonly string _connectionString;
    private int _walChecked;

    public SqliteStore(string connectionString, SpectorOptions? options) : base(SqlDialect.Sqlite, options)
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

internal sealed class PostgresStore(NpgsqlDataSource dataSource, SpectorOptions? options) : SpectorStore(SqlDialect.PostgreSql, options)
{
    public override async ValueTask<DbConnection> OpenConnectionAsync(CancellationToken cancellationToken = default) =>
        await dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
}

/// <summary>
/// Where an operation runs. Either a caller's open connection and, optionally, transaction: the event commits
/// (or rolls back) with the caller's own work, and without a transaction each operation commits on its own.
/// Or a <see cref="SpectorStore"/>: each operation opens, commits and closes a connection of that store.
/// </summary>
public sealed class SpectorSession
{
    private readonly DbConnection? _connection;

    /// <summary>
    /// Wraps an open <see cref="NpgsqlConnection"/> or <see cref="SqliteConnection"/>. <paramref name="store"/>, when
    /// given, supplies the options (retries, logging) the operations run with; otherwise the events table's default
    /// store does, if it has one.
    /// </summary>
    public SpectorSession(DbConnection connection, DbTransaction? transaction = null, SpectorStore? store = null)
    {
        ArgumentNullException.ThrowIfNull(connection);
        if (connection.State != System.Data.ConnectionState.Open)
            throw new InvalidOperationException("A SpectorSession needs an open connection.");
        if (transaction is not null && transaction.Connection != connection)
            throw new ArgumentException("The transaction belongs to another connection.", nameof(transaction));
        Dialect = Spector.Dialect.For(connection);
        _connection = connection;
        Transaction = transaction;
        Store = store;
    }

    internal SpectorSession(SpectorStore store)
    {
        Store = store;
        Dialect = Spector.Dialect.For(store.Dialect);
    }

    /// <summary>Runs operations against <paramref name="store"/>, each on a connection of its own.</summary>
    public static implicit operator SpectorSession(SpectorStore store) =>
        (store ?? throw new ArgumentNullException(nameof(store))).Session;

    /// <summary>The caller's connection; a session made from a store has none (see <see cref="HasConnection"/>).</summary>
    public DbConnection Connection => _connection ?? throw new InvalidOperationException(
        "This session runs each operation on a connection of its own store; it has no connection of its own.");

    /// <summary>True for a caller's connection, false for a session made from a store.</summary>
    public bool HasConnection => _connection is not null;

    /// <summary>The store whose options apply, and for a session without a connection, where connections come from.</summary>
    public SpectorStore? Store { get; }

    /// <summary>The caller's transaction, if any.</summary>
    public DbTransaction? Transaction { get; }

    /// <summary>
    /// The context of the writes made through this session, over the ambient <see cref="SpectorContext"/>: a
    /// per-call way to say who and why without opening a scope.
    /// </summary>
    public EventContext? Context { get; init; }

    internal Dialect Dialect { get; }
}
