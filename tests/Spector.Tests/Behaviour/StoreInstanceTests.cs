using Spector.Testing;

namespace Spector.Tests;

/// <summary>
/// Stores are instances: several live in one process, each generated method runs against the one it is given,
/// and the events table's default store (UseSqlite/UsePostgres) is only what methods without one use.
/// </summary>
[TestFixture(Db.Sqlite)]
[TestFixture(Db.Postgres)]
public sealed class StoreInstanceTests(Db db) : DatabaseTest(db)
{
    private string? _otherFile;
    private PostgresSchema? _otherSchema;

    /// <summary>A second, empty database of the same kind: another SQLite file, or another PostgreSQL schema.</summary>
    private async Task<SpectorStore> OtherDatabaseAsync()
    {
        SpectorStore store;
        if (Database == Db.Postgres)
        {
            _otherSchema = await PostgresSchema.CreateAsync(PostgresServer.ConnectionString);
            store = SpectorStore.Postgres(_otherSchema.DataSource);
        }
        else
        {
            _otherFile = Path.Combine(Path.GetTempPath(), $"spector-other-{Guid.NewGuid():N}.db");
            store = SpectorStore.Sqlite($"Data Source={_otherFile}");
        }
        await AppEvents.Log.MigrateUpAsync(store);
        return store;
    }

    [TearDown]
    public async Task RemoveOtherDatabase()
    {
        if (_otherSchema is not null)
            await _otherSchema.DisposeAsync();
        _otherSchema = null;
        if (_otherFile is null)
            return;
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        foreach (var suffix in new[] { "", "-wal", "-shm" })
            File.Delete(_otherFile + suffix);
        _otherFile = null;
    }

    [Test]
    public async Task Each_generated_method_runs_against_the_store_it_is_given()
    {
        var other = await OtherDatabaseAsync();

        var there = await User.InsertAsync(other, new Attrs { ["name"] = "Ada", ["email"] = "ada@example.com" });
        there = await there.UpdateAsync(other, new Attrs { ["age"] = 36 });
        var here = await User.InsertAsync(new Attrs { ["name"] = "Cy", ["email"] = "cy@example.com" });

        Assert.That((await User.GetAsync(other, there.Id))!.Age, Is.EqualTo(36));
        Assert.That(await User.GetAsync(there.Id), Is.Null, "the default store has no such record");
        Assert.That(await User.GetAsync(other, here.Id), Is.Null, "and the other store does not see the default's");
        Assert.That((await User.AllEventsAsync(other, there.Id)).Select(e => e.Seq), Is.EqualTo(new[] { 1L, 2L }));
        Assert.That(await CountAsync("users"), Is.EqualTo(1));

        await there.DeleteAsync(other);
        Assert.That(await User.GetAsync(other, there.Id), Is.Null);
        Assert.That((await User.GetAsync(here.Id))!.Name, Is.EqualTo("Cy"));
    }

    [Test]
    public async Task Log_level_reads_and_exports_take_a_store_too()
    {
        var other = await OtherDatabaseAsync();
        await LedgerEvents.Log.MigrateUpAsync(other);
        var there = await User.InsertAsync(other, new Attrs { ["name"] = "Ada", ["email"] = "ada@example.com" });
        var account = await LedgerAccount.InsertAsync(other, new Attrs { ["owner"] = "Ann" });
        await account.PostAsync(other, 5m, "first");

        Assert.That((await AppEvents.Log.EventsOfAsync(other, there.Id)).Single().Id, Is.EqualTo(there.Id));
        Assert.That(await AppEvents.Log.EventsOfAsync(there.Id), Is.Empty, "the default store has none of them");
        Assert.That(
            (await AppEvents.Log.PreviousEventsAsync(other, there.Id)).Select(e => e.Seq),
            Is.EqualTo(new[] { 1L })
        );
        Assert.That(await AppEvents.Log.LinksOfAsync(other, there.Id), Is.Empty);
        using var export = new MemoryStream();
        Assert.That(await LedgerEvents.Log.ExportChainAsync(other, export), Is.EqualTo(2));
        using var nothing = new MemoryStream();
        Assert.That(await LedgerEvents.Log.ExportChainAsync(nothing), Is.EqualTo(0));
    }

    [Test]
    public async Task Stores_work_in_parallel_without_a_default()
    {
        var stores = new[] { await OtherDatabaseAsync(), StoreWith(SpectorOptions.Default) };

        var written = await Task.WhenAll(
            stores.Select(store =>
                Task.Run(async () =>
                {
                    var counter = await Counter.InsertAsync(store, new Attrs { ["name"] = "hits" });
                    for (var i = 0; i < 5; i++)
                        counter = await counter.UpdateAsync(store, new Attrs { ["by"] = 1 });
                    return counter.Id;
                })
            )
        );

        for (var i = 0; i < stores.Length; i++)
        {
            Assert.That((await Counter.GetAsync(stores[i], written[i]))!.Value, Is.EqualTo(5));
            Assert.That(await Counter.GetAsync(stores[i], written[1 - i]), Is.Null);
        }
    }

    [Test]
    public void Store_options_are_validated_and_a_session_from_a_store_has_no_connection()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => _ = new SpectorOptions { MaxWriteAttempts = 0 });
        Assert.Throws<ArgumentOutOfRangeException>(() =>
            _ = new SpectorOptions { SlowReplayThreshold = TimeSpan.Zero }
        );

        var store = StoreWith(SpectorOptions.Default);
        SpectorSession session = store;

        Assert.That(session.HasConnection, Is.False);
        Assert.That(session.Store, Is.SameAs(store));
        Assert.That(session, Is.SameAs(store.Session));
        Assert.Throws<InvalidOperationException>(() => _ = session.Connection);
    }
}
