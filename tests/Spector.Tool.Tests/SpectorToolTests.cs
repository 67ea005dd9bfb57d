using System.Data.Common;
using System.Text.Json;
using Microsoft.Data.Sqlite;
using Spector.Testing;
using WebApi;

namespace Spector.Tests.Tool;

public enum Db
{
    Sqlite,
    Postgres,
}

/// <summary>
/// The spector tool run as a process against samples/WebApi's build output (loaded by the tool) and a real database,
/// and the same commands run inside the sample (dotnet WebApi.dll spector ...). The test writes events with the
/// sample's own generated code, then reads what the tool says and what its exit codes are.
/// </summary>
[TestFixture(Db.Sqlite)]
[TestFixture(Db.Postgres)]
public sealed class SpectorToolTests(Db db)
{
    private string? _file;
    private PostgresSchema? _schema;
    private SpectorStore _store = null!;
    private string _connection = "";
    private string _folder = "";

    private string Provider => db == Db.Postgres ? "postgres" : "sqlite";

    private SqlDialect Dialect => db == Db.Postgres ? SqlDialect.PostgreSql : SqlDialect.Sqlite;

    [OneTimeSetUp]
    public void RequireDatabase()
    {
        if (db == Db.Postgres)
            PostgresServer.Require();
    }

    [SetUp]
    public async Task EmptyDatabaseAsync()
    {
        if (db == Db.Postgres)
        {
            _schema = await PostgresSchema.CreateAsync(PostgresServer.ConnectionString);
            _connection = _schema.DataSource.ConnectionString;
            _store = SpectorStore.Postgres(_schema.DataSource);
        }
        else
        {
            _file = Path.Combine(Path.GetTempPath(), $"spector-tool-{Guid.NewGuid():N}.db");
            _connection = $"Data Source={_file}";
            _store = SpectorStore.Sqlite(_connection);
        }
        _folder = Directory.CreateTempSubdirectory("spector-tool-").FullName;
    }

    [TearDown]
    public async Task RemoveDatabaseAsync()
    {
        if (_schema is not null)
            await _schema.DisposeAsync();
        _schema = null;
        Directory.Delete(_folder, recursive: true);
        if (_file is null)
            return;
        SqliteConnection.ClearAllPools();
        foreach (var suffix in new[] { "", "-wal", "-shm" })
            File.Delete(_file + suffix);
        _file = null;
    }

    private Task<ToolRun> SpectorAsync(params string[] command) =>
        ToolProcess.SpectorAsync([
            .. command,
            "--assembly",
            ToolProcess.SampleDll,
            "--provider",
            Provider,
            "--connection",
            _connection,
        ]);

    /// <summary><c>verify</c> against the sample with <paramref name="connection"/> instead of this test's
    /// database.</summary>
    private Task<ToolRun> VerifyWithAsync(string connection) =>
        ToolProcess.SpectorAsync(
            "verify",
            "--assembly",
            ToolProcess.SampleDll,
            "--provider",
            Provider,
            "--connection",
            connection
        );

    /// <summary>Three accounts, each opened and credited twice: 9 events.</summary>
    private async Task<List<Account>> WriteAccountsAsync()
    {
        var accounts = new List<Account>();
        for (var i = 0; i < 3; i++)
        {
            var account = await Account.InsertAsync(_store, new Attrs { ["owner"] = $"Zoë {i}" });
            account = await account.DepositAsync(_store, 12.5m);
            accounts.Add(await account.DepositAsync(_store, 0.1m));
        }
        return accounts;
    }

    private async Task ExecuteAsync(string sql)
    {
        await using var connection = await _store.OpenConnectionAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        await command.ExecuteNonQueryAsync();
    }

    private async Task<long> CountAsync(string table)
    {
        await using var connection = await _store.OpenConnectionAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = $"SELECT COUNT(*) FROM \"{table}\"";
        return Convert.ToInt64(await command.ExecuteScalarAsync());
    }

    private Task TamperAsync() =>
        ExecuteAsync(
            db == Db.Postgres
                ? "ALTER TABLE \"bank_events\" DISABLE TRIGGER USER; "
                    + "UPDATE \"bank_events\" SET \"payload\" = '{\"owner\":\"Mallory\"}' WHERE \"position\" = 4"
                : "DROP TRIGGER \"bank_events_no_update\"; "
                    + "UPDATE \"bank_events\" SET \"payload\" = '{\"owner\":\"Mallory\"}' WHERE \"position\" = 4"
        );

