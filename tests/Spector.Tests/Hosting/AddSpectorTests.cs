using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Npgsql;
using Spector.Testing;

namespace Spector.Tests;

/// <summary>
/// services.AddSpector(...) in a real container: options in code or from configuration, the data source from the
/// container, migration on startup, and health checks that tell reachable, migrated and intact apart. Each test
/// starts on an empty database of its own (a fresh SQLite file or PostgreSQL schema), nothing migrated.
/// </summary>
[TestFixture(Db.Sqlite)]
[TestFixture(Db.Postgres)]
public sealed class AddSpectorTests(Db db)
{
    private string? _file;
    private PostgresSchema? _schema;
    private ServiceProvider? _services;

    [OneTimeSetUp]
    public void RequireDatabase()
    {
        if (db == Db.Postgres)
            PostgresServer.Require();
    }

    [TearDown]
    public async Task RemoveDatabaseAsync()
    {
        if (_services is not null)
            await _services.DisposeAsync();
        if (_schema is not null)
            await _schema.DisposeAsync();
        (_services, _schema) = (null, null);
        if (_file is null)
            return;
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        foreach (var suffix in new[] { "", "-wal", "-shm" })
            File.Delete(_file + suffix);
        _file = null;
    }

    /// <summary>Configuration an app would have in appsettings.json, pointing at an empty database.</summary>
    private async Task<Dictionary<string, string?>> SettingsAsync()
    {
        string connectionString;
        if (db == Db.Postgres)
        {
            _schema = await PostgresSchema.CreateAsync(PostgresServer.ConnectionString);
            connectionString = _schema.DataSource.ConnectionString;
        }
        else
        {
            _file = Path.Combine(Path.GetTempPath(), $"spector-host-{Guid.NewGuid():N}.db");
            connectionString = $"Data Source={_file}";
        }
        return new()
        {
            ["Spector:Dialect"] = db == Db.Postgres ? "PostgreSql" : "Sqlite",
            ["Spector:ConnectionString"] = connectionString,
            ["Spector:MaxWriteAttempts"] = "7",
            ["Spector:SlowReplayThreshold"] = "00:00:02",
            ["Spector:MigrateOnStartup"] = "true",
        };
    }

    private ServiceProvider Build(Action<IServiceCollection> register)
    {
        var services = new ServiceCollection();
        services.AddLogging();
        register(services);
        return _services = services.BuildServiceProvider(
            new ServiceProviderOptions { ValidateOnBuild = true, ValidateScopes = true }
        );
    }

    private static async Task StartHostedServicesAsync(IServiceProvider services)
    {
        foreach (var hosted in services.GetServices<IHostedService>())
            await hosted.StartAsync(CancellationToken.None);
    }

    [Test]
    public async Task Options_bound_from_configuration_build_the_store_and_startup_migrates()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(await SettingsAsync()).Build();
        var services = Build(s =>
            s.AddSpector(configuration.GetSection("Spector"), o => o.EventsTables.Add(AppEvents.Log))
        );

        var store = services.GetRequiredService<SpectorStore>();
        Assert.That(store.Dialect, Is.EqualTo(db == Db.Postgres ? SqlDialect.PostgreSql : SqlDialect.Sqlite));
        Assert.That(store.Options.MaxWriteAttempts, Is.EqualTo(7));
        Assert.That(store.Options.SlowReplayThreshold, Is.EqualTo(TimeSpan.FromSeconds(2)));
        Assert.That(store.Options.LoggerFactory, Is.SameAs(services.GetRequiredService<ILoggerFactory>()));
        Assert.That(services.GetRequiredService<SpectorStore>(), Is.SameAs(store), "one store per container");

