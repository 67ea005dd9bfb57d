using System.Data.Common;
using Microsoft.Data.Sqlite;

namespace Spector;

/// <summary>An embedded SQLite database file (created when missing), in WAL mode.</summary>
internal sealed class SqliteStore : SpectorStore
{
    private readonly string _connectionString;
    private int _walChecked;

    public SqliteStore(string connectionString, SpectorOptions? options)
        : base(SqliteProvider.Instance, options)
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
}
