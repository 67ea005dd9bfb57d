using System.Data.Common;

namespace Spector;

/// <summary>
/// Where events live: a database, how to open connections to it, and the <see cref="SpectorOptions"/> operations
/// against it run with. A process may hold any number (two databases, one per tenant, one per test); pass one to
/// any generated method as its session (<c>Account.InsertAsync(store, attrs)</c>), or make it an events table's
/// default with <c>UseSqlite</c>/<c>UsePostgres</c>.
/// </summary>
public abstract class SpectorStore : IAsyncDisposable
{
    /// <summary>A store of <paramref name="provider"/>'s database, run with <paramref name="options"/>.</summary>
    protected SpectorStore(SpectorProvider provider, SpectorOptions? options)
    {
        Provider = provider ?? throw new ArgumentNullException(nameof(provider));
        Options = options ?? SpectorOptions.Default;
        Session = new SpectorSession(this);
    }

    /// <summary>The provider package whose database this is.</summary>
    public SpectorProvider Provider { get; }

    /// <summary>The database kind.</summary>
    public SqlDialect Dialect => Provider.Dialect;

    /// <summary>Retries, logging and thresholds of operations run against this store.</summary>
    public SpectorOptions Options { get; }

    /// <summary>Runs operations against this store, each on a connection of its own (also what the implicit conversion
    /// gives).</summary>
    public SpectorSession Session { get; }

    /// <summary>The followers running on this store object (a rebuild pauses its own process's follower through
    /// it).</summary>
    internal FollowerRegistry Followers { get; } = new();

    /// <summary>The migrations of this store object running now, which its SQLite writers wait for.</summary>
    internal MigrationGate Migrations { get; } = new();

    /// <summary>Opens a connection; the caller disposes it.</summary>
    public abstract ValueTask<DbConnection> OpenConnectionAsync(CancellationToken cancellationToken = default);

    /// <summary>Open connections Spector's own writes reuse, or null when each write opens its own.</summary>
    internal virtual ConnectionPool? Pool => null;

    /// <summary>Set once the driver refused to prepare a statement of this store (Npgsql on a multiplexing data
    /// source): its writes then run unprepared without asking again.</summary>
    internal bool CannotPrepare { get; set; }

    /// <summary>
    /// Closes the connections this store keeps open between writes (SQLite); a data source the caller gave stays
    /// open. The store still works afterwards, opening a connection per operation.
    /// </summary>
    public virtual ValueTask DisposeAsync()
    {
        GC.SuppressFinalize(this);
        return ValueTask.CompletedTask;
    }
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
    /// Wraps an open <c>NpgsqlConnection</c> or <c>SqliteConnection</c> (of an installed provider). <paramref
    /// name="store"/>, when
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
        var provider = store?.Provider is { } own && own.Handles(connection) ? own : SpectorProvider.For(connection);
        Dialect = provider.Sql;
        _connection = connection;
        Transaction = transaction;
        Store = store;
    }

    internal SpectorSession(SpectorStore store)
    {
        Store = store;
        Dialect = store.Provider.Sql;
    }

    /// <summary>Runs operations against <paramref name="store"/>, each on a connection of its own.</summary>
    public static implicit operator SpectorSession(SpectorStore store) =>
        (store ?? throw new ArgumentNullException(nameof(store))).Session;

    /// <summary>The caller's connection; a session made from a store has none (see <see
    /// cref="HasConnection"/>).</summary>
    public DbConnection Connection =>
        _connection
        ?? throw new InvalidOperationException(
            "This session runs each operation on a connection of its own store; it has no connection of its own."
        );

    /// <summary>True for a caller's connection, false for a session made from a store.</summary>
    public bool HasConnection => _connection is not null;

    /// <summary>The store whose options apply, and for a session without a connection, where connections come
    /// from.</summary>
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
