using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Spector.Testing;

namespace Spector.Tests;

/// <summary>
/// The stores AddSpector registers: the unkeyed one becomes its events tables' default (so a generated method
/// without a session writes there), and stores registered under keys live side by side on their own databases,
/// injected with [FromKeyedServices], never becoming a default unless asked.
/// </summary>
[TestFixture(Db.Sqlite)]
[TestFixture(Db.Postgres)]
public sealed class AddSpectorStoresTests(Db db)
{
    private readonly List<string> _files = [];
    private readonly List<PostgresSchema> _schemas = [];
    private ServiceProvider? _services;

    [OneTimeSetUp]
    public void RequireDatabase()
    {
        if (db == Db.Postgres)
            PostgresServer.Require();
    }

    [TearDown]
    public async Task RemoveDatabasesAsync()
    {
        if (_services is not null)
            await _services.DisposeAsync();
        _services = null;
        foreach (var schema in _schemas)
            await schema.DisposeAsync();
        _schemas.Clear();
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        foreach (var file in _files)
        foreach (var suffix in new[] { "", "-wal", "-shm" })
            File.Delete(file + suffix);
        _files.Clear();
    }

    /// <summary>An empty database of its own: a fresh SQLite file or PostgreSQL schema.</summary>
    private async Task<string> EmptyDatabaseAsync()
    {
        if (db == Db.Postgres)
        {
            var schema = await PostgresSchema.CreateAsync(PostgresServer.ConnectionString);
            _schemas.Add(schema);
            return schema.DataSource.ConnectionString;
        }
        var file = Path.Combine(Path.GetTempPath(), $"spector-keyed-{Guid.NewGuid():N}.db");
        _files.Add(file);
        return $"Data Source={file}";
    }

    private void Configure(SpectorServiceOptions options, string connectionString)
    {
        options.Dialect = db == Db.Postgres ? SqlDialect.PostgreSql : SqlDialect.Sqlite;
        options.ConnectionString = connectionString;
        options.MigrateOnStartup = true;
        options.EventsTables.Add(AppEvents.Log);
    }

    private async Task<ServiceProvider> StartAsync(Action<IServiceCollection> register)
    {
        var services = new ServiceCollection().AddLogging();
        register(services);
        _services = services.BuildServiceProvider(
            new ServiceProviderOptions { ValidateOnBuild = true, ValidateScopes = true }
        );
        foreach (var hosted in _services.GetServices<IHostedService>())
            await hosted.StartAsync(CancellationToken.None);
        return _services;
    }

    private static Attrs Ada => new() { ["name"] = "Ada", ["email"] = "ada@example.com" };

    [Test]
    public async Task AddSpector_makes_its_store_the_default_so_a_generated_method_without_a_session_writes_there()
    {
        // A default left over from elsewhere in the process: AddSpector's store must replace it.
        var elsewhere = await EmptyDatabaseAsync();
        var stale =
            db == Db.Postgres
                ? SpectorStore.Postgres(Npgsql.NpgsqlDataSource.Create(elsewhere))
                : SpectorStore.Sqlite(elsewhere);
        await AppEvents.Log.MigrateUpAsync(stale);
        AppEvents.Log.Use(stale);
        var connectionString = await EmptyDatabaseAsync();
        var services = await StartAsync(s => s.AddSpector(o => Configure(o, connectionString)));
        var store = services.GetRequiredService<SpectorStore>();

        var user = await User.InsertAsync(Ada);

        Assert.That(AppEvents.Log.Store, Is.SameAs(store));
        Assert.That((await User.GetAsync(store, user.Id))?.Name, Is.EqualTo("Ada"), "written to the DI store");
        Assert.That(await User.GetAsync(stale, user.Id), Is.Null, "not to the stale default");
    }

    [Test]
    public async Task Keyed_stores_live_side_by_side_and_are_injected_with_FromKeyedServices()
    {
        var (a, b) = (await EmptyDatabaseAsync(), await EmptyDatabaseAsync());
        var services = await StartAsync(s =>
            s.AddSpector("tenantA", o => Configure(o, a))
                .AddSpector("tenantB", o => Configure(o, b))
                .AddSingleton<TenantReports>()
        );
        var reports = services.GetRequiredService<TenantReports>();
        var (storeA, storeB) = (
            services.GetRequiredKeyedService<SpectorStore>("tenantA"),
            services.GetRequiredKeyedService<SpectorStore>("tenantB")
        );

        var inA = await User.InsertAsync(reports.A, Ada);
        var inB = await User.InsertAsync(reports.B, new Attrs { ["name"] = "Bob", ["email"] = "bob@example.com" });

        Assert.That(
            (reports.A, reports.B),
            Is.EqualTo((storeA, storeB)),
            "the attribute resolves the keyed singletons"
        );
        Assert.That(storeA, Is.Not.SameAs(storeB));
        Assert.That(services.GetService<SpectorStore>(), Is.Null, "no unkeyed store was registered");
        Assert.That((await User.GetAsync(storeA, inA.Id))?.Name, Is.EqualTo("Ada"));
        Assert.That(await User.GetAsync(storeB, inA.Id), Is.Null, "tenant A's record is not in tenant B's database");
        Assert.That((await User.GetAsync(storeB, inB.Id))?.Name, Is.EqualTo("Bob"));
        Assert.That(await User.GetAsync(storeA, inB.Id), Is.Null);
        Assert.That(
            AppEvents.Log.DefaultStoreIs(storeA) || AppEvents.Log.DefaultStoreIs(storeB),
            Is.False,
            "a keyed store does not become the default unless asked"
        );
    }

