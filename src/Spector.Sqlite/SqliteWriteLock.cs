using System.Diagnostics;
using Microsoft.Data.Sqlite;
using SQLitePCL;

namespace Spector;

/// <summary>
/// Takes SQLite's write lock inside a caller's transaction before a write reads anything. A deferred transaction
/// whose snapshot is older than the last commit can never write (SQLITE_BUSY_SNAPSHOT): SQLite says so at once,
/// but Microsoft.Data.Sqlite retries every busy result until the command timeout, 30 s by default. Stepping a
/// no-op write directly tells the two apart: a stale snapshot fails now, another writer's lock is waited for.
/// </summary>
internal static class SqliteWriteLock
{
    private const int BusySnapshot = 517; // SQLITE_BUSY_SNAPSHOT
    private static readonly TimeSpan Pause = TimeSpan.FromMilliseconds(10);

    /// <summary>
    /// Runs <paramref name="noOpWrite"/> (a write that changes no row) until it holds the write lock, for at most the
    /// connection's default timeout; a stale snapshot or the timeout is the <see cref="SqliteException"/> SQLite gave.
    /// </summary>
    public static async ValueTask TakeAsync(SqliteConnection connection, string noOpWrite, CancellationToken ct)
    {
        var handle = connection.Handle ?? throw new InvalidOperationException("The SQLite connection is not open.");
        var started = Stopwatch.GetTimestamp();
        while (true)
        {
            var rc = Step(handle, noOpWrite);
            if (rc == raw.SQLITE_DONE)
                return;
            var extended = raw.sqlite3_extended_errcode(handle);
            var waiting =
                rc is raw.SQLITE_BUSY or raw.SQLITE_LOCKED
                && extended != BusySnapshot
                && Stopwatch.GetElapsedTime(started) < TimeSpan.FromSeconds(connection.DefaultTimeout);
            if (!waiting)
                throw new SqliteException(raw.sqlite3_errmsg(handle).utf8_to_string(), rc, extended);
            await Task.Delay(Pause, ct).ConfigureAwait(false);
        }
    }

    private static int Step(sqlite3 handle, string sql)
    {
        var rc = raw.sqlite3_prepare_v2(handle, sql, out var statement);
        if (rc != raw.SQLITE_OK)
            return rc;
        using (statement)
            return raw.sqlite3_step(statement);
    }
}