    [Test]
    public async Task The_migrate_script_touches_nothing_applies_cleanly_and_the_tool_then_verifies_the_apps_writes()
    {
        var script = await ToolProcess.SpectorAsync(
            "migrate",
            "--script",
            "--assembly",
            ToolProcess.SampleDll,
            "--provider",
            Provider
        );
        Assert.That(script.Code, Is.EqualTo(0), script.ToString());
        Assert.That(
            script.Output,
            Does.Contain("CREATE TABLE IF NOT EXISTS \"bank_events\"").And.Contain("\"accounts\"")
        );
        Assert.That(
            script.Output,
            Is.EqualTo($"-- Spector events table bank_events\n{BankEvents.Log.UpSql(Dialect)}\n")
        );

        await ExecuteAsync(script.Output);
        var accounts = await WriteAccountsAsync();
        var text = await SpectorAsync("verify");
        var json = await SpectorAsync("verify", "--json");

        Assert.That(text.Code, Is.EqualTo(0), text.ToString());
        var head = (await BankEvents.Log.VerifyHashChainAsync(_store)).Head!;
        Assert.That(text.Output, Does.Contain($"ok      bank_events: 9 events, table chain, head {head}"));
        Assert.That(json.Code, Is.EqualTo(0), json.ToString());
        // Standard output is exactly one JSON document (progress went to standard error), as CI scripts parse it.
        using var report = JsonDocument.Parse(json.Output);
        Assert.That(json.Error, Does.Contain("verifying chains ..."));
        Assert.That(report.RootElement.GetProperty("valid").GetBoolean(), Is.True);
        var chain = report.RootElement.GetProperty("chains")[0];
        Assert.That(
            (
                chain.GetProperty("table").GetString(),
                chain.GetProperty("events").GetInt64(),
                chain.GetProperty("head").GetString()
            ),
            Is.EqualTo(("bank_events", 9L, head.ToString()))
        );
        Assert.That(accounts, Has.Count.EqualTo(3));
    }

    [Test]
    public async Task Verify_exits_2_on_a_tampered_chain_and_1_when_it_cannot_run()
    {
        Assert.That((await SpectorAsync("migrate")).Code, Is.EqualTo(0));
        await WriteAccountsAsync();
        await TamperAsync();

        var broken = await SpectorAsync("verify");
        var brokenJson = await SpectorAsync("verify", "--json");

        Assert.That(broken.Code, Is.EqualTo(2), broken.ToString());
        Assert.That(broken.Output, Does.Contain("BROKEN  bank_events: HashMismatch at position 4"));
        Assert.That(brokenJson.Code, Is.EqualTo(2));
        using (var report = JsonDocument.Parse(brokenJson.Output))
        {
            Assert.That(report.RootElement.GetProperty("valid").GetBoolean(), Is.False);
            var failure = report.RootElement.GetProperty("chains")[0].GetProperty("break");
            Assert.That(
                (failure.GetProperty("kind").GetString(), failure.GetProperty("position").GetInt64()),
                Is.EqualTo(("HashMismatch", 4L))
            );
        }

        var unreachable =
            db == Db.Postgres ? "Host=127.0.0.1;Port=1;Timeout=2" : "Data Source=/nonexistent/spector/app.db";
        var down = await VerifyWithAsync(unreachable);
        Assert.That(down.Code, Is.EqualTo(1), down.ToString());
        // Progress lines may precede the error on standard error; the error is the last line.
        Assert.That(
            down.Error.Trim().Split('\n')[^1],
            Does.StartWith(
                db == Db.Postgres
                    ? "spector: cannot reach the database"
                    : "spector: No SQLite database at /nonexistent/spector/app.db"
            )
        );
        Assert.That(
            down.Error,
            Does.Not.Contain("Port=1").And.Not.Contain("Data Source"),
            "no connection string in the message"
        );
    }

    [Test]
    public async Task Clear_errors_for_an_unknown_provider_no_events_tables_a_missing_assembly_and_no_database()
    {
        var provider = await ToolProcess.SpectorAsync(
            "verify",
            "--assembly",
            ToolProcess.SampleDll,
            "--provider",
            "mysql",
            "--connection",
            _connection
        );
        var noTables = await ToolProcess.SpectorAsync(
            "verify",
            "--assembly",
            ToolProcess.ToolDll,
            "--provider",
            Provider,
            "--connection",
            _connection
        );
        var missing = await ToolProcess.SpectorAsync(
            "verify",
            "--assembly",
            Path.Combine(_folder, "Nope.dll"),
            "--provider",
            Provider,
            "--connection",
            _connection
        );
        var noDatabase = await ToolProcess.SpectorAsync("verify", "--assembly", ToolProcess.SampleDll);

        Assert.That(provider.Code, Is.EqualTo(1), provider.ToString());
        Assert.That(provider.Error, Does.Contain("'mysql'").And.Contain("sqlite").And.Contain("postgres"));
        Assert.That(noTables.Code, Is.EqualTo(3), noTables.ToString());
        Assert.That(noTables.Error, Does.Contain("Spector.Tool.dll declares no events tables"));
        Assert.That(missing.Code, Is.EqualTo(1), missing.ToString());
        Assert.That(missing.Error, Does.Contain("No assembly at").And.Contain("Nope.dll"));
        Assert.That(noDatabase.Code, Is.EqualTo(1), noDatabase.ToString());
        Assert.That(noDatabase.Error, Does.Contain("pass --connection (or set SPECTOR_CONNECTION) and --provider"));
    }

