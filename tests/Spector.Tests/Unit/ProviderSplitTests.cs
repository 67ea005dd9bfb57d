using System.Reflection;
using Microsoft.Data.Sqlite;
using Npgsql;

namespace Spector.Tests;

/// <summary>
/// The core assembly compiles in neither database driver: only the provider assemblies reference Npgsql or
/// Microsoft.Data.Sqlite (and through it SQLite's native library), so an app carries only the driver it uses.
/// </summary>
public sealed class ProviderSplitTests
{
    private static readonly string[] Drivers =
    [
        "Npgsql",
        "Microsoft.Data.Sqlite",
        "SQLitePCLRaw.core",
        "SQLitePCLRaw.batteries_v2",
    ];

    private static string[] References(Assembly assembly) =>
        [.. assembly.GetReferencedAssemblies().Select(a => a.Name!)];

    [Test]
    public void The_core_assembly_references_no_database_driver()
    {
        var core = typeof(EventLog).Assembly;

        Assert.That(core.GetName().Name, Is.EqualTo("Spector"));
        Assert.That(References(core), Does.Contain("Dapper"), "the check reads real references");
        Assert.That(References(core).Intersect(Drivers), Is.Empty);
    }

    [Test]
    public void Each_provider_assembly_references_its_own_driver_and_not_the_other()
    {
        var postgres = typeof(PostgreSqlProvider).Assembly;
        var sqlite = typeof(SqliteProvider).Assembly;

        Assert.That(
            References(postgres),
            Does.Contain("Npgsql").And.Contain("Spector").And.Not.Contain("Microsoft.Data.Sqlite")
        );
        Assert.That(
            References(sqlite),
            Does.Contain("Microsoft.Data.Sqlite").And.Contain("Spector").And.Not.Contain("Npgsql")
        );
    }

    [Test]
    public void The_installed_providers_are_found_by_dialect_and_serve_it()
    {
        Assert.That(SpectorProvider.For(SqlDialect.Sqlite), Is.SameAs(SqliteProvider.Instance));
        Assert.That(SpectorProvider.For(SqlDialect.PostgreSql), Is.SameAs(PostgreSqlProvider.Instance));
        Assert.That(SqliteProvider.Instance.Dialect, Is.EqualTo(SqlDialect.Sqlite));
        Assert.That(PostgreSqlProvider.Instance.Dialect, Is.EqualTo(SqlDialect.PostgreSql));
    }

    [Test]
    public void A_connection_finds_the_provider_of_its_type()
    {
        using var sqlite = new SqliteConnection("Data Source=:memory:");
        using var postgres = new NpgsqlConnection("Host=localhost");

        Assert.That(SpectorProvider.For(sqlite), Is.SameAs(SqliteProvider.Instance));
        Assert.That(SpectorProvider.For(postgres), Is.SameAs(PostgreSqlProvider.Instance));
    }

    [Test]
    public void Stores_made_by_a_provider_carry_it()
    {
        var sqlite = SpectorStore.Sqlite("Data Source=provider-split.db");
        using var dataSource = NpgsqlDataSource.Create("Host=localhost");
        var postgres = SpectorStore.Postgres(dataSource);

        Assert.That(sqlite.Provider, Is.SameAs(SqliteProvider.Instance));
        Assert.That(sqlite.Dialect, Is.EqualTo(SqlDialect.Sqlite));
        Assert.That(postgres.Provider, Is.SameAs(PostgreSqlProvider.Instance));
        Assert.That(postgres.Dialect, Is.EqualTo(SqlDialect.PostgreSql));
    }
}