    [Test]
    public async Task A_keyed_store_becomes_the_default_only_when_asked_and_a_key_is_registered_once()
    {
        var connectionString = await EmptyDatabaseAsync();
        var services = await StartAsync(s =>
            s.AddSpector(
                "main",
                o =>
                {
                    Configure(o, connectionString);
                    o.UseAsDefaultStore = true;
                }
            )
        );
        Assert.That(AppEvents.Log.Store, Is.SameAs(services.GetRequiredKeyedService<SpectorStore>("main")));

        var twice = Assert.Throws<InvalidOperationException>(() =>
            new ServiceCollection().AddSpector("x", o => { }).AddSpector("x", o => { })
        );
        Assert.That(twice!.Message, Does.Contain("already registered under the key 'x'"));
        Assert.Throws<ArgumentException>(() => new ServiceCollection().AddSpector(" ", o => { }));
        var invalid = new ServiceCollection().AddSpector("bad", o => o.MaxWriteAttempts = 0).BuildServiceProvider();
        var error = Assert.Throws<Microsoft.Extensions.Options.OptionsValidationException>(() =>
            invalid.GetRequiredKeyedService<SpectorStore>("bad")
        );
        Assert.That(error!.Message, Does.Contain("Spector store 'bad': MaxWriteAttempts must be at least 1"));
    }

    [Test]
    public async Task A_hosts_default_ends_with_its_container_and_a_second_host_replacing_it_is_logged()
    {
        var (first, second) = (await EmptyDatabaseAsync(), await EmptyDatabaseAsync());
        var warnings = new WarningLog();
        if (AppEvents.Log.DefaultStore is { } leftOver) // by an earlier test in this process
            AppEvents.Log.ClearDefault(leftOver);
        await using var host1 = await BuildStartedAsync(s => s.AddSpector(o => Configure(o, first)), warnings);
        var store1 = host1.GetRequiredService<SpectorStore>();
        Assert.That(warnings.EventIds, Is.Empty, "the first host replaced no host's default");
        var host2 = await BuildStartedAsync(s => s.AddSpector(o => Configure(o, second)), warnings);
        var store2 = host2.GetRequiredService<SpectorStore>();

        Assert.That(AppEvents.Log.Store, Is.SameAs(store2), "last started wins while both live");
        Assert.That(warnings.EventIds, Is.EqualTo(new[] { 1010 }), "the replacement is logged, not silent");
        await host2.DisposeAsync();

        Assert.That(AppEvents.Log.HasDefaultStore, Is.False, "the disposed host's store is no longer the default");
        var error = Assert.ThrowsAsync<InvalidOperationException>(() => User.InsertAsync(Ada));
        Assert.That(error!.Message, Does.Contain("No store is configured for events table"));

        // Disposing a host whose default was already replaced leaves the other host's default alone.
        AppEvents.Log.Use(store1);
        await using (var host3 = await BuildStartedAsync(s => s.AddSpector(o => Configure(o, second)), warnings))
        {
            AppEvents.Log.Use(store1);
        }
        Assert.That(AppEvents.Log.Store, Is.SameAs(store1));
        await host1.DisposeAsync();
        Assert.That(AppEvents.Log.HasDefaultStore, Is.False);
    }

    [Test]
    public async Task A_keyed_PostgreSQL_store_without_a_connection_string_uses_the_data_source_under_its_key()
    {
        if (db != Db.Postgres)
            Assert.Ignore("Data sources in the container are PostgreSQL's (SQLite needs a connection string).");
        var (main, tenant) = (await EmptyDatabaseAsync(), await EmptyDatabaseAsync());
        await using var mainSource = Npgsql.NpgsqlDataSource.Create(main);
        await using var tenantSource = Npgsql.NpgsqlDataSource.Create(tenant);
        void Keyed(SpectorServiceOptions o)
        {
            Configure(o, main);
            o.ConnectionString = null;
        }
        var services = await StartAsync(s =>
            s.AddSingleton(mainSource).AddKeyedSingleton("b", tenantSource).AddSpector("b", Keyed)
        );
        var store = services.GetRequiredKeyedService<SpectorStore>("b");

        var user = await User.InsertAsync(store, Ada);

        Assert.That((await User.GetAsync(store, user.Id))?.Name, Is.EqualTo("Ada"));
        var tenantStore = SpectorStore.Postgres(tenantSource);
        Assert.That(
            (await User.GetAsync(tenantStore, user.Id))?.Name,
            Is.EqualTo("Ada"),
            "written to the data source keyed 'b'"
        );
        await using var alone = new ServiceCollection()
            .AddLogging()
            .AddSingleton(mainSource)
            .AddSpector("b", Keyed)
            .BuildServiceProvider();
        var refused = Assert.Throws<InvalidOperationException>(() => alone.GetRequiredKeyedService<SpectorStore>("b"));
        Assert.That(refused!.Message, Does.Contain("under the key 'b'").And.Contain("never uses the unkeyed"));
    }

