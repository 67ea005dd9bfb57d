using Dapper;
using Microsoft.Data.Sqlite;

namespace Spector.Tests;

/// <summary>
/// A store's writes run on connections it keeps open with their commands prepared (SQLite). Whatever a kept
/// connection went through before, the next write sees the database as it is now: tables dropped and made again,
/// a failed write, a deleted file, a disposed store.
/// </summary>
[TestFixture(Db.Sqlite)]
[TestFixture(Db.Postgres)]
public sealed class ConnectionReuseTests(Db db) : DatabaseTest(db)
{
    // Only the owner is cast on insert: an account opens at 0 and moves by posts.
    private static Attrs Opening(string owner) => new() { ["owner"] = owner };

    [Test]
    public async Task Writes_after_the_tables_are_dropped_and_migrated_again_go_to_the_new_tables()
    {
        var before = await LedgerAccount.InsertAsync(Opening("Ann"));
        await before.PostAsync(5m, "first");

        await LedgerEvents.Log.MigrateDownAsync();
        await LedgerEvents.Log.MigrateUpAsync();
        var after = await LedgerAccount.InsertAsync(Opening("Bob"));
        after = await after.PostAsync(2m, "a");
        after = await after.PostAsync(3m, "b");

        Assert.That(await LedgerAccount.GetAsync(before.Id), Is.Null, "the old record went with the old tables");
        var stored = await LedgerAccount.GetVersionedAsync(after.Id);
        Assert.That((stored!.Record.Balance, stored.Seq), Is.EqualTo((5m, 3L)));
        Assert.That(await CountAsync("ledger"), Is.EqualTo(3));
        Assert.That(await CountAsync("ledger_accounts"), Is.EqualTo(1));
        Assert.That((await LedgerEvents.Log.VerifyHashChainAsync()).IsValid, Is.True);
    }

    [Test]
    public async Task Writes_after_a_column_is_added_to_the_record_table_keep_writing_every_column()
    {
        var account = await LedgerAccount.InsertAsync(Opening("Ann"));
        await ExecuteRawAsync("ALTER TABLE \"ledger_accounts\" ADD COLUMN \"branch\" TEXT NULL");

        account = await account.PostAsync(5m, "after the change");
        var other = await LedgerAccount.InsertAsync(Opening("Bob"));

        await using var connection = await OpenAsync();
        var rows = (
            await connection.QueryAsync<(string Owner, decimal Balance, string? Branch)>(
                "SELECT \"owner\", \"balance\", \"branch\" FROM \"ledger_accounts\" ORDER BY \"owner\""
            )
        ).ToList();
        Assert.That(rows, Is.EqualTo(new[] { ("Ann", 5m, (string?)null), ("Bob", 0m, (string?)null) }));
        Assert.That((account.Balance, other.Owner), Is.EqualTo((5m, "Bob")));
    }

    [Test]
    public async Task A_write_that_fails_midway_leaves_nothing_open_for_the_writes_after_it()
    {
        await ExecuteRawAsync("CREATE UNIQUE INDEX \"ledger_owner_unique\" ON \"ledger_accounts\" (\"owner\")");
        var ann = await LedgerAccount.InsertAsync(Opening("Ann"));

        // The event row is inserted before the record row fails, in the same command: both must be undone.
        Assert.CatchAsync(() => LedgerAccount.InsertAsync(Opening("Ann")));
        // A handler's refusal comes after the head row was locked and the record replayed.
        Assert.ThrowsAsync<ChangesetInvalidException>(() => ann.UpdateAsync(new Attrs { ["owner"] = "" }));
        Assert.That(await NoTransactionLeftOpenAsync(), Is.True, "a failed write rolled its transaction back");

        var bob = await LedgerAccount.InsertAsync(Opening("Bob"));
        await Task.WhenAll(Enumerable.Range(0, 8).Select(i => bob.PostAsync(1m, $"deposit {i}")));
        ann = await ann.PostAsync(1m, "after the failures");

        Assert.That(await CountAsync("ledger"), Is.EqualTo(1 + 1 + 8 + 1), "the failed writes stored nothing");
        Assert.That((await LedgerAccount.GetVersionedAsync(bob.Id))!.Seq, Is.EqualTo(9));
        Assert.That((await LedgerAccount.GetAsync(bob.Id))!.Balance, Is.EqualTo(8m));
        Assert.That(ann.Balance, Is.EqualTo(1m));
        Assert.That((await LedgerEvents.Log.VerifyHashChainAsync()).IsValid, Is.True);
    }

    [Test]
    public async Task A_disposed_store_closes_its_kept_connections_and_still_writes()
    {
        var store = StoreWith(new SpectorOptions());
        var account = await LedgerAccount.InsertAsync(store, Opening("Ann"));
        account = await account.PostAsync(store, 1m, "kept connection");

        await store.DisposeAsync();
        foreach (var log in AllLogs)
            await log.Store.DisposeAsync();
        if (Database == Db.Sqlite)
        {
            SqliteConnection.ClearAllPools();
            // SQLite removes the write-ahead log when the database's last connection closes.
            Assert.That(File.Exists(SqliteFile + "-wal"), Is.False, "every connection of both stores is closed");
        }

        account = await account.PostAsync(store, 2m, "after disposal");
        Assert.That(account.Balance, Is.EqualTo(3m));
        Assert.That((await LedgerAccount.GetAsync(store, account.Id))!.Balance, Is.EqualTo(3m));
    }
}

/// <summary>A kept SQLite connection never writes to a database file that was deleted meanwhile.</summary>
public sealed class SqliteConnectionReuseTests() : DatabaseTest(Db.Sqlite)
{
    [Test]
    public async Task After_the_file_is_deleted_the_next_write_opens_the_new_file()
    {
        await LedgerAccount.InsertAsync(new Attrs { ["owner"] = "Ann" });

        SqliteConnection.ClearAllPools();
        foreach (var suffix in new[] { "", "-wal", "-shm" })
            File.Delete(SqliteFile + suffix);
        await LedgerEvents.Log.MigrateUpAsync();
        var bob = await LedgerAccount.InsertAsync(new Attrs { ["owner"] = "Bob" });

        await using var connection = new SqliteConnection($"Data Source={SqliteFile}");
        await connection.OpenAsync();
        var owners = await connection.QueryAsync<string>("SELECT \"owner\" FROM \"ledger_accounts\"");
        Assert.That(owners, Is.EqualTo(new[] { "Bob" }), "the new file holds the write made after the deletion");
        Assert.That(await connection.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM \"ledger\""), Is.EqualTo(1));
        Assert.That((await LedgerAccount.GetAsync(bob.Id))!.Owner, Is.EqualTo("Bob"));
    }

    [Test]
    public async Task A_store_keeps_its_write_connection_open_until_it_is_disposed()
    {
        var store = SpectorStore.Sqlite($"Data Source={SqliteFile}");
        foreach (var log in AllLogs)
            await log.Store.DisposeAsync();
        await LedgerAccount.InsertAsync(store, new Attrs { ["owner"] = "Ann" });

        SqliteConnection.ClearAllPools();
        Assert.That(File.Exists(SqliteFile + "-wal"), Is.True, "the write's connection is still open");
        await store.DisposeAsync();
        SqliteConnection.ClearAllPools();
        Assert.That(File.Exists(SqliteFile + "-wal"), Is.False, "no connection is left open");
    }
}