    [Test]
    public async Task Read_commands_on_a_missing_database_fail_clearly_and_create_nothing()
    {
        var name = $"spector_typo_{Guid.NewGuid():N}";
        var typo = Path.Combine(_folder, name + ".db");
        var connection =
            db == Db.Postgres
                ? new Npgsql.NpgsqlConnectionStringBuilder(_connection) { Database = name }.ConnectionString
                : $"Data Source={typo}";
        Task<ToolRun> Run(params string[] command) =>
            ToolProcess.SpectorAsync([
                .. command,
                "--assembly",
                ToolProcess.SampleDll,
                "--provider",
                Provider,
                "--connection",
                connection,
            ]);

        var runs = new[]
        {
            await Run("verify", "--json"),
            await Run("export", "--output", _folder),
            await Run("events", Guid.NewGuid().ToString()),
            await Run("rebuild"),
        };

        foreach (var run in runs)
        {
            Assert.That(run.Code, Is.EqualTo(1), run.ToString());
            Assert.That(
                run.Error.Trim().Split('\n')[^1],
                Does.StartWith("spector: ").And.Contain(name),
                run.ToString()
            );
            Assert.That(run.Error, Does.Not.Contain("no such table"));
            if (db == Db.Sqlite)
                Assert.That(run.Error, Does.Contain($"No SQLite database at {typo}"));
        }
        Assert.That(File.Exists(typo), Is.False, "a read command does not create the database file");
        if (db == Db.Sqlite)
        {
            Assert.That((await Run("migrate")).Code, Is.EqualTo(0), "migrate still creates it");
            Assert.That(File.Exists(typo), Is.True);
            SqliteConnection.ClearAllPools();
        }
    }

    [Test]
    public async Task The_export_is_read_back_by_the_independent_verifier_with_the_head_verify_printed()
    {
        Assert.That((await SpectorAsync("migrate")).Code, Is.EqualTo(0));
        await WriteAccountsAsync();
        var head = (await BankEvents.Log.VerifyHashChainAsync(_store)).Head!;

        var export = await SpectorAsync("export", "--output", _folder);

        Assert.That(export.Code, Is.EqualTo(0), export.ToString());
        var file = Path.Combine(_folder, "bank_events.jsonl");
        Assert.That(export.Output, Does.Contain($"ok      bank_events: 9 events to {file}"));
        Assert.That(File.ReadAllLines(file), Has.Length.EqualTo(9));
        var verified = await IndependentVerifier.RunAsync(file, head.ToString());
        Assert.That(verified.Code, Is.EqualTo(0), verified.ToString());
        Assert.That(verified.Output.Trim(), Is.EqualTo($"ok: 9 events, head {head}"));

        await TamperAsync();
        Assert.That(
            (await SpectorAsync("export", "--output", _folder)).Code,
            Is.EqualTo(0),
            "export writes what is stored"
        );
        var caught = await IndependentVerifier.RunAsync(file, head.ToString());
        Assert.That(caught.Code, Is.EqualTo(1), caught.ToString());
        Assert.That(caught.Output, Does.StartWith("break at position 4"));
    }

    [Test]
    public async Task Events_prints_one_records_history_and_says_when_there_is_none()
    {
        Assert.That((await SpectorAsync("migrate")).Code, Is.EqualTo(0));
        var account = (await WriteAccountsAsync())[1];

        var history = await SpectorAsync("events", account.Id.ToString());
        var none = await SpectorAsync("events", Guid.Empty.ToString());

        Assert.That(history.Code, Is.EqualTo(0), history.ToString());
        var lines = history.Output.Trim().Split('\n');
        Assert.That(lines[0], Is.EqualTo($"record {account.Id} in bank_events: 3 events"));
        Assert.That(lines[1], Is.EqualTo("seq\tat (UTC)\taction\ttype\tactor\tpayload"));
        Assert.That(
            lines[2..].Select(l => l.Split('\t')[0] + " " + l.Split('\t')[2] + " " + l.Split('\t')[3]),
            Is.EqualTo(new[] { "1 insert WebApi.Account", "2 deposit WebApi.Account", "3 deposit WebApi.Account" })
        );
        Assert.That(lines[2], Does.Contain("Zoë 1"));
        Assert.That(lines[3], Does.Contain("12.5"));
        Assert.That(none.Code, Is.EqualTo(1));
        Assert.That(none.Error, Does.Contain($"No events for record {Guid.Empty} in bank_events"));
    }

