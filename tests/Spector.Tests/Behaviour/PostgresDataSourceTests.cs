using Npgsql;

namespace Spector.Tests;

/// <summary>Spector prepares its PostgreSQL write statements: data sources where Npgsql cannot prepare still
/// write.</summary>
public sealed class PostgresDataSourceTests() : DatabaseTest(Db.Postgres)
{
    [Test]
    public async Task A_multiplexing_data_source_writes_and_replays()
    {
        var settings = new NpgsqlConnectionStringBuilder(PostgresServer.DataSource.ConnectionString)
        {
            Multiplexing = true,
        };
        await using var dataSource = NpgsqlDataSource.Create(settings.ConnectionString);
        await using var store = SpectorStore.Postgres(dataSource);

        var account = await LedgerAccount.InsertAsync(store, new Attrs { ["owner"] = "Ann" });
        account = await account.PostAsync(store, 5m, "first");
        account = await account.PostAsync(store, 2.50m, "second");

        var stored = await LedgerAccount.GetVersionedAsync(store, account.Id);
        Assert.That((stored!.Record.Balance, stored.Seq), Is.EqualTo((7.50m, 3L)));
        Assert.That((await LedgerEvents.Log.VerifyHashChainAsync(store)).IsValid, Is.True);
    }
}
