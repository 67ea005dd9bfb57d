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

    [Test]
    public async Task Statements_are_prepared_on_the_writing_connection_unless_the_store_says_not_to()
    {
        foreach (var prepare in new[] { false, true })
        {
            // A data source of its own: physical connections no earlier test prepared anything on.
            await using var dataSource = NpgsqlDataSource.Create(PostgresServer.DataSource.ConnectionString);
            await using var store = SpectorStore.Postgres(
                dataSource,
                new SpectorOptions { PrepareStatements = prepare }
            );
            // A session's own connection: the statements it prepares are visible on it.
            await using var connection = await dataSource.OpenConnectionAsync();
            var session = new SpectorSession(connection, store: store);
            var account = await LedgerAccount.InsertAsync(session, new Attrs { ["owner"] = "Ann" });
            await account.PostAsync(session, 5m, "first");

            await using var command = connection.CreateCommand();
            command.CommandText = "SELECT COUNT(*) FROM pg_prepared_statements WHERE statement LIKE '%ledger_heads%'";
            var prepared = (long)(await command.ExecuteScalarAsync())!;
            Assert.That(prepared > 0, Is.EqualTo(prepare), $"PrepareStatements = {prepare}: {prepared} prepared");
        }
    }
}
