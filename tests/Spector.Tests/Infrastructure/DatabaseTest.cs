using System.Data.Common;
using Dapper;
using Microsoft.Data.Sqlite;

namespace Spector.Tests;

public enum Db
{
    Sqlite,
    Postgres,
}

/// <summary>
/// Base of every behaviour test: each concrete fixture runs once per database. Each test starts on empty
/// tables: a fresh SQLite file, or the PostgreSQL tables dropped and migrated again.
/// </summary>
public abstract class DatabaseTest(Db db)
{
    private string? _sqliteFile;

    protected Db Database { get; } = db;

    /// <summary>The SQLite database file of this test.</summary>
    protected string SqliteFile => _sqliteFile ?? throw new InvalidOperationException("This test runs on PostgreSQL.");

    protected SqlDialect Dialect => Database == Db.Postgres ? SqlDialect.PostgreSql : SqlDialect.Sqlite;

    protected EventLog Log => AppEvents.Log;

    /// <summary>Every events table of the test model, reset before each test.</summary>
    protected static EventLog[] AllLogs =>
        [
            AppEvents.Log,
            LedgerEvents.Log,
            BasicChat.ChatEvents.Log,
            AIChat.ConversationEvents.Log,
            DocumentLinks.DocumentEvents.Log,
            ShardedEvents.Log,
            ReceiptEvents.Log,
            LongNameEvents.Log,
            ValueEvents.Log,
        ];

    /// <summary>Without PostgreSQL, skips (or under CI fails) the fixture's tests at once, with one reason.</summary>
    [OneTimeSetUp]
    public void RequireDatabase()
    {
        if (Database == Db.Postgres)
            PostgresServer.Require();
    }

    [SetUp]
    public async Task ResetDatabaseAsync()
    {
        SpectorStore store;
        if (Database == Db.Postgres)
        {
            store = SpectorStore.Postgres(PostgresServer.DataSource);
        }
        else
        {
            _sqliteFile = Path.Combine(Path.GetTempPath(), $"spector-test-{Guid.NewGuid():N}.db");
            store = SpectorStore.Sqlite($"Data Source={_sqliteFile}");
        }
        foreach (var log in AllLogs)
        {
            log.Use(store);
            if (Database == Db.Postgres)
                await log.MigrateDownAsync();
            await log.MigrateUpAsync();
        }
    }

    [TearDown]
    public void RemoveSqliteFile()
    {
        if (_sqliteFile is null)
            return;
        SqliteConnection.ClearAllPools();
        foreach (var suffix in new[] { "", "-wal", "-shm" })
            File.Delete(_sqliteFile + suffix);
        _sqliteFile = null;
    }

    /// <summary>Another store on this test's database, with its own options.</summary>
    protected SpectorStore StoreWith(SpectorOptions options) =>
        Database == Db.Postgres
            ? SpectorStore.Postgres(PostgresServer.DataSource, options)
            : SpectorStore.Sqlite($"Data Source={_sqliteFile}", options);

    protected async Task<DbConnection> OpenAsync() => await Log.Store.OpenConnectionAsync();

    /// <summary>
    /// No connection is left inside a transaction: on SQLite another connection takes the write lock at once (a
    /// leftover transaction in the driver's pool would hold it); on PostgreSQL no session of this database is idle
    /// in a transaction.
    /// </summary>
    protected async Task<bool> NoTransactionLeftOpenAsync()
    {
        await using var connection = await OpenAsync();
        if (Database == Db.Postgres)
            return await connection.ExecuteScalarAsync<long>(
                    "SELECT COUNT(*) FROM pg_stat_activity WHERE datname = current_database() "
                        + "AND state LIKE 'idle in transaction%'"
                ) == 0;
        await connection.ExecuteAsync("PRAGMA busy_timeout = 0");
        try
        {
            await connection.ExecuteAsync("BEGIN IMMEDIATE; ROLLBACK;", commandTimeout: 1);
            return true;
        }
        catch (SqliteException e) when (e.SqliteErrorCode == 5)
        {
            return false;
        }
    }

    protected async Task<long> CountAsync(string table, string where = "1 = 1", object? args = null)
    {
        await using var connection = await OpenAsync();
        return await connection.ExecuteScalarAsync<long>($"SELECT COUNT(*) FROM \"{table}\" WHERE {where}", args);
    }

    /// <summary>Runs SQL as an attacker with database access would: around Spector, on a raw connection.</summary>
    protected async Task<int> ExecuteRawAsync(string sql, object? args = null)
    {
        await using var connection = await OpenAsync();
        return await connection.ExecuteAsync(sql, args);
    }

    /// <summary>Removes the append-only triggers of an events table, so a test can tamper with its rows.</summary>
    protected async Task DropAppendOnlyTriggersAsync(string table = "events")
    {
        if (Database == Db.Postgres)
        {
            await ExecuteRawAsync($"DROP TRIGGER IF EXISTS \"{table}_no_change\" ON \"{table}\"");
        }
        else
        {
            await ExecuteRawAsync($"DROP TRIGGER IF EXISTS \"{table}_no_update\"");
            await ExecuteRawAsync($"DROP TRIGGER IF EXISTS \"{table}_no_delete\"");
        }
    }
}
