using Spector.Testing;

namespace Spector.Tests;

/// <summary>
/// The throwaway cluster starts from binaries found on the PATH, through pg_config, or under a distribution root,
/// not only where Debian puts them. Each case builds a search that only the place under test can satisfy, with
/// links to this machine's real binaries.
/// </summary>
[TestFixture]
public sealed class PostgresDiscoveryTests
{
    private string _work = "";
    private const string Nowhere = "/nonexistent/spector-pg-root";

    [SetUp]
    public void CreateWorkFolder()
    {
        _work = Directory.CreateTempSubdirectory("spector-pgbin-").FullName;
        // As root the server runs as the postgres user, who must be able to reach the linked programs.
        File.SetUnixFileMode(_work, (UnixFileMode)0b111_101_101);
    }

    [TearDown]
    public void RemoveWorkFolder() => Directory.Delete(_work, recursive: true);

    [Test]
    public async Task A_cluster_starts_from_binaries_found_only_on_the_PATH()
    {
        var onPath = LinkServerInto(Path.Combine(_work, "path-bin"), "initdb", "pg_ctl");
        var search = new PostgresSearch(null, string.Join(Path.PathSeparator, "/nonexistent/a", onPath), Nowhere);

        Assert.That(PostgresBinaries.Find(search, out _), Is.EqualTo(onPath));
        await using var cluster = await PostgresCluster.StartAsync(durable: false, search);
        await using var dataSource = Npgsql.NpgsqlDataSource.Create(cluster.ConnectionString);
        await using var command = dataSource.CreateCommand("SELECT 1 + 1");
        Assert.That(await command.ExecuteScalarAsync(), Is.EqualTo(2));
    }

    [Test]
    public void Binaries_are_found_through_pg_config_on_the_PATH()
    {
        var pgConfig = new[] { RealBinaries() }
            .Concat(PathOf(Environment.GetEnvironmentVariable("PATH")))
            .Select(d => Path.Combine(d, "pg_config"))
            .FirstOrDefault(File.Exists);
        Assume.That(pgConfig, Is.Not.Null, "this installation has no pg_config");
        var onPath = Directory.CreateDirectory(Path.Combine(_work, "only-pg-config")).FullName;
        File.CreateSymbolicLink(Path.Combine(onPath, "pg_config"), pgConfig!);

        var found = PostgresBinaries.Find(new PostgresSearch(null, onPath, Nowhere), out _);

        Assert.That(found, Is.Not.Null.And.Not.EqualTo(onPath), "pg_config alone is not a server");
        Assert.That(File.Exists(Path.Combine(found!, "initdb")) && File.Exists(Path.Combine(found!, "pg_ctl")), found);
    }

    [Test]
    public void Under_a_distribution_root_the_highest_version_with_binaries_wins_by_number()
    {
        var root = Path.Combine(_work, "lib-postgresql");
        LinkServerInto(Path.Combine(root, "9.6", "bin"), "initdb", "pg_ctl");
        var fifteen = LinkServerInto(Path.Combine(root, "15", "bin"), "initdb", "pg_ctl");
        LinkServerInto(Path.Combine(root, "16", "bin"), "pg_ctl"); // no initdb: not a server installation

        Assert.That(PostgresBinaries.Find(new PostgresSearch(null, "", root), out _), Is.EqualTo(fifteen));
    }

    [Test]
    public void An_explicit_directory_is_the_only_place_looked()
    {
        var onPath = LinkServerInto(Path.Combine(_work, "path-bin"), "initdb", "pg_ctl");
        var empty = Directory.CreateDirectory(Path.Combine(_work, "empty")).FullName;

        var found = PostgresBinaries.Find(new PostgresSearch(empty, onPath, Nowhere), out var searched);

        Assert.That(found, Is.Null);
        Assert.That(searched, Is.EqualTo($"{PostgresSearch.BinDirectoryVariable}={empty}"));
        Assert.That(PostgresBinaries.Find(new PostgresSearch(onPath, null, Nowhere), out _), Is.EqualTo(onPath));
    }

    [Test]
    public void A_miss_names_every_place_looked()
    {
        var error = Assert.ThrowsAsync<InvalidOperationException>(() =>
            PostgresCluster.StartAsync(durable: false, new PostgresSearch(null, _work, Nowhere))
        );

        Assert.That(
            error!.Message,
            Does.Contain("initdb, pg_ctl").And.Contain("PATH").And.Contain("pg_config --bindir").And.Contain(Nowhere)
        );
    }

    private static string[] PathOf(string? variable) =>
        (variable ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries);

    /// <summary>A folder of links to the named programs of this machine's PostgreSQL.</summary>
    private static string LinkServerInto(string directory, params string[] programs)
    {
        var real = RealBinaries();
        Directory.CreateDirectory(directory);
        foreach (var program in programs)
            File.CreateSymbolicLink(Path.Combine(directory, program), Path.Combine(real, program));
        return directory;
    }

    private static string RealBinaries()
    {
        var real = PostgresBinaries.Find(PostgresSearch.FromEnvironment(), out var searched);
        if (real is null)
            PostgresServer.Unavailable($"no PostgreSQL server binaries (initdb, pg_ctl) in {searched}");
        return real!;
    }
}