    [Test]
    public async Task Verify_with_an_expected_head_finds_events_removed_from_the_end()
    {
        Assert.That((await SpectorAsync("migrate")).Code, Is.EqualTo(0));
        await WriteAccountsAsync();
        var head = (await BankEvents.Log.VerifyHashChainAsync(_store)).Head!;
        var anchored = await SpectorAsync("verify", "--expect-head", $"bank_events={head}");
        Assert.That(anchored.Code, Is.EqualTo(0), anchored.ToString());

        // The last event goes, and nothing else: the shorter chain still verifies on its own.
        await ExecuteAsync(
            (
                db == Db.Postgres
                    ? "ALTER TABLE \"bank_events\" DISABLE TRIGGER USER; "
                    : "DROP TRIGGER \"bank_events_no_delete\"; "
            ) + "DELETE FROM \"bank_events\" WHERE \"position\" = (SELECT MAX(\"position\") FROM \"bank_events\")"
        );
        var plain = await SpectorAsync("verify", "--no-savepoints");
        var truncated = await SpectorAsync("verify", "--no-savepoints", "--expect-head", $"bank_events={head}");

        Assert.That(plain.Code, Is.EqualTo(0), plain.ToString());
        Assert.That(truncated.Code, Is.EqualTo(2), truncated.ToString());
        Assert.That(
            truncated.Output,
            Does.Contain($"Truncated at position {head.Position - 1}").And.Contain("before the expected head")
        );

        var malformed = await SpectorAsync("verify", "--expect-head", "bank_events=9:abc");
        var unknown = await SpectorAsync("verify", "--expect-head", $"nope={head}");
        Assert.That((malformed.Code, unknown.Code), Is.EqualTo((1, 1)));
        Assert.That(malformed.Error, Does.Contain("is not <position>:<hash>"));
        Assert.That(unknown.Error, Does.Contain("naming a hashed events table"));
    }

    [Test]
    public async Task The_connection_string_can_come_from_SPECTOR_CONNECTION_instead_of_the_command_line()
    {
        Assert.That((await SpectorAsync("migrate")).Code, Is.EqualTo(0));
        await WriteAccountsAsync();
        string[] command = ["verify", "--assembly", ToolProcess.SampleDll, "--provider", Provider];

        var fromVariable = await ToolProcess.RunAsync(
            "dotnet",
            ToolProcess.Root,
            new Dictionary<string, string> { ["SPECTOR_CONNECTION"] = _connection },
            [ToolProcess.ToolDll, .. command]
        );
        var without = await ToolProcess.RunAsync(
            "dotnet",
            ToolProcess.Root,
            new Dictionary<string, string> { ["SPECTOR_CONNECTION"] = "" },
            [ToolProcess.ToolDll, .. command]
        );

        Assert.That(fromVariable.Code, Is.EqualTo(0), fromVariable.ToString());
        Assert.That(fromVariable.Output, Does.Contain("ok      bank_events: 9 events"));
        Assert.That(without.Code, Is.EqualTo(1));
        Assert.That(without.Error, Does.Contain("pass --connection (or set SPECTOR_CONNECTION)"));
    }

    [Test]
    public async Task A_malformed_connection_string_is_refused_without_echoing_any_part_of_it()
    {
        var malformed =
            db == Db.Postgres ? "Host=127.0.0.1;Username=u;Password=hunt;er2=xy" : "Data Source=x.db;Mode=hunter2";

        var run = await VerifyWithAsync(malformed);

        Assert.That(run.Code, Is.EqualTo(1), run.ToString());
        Assert.That(run.Error, Does.Contain("The connection string does not parse"));
        Assert.That(run.Error, Does.Not.Contain("er2").And.Not.Contain("hunter2").And.Not.Contain("hunt"));
    }