    [Test]
    public async Task Health_checks_target_keyed_stores_and_a_missing_store_reports_unhealthy_instead_of_throwing()
    {
        var (a, b) = (await EmptyDatabaseAsync(), await EmptyDatabaseAsync());
        var services = await StartAsync(s =>
        {
            s.AddSpector("tenantA", o => Configure(o, a))
                .AddSpector(
                    "tenantB",
                    o =>
                    {
                        Configure(o, b);
                        o.MigrateOnStartup = false;
                    }
                );
            s.AddHealthChecks()
                .AddSpectorDatabase(storeKey: "tenantA")
                .AddSpectorDatabase(storeKey: "tenantB")
                .AddSpectorDatabase()
                .AddSpectorDatabase("typo", storeKey: "tenantC");
        });

        var report = await services.GetRequiredService<HealthCheckService>().CheckHealthAsync();

        var entries = report.Entries;
        Assert.That(entries["spector-database-tenantA"].Status, Is.EqualTo(HealthStatus.Healthy));
        Assert.That(entries["spector-database-tenantB"].Status, Is.EqualTo(HealthStatus.Unhealthy));
        Assert.That(entries["spector-database-tenantB"].Description, Does.StartWith("Not migrated"));
        Assert.That(entries["spector-database"].Status, Is.EqualTo(HealthStatus.Unhealthy));
        Assert.That(entries["spector-database"].Description, Does.Contain("No unkeyed SpectorStore is registered"));
        Assert.That(entries["typo"].Description, Does.Contain("under the key 'tenantC'"));
    }

    [TestCase("")]
    [TestCase("   ")]
    public void An_empty_connection_string_or_an_unknown_dialect_is_refused_naming_the_option(string connectionString)
    {
        using var empty = new ServiceCollection()
            .AddSpector(o => Configure(o, connectionString))
            .AddSpector("tenantB", o => Configure(o, connectionString))
            .BuildServiceProvider();
        using var unknown = new ServiceCollection()
            .AddSpector(o =>
            {
                Configure(o, "Data Source=never.db");
                o.Dialect = (SqlDialect)99;
            })
            .BuildServiceProvider();

        var error = Assert.Throws<Microsoft.Extensions.Options.OptionsValidationException>(() =>
            empty.GetRequiredService<SpectorStore>()
        );
        var keyed = Assert.Throws<Microsoft.Extensions.Options.OptionsValidationException>(() =>
            empty.GetRequiredKeyedService<SpectorStore>("tenantB")
        );
        var dialect = Assert.Throws<Microsoft.Extensions.Options.OptionsValidationException>(() =>
            unknown.GetRequiredService<SpectorStore>()
        );
        Assert.That(error!.Message, Does.Contain("Spector: ConnectionString is empty"));
        Assert.That(keyed!.Message, Does.Contain("Spector store 'tenantB': ConnectionString is empty"));
        Assert.That(dialect!.Message, Does.Contain("Dialect must be Sqlite or PostgreSql"));
        Assert.That(File.Exists("never.db"), Is.False);
    }

    private static async Task<ServiceProvider> BuildStartedAsync(Action<IServiceCollection> register, WarningLog log)
    {
        var services = new ServiceCollection().AddLogging(l => l.AddProvider(log));
        register(services);
        var provider = services.BuildServiceProvider();
        foreach (var hosted in provider.GetServices<IHostedService>())
            await hosted.StartAsync(CancellationToken.None);
        return provider;
    }

    /// <summary>Records the event ids of warnings logged under category Spector.</summary>
    private sealed class WarningLog : ILoggerProvider, ILogger
    {
        public List<int> EventIds { get; } = [];

        public ILogger CreateLogger(string categoryName) => categoryName == "Spector" ? this : NullLogger.Instance;

        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Warning;

        public void Log<TState>(
            LogLevel logLevel,
            EventId eventId,
            TState state,
            Exception? exception,
            Func<TState, Exception?, string> formatter
        )
        {
            if (IsEnabled(logLevel))
                lock (EventIds)
                    EventIds.Add(eventId.Id);
        }

        public void Dispose() { }
    }

    /// <summary>An app service that takes two tenants' stores, as a controller or endpoint would.</summary>
    private sealed class TenantReports(
        [FromKeyedServices("tenantA")] SpectorStore a,
        [FromKeyedServices("tenantB")] SpectorStore b
    )
    {
        public SpectorStore A { get; } = a;

        public SpectorStore B { get; } = b;
    }
}

internal static class DefaultStoreProbe
{
    /// <summary>True when <paramref name="store"/> is the log's default (false when it has none).</summary>
    public static bool DefaultStoreIs(this EventLog log, SpectorStore store)
    {
        try
        {
            return ReferenceEquals(log.Store, store);
        }
        catch (InvalidOperationException)
        {
            return false;
        }
    }
}
