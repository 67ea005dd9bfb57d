using System.Data.Common;
using System.Diagnostics.CodeAnalysis;

namespace Spector;

/// <summary>
/// What a database provider package (<c>Spector.Sqlite</c>, <c>Spector.PostgreSql</c>) adds to the core: its
/// stores, how its errors are recognised (by code, never by message), how a write transaction starts, and how a
/// follower hears of new events. The SQL text of each database stays in the core; only what needs the ADO.NET
/// provider's own types lives here, so the core references neither Npgsql nor Microsoft.Data.Sqlite.
/// </summary>
public abstract class SpectorProvider
{
    // Loaded once, on first need, from the provider assemblies the app references; never changed afterwards.
    private static readonly Lazy<SpectorProvider?> InstalledPostgreSql = new(LoadPostgreSql);
    private static readonly Lazy<SpectorProvider?> InstalledSqlite = new(LoadSqlite);

    /// <summary>Binds the core's SQL text for <paramref name="dialect"/> to this provider.</summary>
    protected SpectorProvider(SqlDialect dialect)
    {
        Dialect = dialect;
        Sql = Spector.Dialect.Create(dialect, this);
    }

    /// <summary>The database kind this provider serves.</summary>
    public SqlDialect Dialect { get; }

    internal Dialect Sql { get; }

    /// <summary>
    /// The provider package installed for <paramref name="dialect"/>, as hosts that pick the database from
    /// configuration need it (<c>services.AddSpector(...)</c>).
    /// </summary>
    /// <exception cref="NotSupportedException">Its package is not referenced by the app.</exception>
    public static SpectorProvider For(SqlDialect dialect) =>
        Installed(dialect)
        ?? throw new NotSupportedException(
            $"Spector: no {dialect} provider is installed; add the {PackageOf(dialect)} package to the app."
        );

    /// <summary>A store for <paramref name="connectionString"/> made by this provider, for hosts.</summary>
    /// <returns>The store, and what the host disposes when it stops (a data source the provider made), or
    /// null.</returns>
    public abstract (SpectorStore Store, IAsyncDisposable? Owned) CreateStore(
        string connectionString,
        SpectorOptions? options
    );

    /// <summary>
    /// A store over a data source registered in <paramref name="services"/>, or null when none is. With a
    /// <paramref name="serviceKey"/> only the data source registered under that key counts, never the unkeyed one.
    /// </summary>
    public virtual SpectorStore? CreateStore(IServiceProvider services, object? serviceKey, SpectorOptions? options) =>
        null;

    /// <summary>True when <paramref name="connection"/> is this provider's connection type.</summary>
    protected internal abstract bool Handles(DbConnection connection);

    /// <summary>
    /// The database refused the transaction to keep it serializable; only the whole transaction can be retried.
    /// </summary>
    protected internal abstract bool IsSerializationFailure(DbException error);

    /// <summary>The link trigger refused a link between events of different records (or to a missing event).</summary>
    protected internal abstract bool IsLinkRejected(DbException error);

    /// <summary>The append-only trigger refused an UPDATE or DELETE of an event row.</summary>
    protected internal abstract bool IsAppendOnlyViolation(DbException error);

    /// <summary>The database's own message text of <paramref name="error"/>, without provider decoration.</summary>
    protected internal virtual string MessageText(DbException error) => error.Message;

    /// <summary>
    /// A write in its own transaction may end its last command with <c>COMMIT</c> instead of committing in a round
    /// trip of its own: worth it where the database is across a network, and only where the driver then takes its
    /// transaction as completed (Npgsql does). False by default.
    /// </summary>
    protected internal virtual bool CommitsInCommand => false;

    /// <summary>
    /// The statement that starts a write's own transaction when the write runs on a connection the store keeps,
    /// or null to use the driver's transaction object. Microsoft.Data.Sqlite prepares its transaction's BEGIN and
    /// COMMIT afresh every time; as kept statements they are prepared once per connection, and the write's last
    /// command can carry the COMMIT.
    /// </summary>
    protected internal virtual string? OwnTransactionBegin => null;

    /// <summary>
    /// Ends a transaction begun with <see cref="OwnTransactionBegin"/> after the write failed: rolls back what is
    /// still open, so the connection goes back to the driver's pool outside any transaction.
    /// </summary>
    protected internal virtual ValueTask AbandonOwnTransactionAsync(DbConnection connection) =>
        throw new NotSupportedException("This provider starts no transaction with a statement.");