    [Test]
    public async Task Rebuild_brings_back_record_rows_from_the_events()
    {
        Assert.That((await SpectorAsync("migrate")).Code, Is.EqualTo(0));
        var accounts = await WriteAccountsAsync();
        await ExecuteAsync("DELETE FROM \"accounts\"");
        Assert.That(await CountAsync("accounts"), Is.Zero);

        var rebuild = await SpectorAsync("rebuild");

        Assert.That(rebuild.Code, Is.EqualTo(0), rebuild.ToString());
        Assert.That(rebuild.Output, Does.Contain("ok      accounts: 3 records, 3 rows"));
        Assert.That(await CountAsync("accounts"), Is.EqualTo(3));
        await using var connection = await _store.OpenConnectionAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT \"balance\" FROM \"accounts\" WHERE \"owner\" = 'Zoë 2'";
        Assert.That(
            Convert.ToDecimal(await command.ExecuteScalarAsync(), System.Globalization.CultureInfo.InvariantCulture),
            Is.EqualTo(12.6m)
        );
        _ = accounts;
    }

    [Test]
    public async Task Rebuild_refuses_a_log_whose_chain_does_not_verify_unless_told_not_to_verify()
    {
        Assert.That((await SpectorAsync("migrate")).Code, Is.EqualTo(0));
        await WriteAccountsAsync();
        await ExecuteAsync("DELETE FROM \"accounts\"");
        // A payload rewritten so that it still replays: only the chain tells.
        await ExecuteAsync(
            db == Db.Postgres
                ? "ALTER TABLE \"bank_events\" DISABLE TRIGGER USER; UPDATE \"bank_events\" "
                    + "SET \"payload\" = jsonb_set(\"payload\", '{owner}', '\"Mallory\"') WHERE \"position\" = 1"
                : "DROP TRIGGER \"bank_events_no_update\"; UPDATE \"bank_events\" "
                    + "SET \"payload\" = json_set(\"payload\", '$.owner', 'Mallory') WHERE \"position\" = 1"
        );

        var refused = await SpectorAsync("rebuild");

        Assert.That(refused.Code, Is.EqualTo(2), refused.ToString());
        Assert.That(refused.Output, Does.Contain("BROKEN  bank_events: HashMismatch at position 1"));
        Assert.That(refused.Output, Does.Contain("nothing rebuilt"));
        Assert.That(await CountAsync("accounts"), Is.Zero, "a refused rebuild writes nothing");

        var forced = await SpectorAsync("rebuild", "--no-verify");

        Assert.That(forced.Code, Is.EqualTo(0), forced.ToString());
        Assert.That(await CountAsync("accounts"), Is.EqualTo(3));
        await using var connection = await _store.OpenConnectionAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT COUNT(*) FROM \"accounts\" WHERE \"owner\" = 'Mallory'";
        Assert.That(Convert.ToInt64(await command.ExecuteScalarAsync()), Is.EqualTo(1), "copied as it is");
    }

    [Test]
    public async Task Inside_the_app_the_same_commands_use_its_registered_store_and_exit_codes()
    {
        var environment = new Dictionary<string, string>
        {
            ["Spector__Dialect"] = db == Db.Postgres ? "PostgreSql" : "Sqlite",
            ["Spector__ConnectionString"] = _connection,
            ["Spector__MigrateOnStartup"] = "false",
            // The app's console logger writes from a thread of its own; quiet it so the command's lines stand alone.
            ["Logging__LogLevel__Default"] = "Warning",
            // The app's console logs go to standard error, as tool.md advises, so --json's standard output is JSON.
            ["Logging__Console__LogToStandardErrorThreshold"] = "Trace",
        };

        var migrate = await ToolProcess.SampleAsync(environment, "spector", "migrate");
        Assert.That(migrate.Code, Is.EqualTo(0), migrate.ToString());
        Assert.That(migrate.Output.Trim(), Is.EqualTo("migrated bank_events"));
        await WriteAccountsAsync();
        var intact = await ToolProcess.SampleAsync(environment, "spector", "verify");
        await TamperAsync();
        var broken = await ToolProcess.SampleAsync(environment, "spector", "verify", "--json");
        var unknownKey = await ToolProcess.SampleAsync(environment, "spector", "verify", "--store", "tenantZ");

        Assert.That(intact.Code, Is.EqualTo(0), intact.ToString());
        Assert.That(intact.Output, Does.Contain("ok      bank_events: 9 events"));
        Assert.That(broken.Code, Is.EqualTo(2), broken.ToString());
        using var report = JsonDocument.Parse(broken.Output); // the whole of standard output: no log or progress lines
        Assert.That(report.RootElement.GetProperty("valid").GetBoolean(), Is.False);
        Assert.That(unknownKey.Code, Is.EqualTo(1));
        Assert.That(unknownKey.Error, Does.Contain("No Spector store registered under the key 'tenantZ'"));
    }
}