        Assert.CatchAsync(
            () => User.InsertAsync(store, new Attrs { ["name"] = "Ada", ["email"] = "a@example.com" }),
            "nothing is migrated before the host starts"
        );
        await StartHostedServicesAsync(services);
        var user = await User.InsertAsync(store, new Attrs { ["name"] = "Ada", ["email"] = "a@example.com" });
        Assert.That((await User.GetAsync(store, user.Id))!.Name, Is.EqualTo("Ada"));
    }

    [Test]
    public async Task Without_MigrateOnStartup_nothing_is_migrated_and_bad_options_are_refused_clearly()
    {
        var settings = await SettingsAsync();
        settings["Spector:MigrateOnStartup"] = "false";
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(settings).Build();
        var services = Build(s =>
            s.AddSpector(configuration.GetSection("Spector"), o => o.EventsTables.Add(AppEvents.Log))
        );
        await StartHostedServicesAsync(services);
        Assert.CatchAsync(() =>
            User.InsertAsync(
                services.GetRequiredService<SpectorStore>(),
                new Attrs { ["name"] = "A", ["email"] = "a@x" }
            )
        );

        await using var invalid = new ServiceCollection()
            .AddSpector(o => o.MaxWriteAttempts = 0)
            .BuildServiceProvider();
        var error = Assert.Throws<Microsoft.Extensions.Options.OptionsValidationException>(() =>
            invalid.GetRequiredService<SpectorStore>()
        );
        Assert.That(error!.Message, Does.Contain("MaxWriteAttempts must be at least 1"));
        await using var noTables = new ServiceCollection()
            .AddSpector(o => o.MigrateOnStartup = true)
            .BuildServiceProvider();
        Assert.Throws<Microsoft.Extensions.Options.OptionsValidationException>(() =>
            noTables.GetRequiredService<SpectorStore>()
        );
    }

    [Test]
    public async Task Without_a_connection_string_PostgreSQL_takes_the_containers_data_source_and_SQLite_names_the_gap()
    {
        if (db == Db.Sqlite)
        {
            await using var noConnection = new ServiceCollection()
                .AddSpector(o => o.EventsTables.Add(AppEvents.Log))
                .BuildServiceProvider();
            var missing = Assert.Throws<InvalidOperationException>(() =>
                noConnection.GetRequiredService<SpectorStore>()
            );
            Assert.That(missing!.Message, Does.Contain("set ConnectionString for SQLite"));
            return;
        }
        var settings = await SettingsAsync();
        await using var dataSource = NpgsqlDataSource.Create(settings["Spector:ConnectionString"]!);
        var services = Build(s =>
            s.AddSingleton(dataSource)
                .AddSpector(o =>
                {
                    o.Dialect = SqlDialect.PostgreSql;
                    o.MigrateOnStartup = true;
                    o.EventsTables.Add(AppEvents.Log);
                })
        );

        await StartHostedServicesAsync(services);
        var user = await User.InsertAsync(
            services.GetRequiredService<SpectorStore>(),
            new Attrs { ["name"] = "Ada", ["email"] = "a@x" }
        );

        await using var command = dataSource.CreateCommand("SELECT COUNT(*) FROM \"users\"");
        Assert.That(
            await command.ExecuteScalarAsync(),
            Is.EqualTo(1L),
            $"written through the container's data source ({user.Id})"
        );
    }

    [Test]
    public async Task The_database_health_check_tells_unreachable_unmigrated_and_ready_apart()
    {
        var settings = await SettingsAsync();
        settings["Spector:MigrateOnStartup"] = "false";
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(settings).Build();
        var services = Build(s =>
        {
            s.AddSpector(configuration.GetSection("Spector"), o => o.EventsTables.Add(AppEvents.Log));
            s.AddHealthChecks().AddSpectorDatabase();
        });
        var health = services.GetRequiredService<HealthCheckService>();

        var unmigrated = (await health.CheckHealthAsync()).Entries["spector-database"];
        Assert.That(unmigrated.Status, Is.EqualTo(HealthStatus.Unhealthy));
        Assert.That(
            unmigrated.Description,
            Does.Contain("Not migrated").And.Contain("events (events)").And.Contain("users (events)")
        );

        await AppEvents.Log.MigrateUpAsync(services.GetRequiredService<SpectorStore>());
        var ready = (await health.CheckHealthAsync()).Entries["spector-database"];
        Assert.That(ready.Status, Is.EqualTo(HealthStatus.Healthy), ready.Description);

        var unreachable =
            db == Db.Postgres
                ? new()
                {
                    ["Spector:Dialect"] = "PostgreSql",
                    ["Spector:ConnectionString"] = "Host=127.0.0.1;Port=1;Timeout=2",
                }
                : new Dictionary<string, string?>
                {
                    ["Spector:ConnectionString"] = "Data Source=/nonexistent/dir/app.db",
                };
        await using var down = new ServiceCollection()
            .AddSpector(
                new ConfigurationBuilder().AddInMemoryCollection(unreachable).Build().GetSection("Spector"),
                o => o.EventsTables.Add(AppEvents.Log)
            )
            .AddLogging()
            .AddHealthChecks()
            .AddSpectorDatabase()
            .Services.BuildServiceProvider();
        var report = (await down.GetRequiredService<HealthCheckService>().CheckHealthAsync()).Entries[
            "spector-database"
        ];
        Assert.That(report.Status, Is.EqualTo(HealthStatus.Unhealthy));
        Assert.That(report.Description, Does.Contain("unreachable"));
        Assert.That(
            report.Description,
            Does.Not.Contain("Port=1").And.Not.Contain("Data Source"),
            "no connection string in the report"
        );
    }

    [Test]
    public async Task The_chain_health_check_verifies_incrementally_and_stays_unhealthy_after_a_break()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(await SettingsAsync()).Build();
        var services = Build(s =>
        {
            s.AddSpector(configuration.GetSection("Spector"), o => o.EventsTables.Add(LedgerEvents.Log));
            s.AddHealthChecks().AddSpectorChain(LedgerEvents.Log);
        });
        await StartHostedServicesAsync(services);
        var store = services.GetRequiredService<SpectorStore>();
        var health = services.GetRequiredService<HealthCheckService>();
        var account = await LedgerAccount.InsertAsync(store, new Attrs { ["owner"] = "Ann" });
        for (var i = 0; i < 3; i++)
            account = await account.PostAsync(store, 1m, "p");

        var first = (await health.CheckHealthAsync()).Entries["spector-chain-ledger"];
        await account.PostAsync(store, 1m, "later");
        var second = (await health.CheckHealthAsync()).Entries["spector-chain-ledger"];

        Assert.That((first.Status, second.Status), Is.EqualTo((HealthStatus.Healthy, HealthStatus.Healthy)));
        Assert.That(first.Data["events_checked"], Is.EqualTo(4L));
        Assert.That(second.Data["events_checked"], Is.EqualTo(1L), "only the event appended since the last check");
        Assert.That((long)second.Data["head_position"], Is.GreaterThan((long)first.Data["head_position"]));

        await using (var connection = await store.OpenConnectionAsync())
        await using (var tamper = connection.CreateCommand())
        {
            tamper.CommandText =
                db == Db.Postgres
                    ? "ALTER TABLE \"ledger\" DISABLE TRIGGER USER; "
                        + "UPDATE \"ledger\" SET \"hash\" = sha256('x') WHERE \"seq\" = 5"
                    : "DROP TRIGGER \"ledger_no_update\"; "
                        + "UPDATE \"ledger\" SET \"hash\" = zeroblob(32) WHERE \"seq\" = 5";
            await tamper.ExecuteNonQueryAsync();
        }
        var broken = (await health.CheckHealthAsync()).Entries["spector-chain-ledger"];
        var stillBroken = (await health.CheckHealthAsync()).Entries["spector-chain-ledger"];
        Assert.That((broken.Status, stillBroken.Status), Is.EqualTo((HealthStatus.Unhealthy, HealthStatus.Unhealthy)));
        Assert.That(broken.Description, Does.Contain("ledger is broken"));
    }
}