    /// <summary>
    /// Whether Spector prepares the statements of its writes before running them: worth it where the driver keeps
    /// prepared statements per physical connection and reuses them by SQL text (Npgsql), so a statement is parsed and
    /// planned once per connection. False by default.
    /// </summary>
    protected internal virtual bool PreparesCommands => false;

    /// <summary>Starts the transaction of one write.</summary>
    protected internal virtual async ValueTask<DbTransaction> BeginWriteAsync(
        DbConnection connection,
        CancellationToken ct
    ) => await connection.BeginTransactionAsync(ct).ConfigureAwait(false);

    /// <summary>
    /// Inside a caller's transaction, before a write reads: takes the write lock where the database needs it taken
    /// up front. <paramref name="noOpWrite"/> is a statement that writes no row. By default nothing is done
    /// (PostgreSQL locks rows as it goes).
    /// </summary>
    protected internal virtual ValueTask TakeWriteLockAsync(
        DbConnection connection,
        string noOpWrite,
        CancellationToken ct
    ) => ValueTask.CompletedTask;

    /// <summary>
    /// Listens for notifications on <paramref name="channel"/> over a connection of <paramref name="store"/>, or
    /// returns null where the database has no notifications (a follower then polls).
    /// </summary>
    protected internal virtual Task<SpectorListener?> ListenAsync(
        SpectorStore store,
        string channel,
        CancellationToken ct
    ) => Task.FromResult<SpectorListener?>(null);

    /// <summary>The installed provider whose connection type <paramref name="connection"/> is.</summary>
    internal static SpectorProvider For(DbConnection connection) =>
        (InstalledPostgreSql.Value is { } pg && pg.Handles(connection) ? pg : null)
        ?? (InstalledSqlite.Value is { } sqlite && sqlite.Handles(connection) ? sqlite : null)
        ?? throw new NotSupportedException(
            "Spector supports NpgsqlConnection (package Spector.PostgreSql) and SqliteConnection "
                + $"(package Spector.Sqlite); got {connection.GetType().FullName}."
        );

    /// <summary>
    /// True when an installed provider recognises <paramref name="error"/> as the database being out of reach (it
    /// cannot be opened or connected to), as tools report it apart from other failures.
    /// </summary>
    public static bool IsUnreachable(DbException error) =>
        new[] { InstalledPostgreSql.Value, InstalledSqlite.Value }.Any(p => p is not null && p.CannotConnect(error));

    /// <summary>The database could not be opened or connected to.</summary>
    protected internal virtual bool CannotConnect(DbException error) => false;

    /// <summary>The installed provider that recognises <paramref name="error"/> as an append-only refusal.</summary>
    internal static SpectorProvider? RefusingAppendOnly(DbException error) =>
        new[] { InstalledPostgreSql.Value, InstalledSqlite.Value }.FirstOrDefault(p =>
            p is not null && p.IsAppendOnlyViolation(error)
        );

    private static SpectorProvider? Installed(SqlDialect dialect) =>
        dialect == SqlDialect.PostgreSql ? InstalledPostgreSql.Value : InstalledSqlite.Value;

    private static string PackageOf(SqlDialect dialect) =>
        dialect == SqlDialect.PostgreSql ? "Spector.PostgreSql" : "Spector.Sqlite";

    // The two provider types are named by literal strings, not referenced: the trimmer resolves such names and keeps
    // the types (with their public properties) whenever their assembly ships with the app.
    private static SpectorProvider? LoadPostgreSql() =>
        InstanceOf(Type.GetType("Spector.PostgreSqlProvider, Spector.PostgreSql", throwOnError: false));

    private static SpectorProvider? LoadSqlite() =>
        InstanceOf(Type.GetType("Spector.SqliteProvider, Spector.Sqlite", throwOnError: false));

    // Each provider declares `public static TheProvider Instance { get; }`.
    private static SpectorProvider? InstanceOf(
        [DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.PublicProperties)] Type? type
    ) => type?.GetProperty("Instance")?.GetValue(null) as SpectorProvider;
}

/// <summary>A connection waiting for a database's notifications (PostgreSQL's LISTEN), made by a provider.</summary>
public abstract class SpectorListener : IAsyncDisposable
{
    /// <summary>Waits up to <paramref name="timeout"/>; true when a notification ended the wait.</summary>
    public abstract Task<bool> WaitAsync(TimeSpan timeout, CancellationToken cancellationToken);

    /// <summary>True for an error that means the connection is lost, after which polling alone continues.</summary>
    public abstract bool IsConnectionFailure(Exception error);

    /// <inheritdoc/>
    public abstract ValueTask DisposeAsync();
}
