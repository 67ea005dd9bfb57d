using Dapper;

namespace Spector.Tests;

[TestFixture(Db.Sqlite)]
[TestFixture(Db.Postgres)]
public sealed class MigrationTests(Db db) : DatabaseTest(db)
{
    [Test]
    public async Task Up_is_idempotent_and_down_removes_every_table()
    {
        await Log.MigrateUpAsync();
        await User.InsertAsync(new Attrs { ["name"] = "Fay", ["email"] = "fay@example.com" });

        await Log.MigrateDownAsync();

        Assert.That(await TableExistsAsync("events"), Is.False);
        Assert.That(await TableExistsAsync("users"), Is.False);
        Assert.That(await TableExistsAsync("counters"), Is.False);
        await Log.MigrateUpAsync();
        Assert.That(await CountAsync("events"), Is.EqualTo(0));
    }

    [Test]
    public void The_sql_script_covers_the_events_table_triggers_and_record_tables()
    {
        var up = Log.UpSql(Dialect);

        Assert.That(up, Does.Contain("CREATE TABLE IF NOT EXISTS \"events\""));
        Assert.That(up, Does.Contain("\"parent_id\", \"seq\""));
        Assert.That(up, Does.Contain("CREATE TABLE IF NOT EXISTS \"users\""));
        Assert.That(up, Does.Contain("\"signup_source\""), "[Column] names the column");
        Assert.That(up, Does.Not.Contain("\"tags\""), "[NotMapped] properties have no column");
        Assert.That(up, Does.Not.Contain("\"notes\""), "embedded records have no table");
        Assert.That(Log.UpSql(Dialect, appendOnly: false), Does.Not.Contain("TRIGGER"));
        Assert.That(Log.DownSql(Dialect), Does.Contain("DROP TABLE IF EXISTS \"events\""));
    }

    [Test]
    public void Table_names_are_validated_before_any_sql_is_built()
    {
        var error = Assert.Throws<ArgumentException>(() => _ = new EventLog("events; DROP TABLE users", [], []));

        Assert.That(error!.Message, Does.Contain("not a valid events table name"));
    }

    private async Task<bool> TableExistsAsync(string table)
    {
        await using var connection = await OpenAsync();
        var sql =
            Database == Db.Postgres
                ? "SELECT COUNT(*) FROM information_schema.tables "
                    + "WHERE table_schema = current_schema() AND table_name = @table"
                : "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = @table";
        return await connection.ExecuteScalarAsync<long>(sql, new { table }) > 0;
    }
}

/// <summary>Behaviour that exists only on PostgreSQL.</summary>
[TestFixture(Db.Postgres)]
public sealed class PostgresOnlyTests(Db db) : DatabaseTest(db)
{
    /// <summary>PostgreSQL commits identity values out of order, so followers need the writing transaction's
    /// id.</summary>
    [Test]
    public async Task PostgreSQL_events_record_their_transaction_id_for_followers()
    {
        await User.InsertAsync(new Attrs { ["name"] = "Fay", ["email"] = "fay@example.com" });

        await using var connection = await OpenAsync();
        var txId = await connection.ExecuteScalarAsync<string>("SELECT \"tx_id\"::text FROM \"events\"");

        Assert.That(long.Parse(txId!), Is.GreaterThan(0));
    }
}
