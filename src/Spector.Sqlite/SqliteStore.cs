using System.Data.Common;
using Microsoft.Data.Sqlite;
using SQLitePCL;

namespace Spector;

/// <summary>
/// An embedded SQLite database file (created when missing), in WAL mode. Spector's writes run on connections the
/// store keeps open (docs/storage.md, "Connections and prepared statements"): Microsoft.Data.Sqlite prepares a
/// command's statements on each execution and finalizes them when its connection closes, so a kept connection with
/// its kept commands prepares each statement once.
/// </summary>
internal sealed class SqliteStore : SpectorStore
{
    private readonly string _connectionString;
    private readonly string? _file;
    private readonly ConnectionPool _pool;
    private int _walChecked;

    public SqliteStore(string connectionString, SpectorOptions? options)
        : base(SqliteProvider.Instance, options)
    {
        // Pooling keeps opens cheap; the per-connection pragmas below are then a few microseconds.
        var builder = new SqliteConnectionStringBuilder(connectionString) { Pooling = true };
        _connectionString = builder.ToString();
        _file = FileOf(builder);
        _pool = new ConnectionPool(OpenConnectionAsync, Usable);
    }

    internal override ConnectionPool Pool => _pool;

    public override async ValueTask<DbConnection> OpenConnectionAsync(CancellationToken cancellationToken = default)
    {
        var connection = new SqliteConnection(_connectionString);
        try
        {
            await connection.OpenAsync(cancellationToken).ConfigureAwait(false);
            await using var pragma = connection.CreateCommand();
            // WAL lets readers run beside the one writer; NORMAL sync is WAL's usual durability trade.
            pragma.CommandText =
                Interlocked.Exchange(ref _walChecked, 1) == 0
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

    public override async ValueTask DisposeAsync()
    {
        await _pool.DisposeAsync().ConfigureAwait(false);
        await base.DisposeAsync().ConfigureAwait(false);
    }

    /// <summary>
    /// A kept connection serves another write only when open, outside any transaction, and while the file the
    /// store names still exists: after a file is deleted (tests, a restore) the next write opens a fresh connection.
    /// </summary>
    private bool Usable(DbConnection connection) =>
        connection is SqliteConnection { State: System.Data.ConnectionState.Open, Handle: { } handle }
        && raw.sqlite3_get_autocommit(handle) != 0
        && (_file is null || File.Exists(_file));

    /// <summary>The database file's full path; null for an in-memory database or a URI.</summary>
    private static string? FileOf(SqliteConnectionStringBuilder builder) =>
        builder.Mode == SqliteOpenMode.Memory
        || builder.DataSource is "" or ":memory:"
        || builder.DataSource.StartsWith("file:", StringComparison.OrdinalIgnoreCase)
            ? null
            : Path.GetFullPath(builder.DataSource);
}
