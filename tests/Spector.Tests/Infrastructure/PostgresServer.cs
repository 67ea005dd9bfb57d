using Npgsql;
using Spector.Testing;

namespace Spector.Tests;

/// <summary>
/// The PostgreSQL server the tests use: the one named by SPECTOR_TEST_POSTGRES, or else a throwaway cluster
/// started from the machine's PostgreSQL binaries and removed after the run. Either way the tests work in a
/// schema of their own (<see cref="PostgresSchema"/>), dropped after the run, so a real database's tables are
/// never touched. Without a server, PostgreSQL tests are skipped with one reason, or fail under CI.
/// </summary>
[SetUpFixture]
public sealed class PostgresServer
{
    public const string ConnectionStringVariable = "SPECTOR_TEST_POSTGRES";

    private static PostgresCluster? _cluster;
    private static PostgresSchema? _schema;
    private static string? _connectionString;
    private static string? _failure;

    /// <summary>The data source of the tests' own schema; stops the test as <see cref="Require"/> does when there is
    /// none.</summary>
    public static NpgsqlDataSource DataSource
    {
        get
        {
            Require();
            return _schema!.DataSource;
        }
    }

    /// <summary>Connects to the server's database itself, outside the tests' schema, for tests that make
    /// databases.</summary>
    public static string ConnectionString
    {
        get
        {
            Require();
            return _connectionString!;
        }
    }

    /// <summary>
    /// Stops the calling test, or every test of a fixture when called from its one-time set-up: failed under CI
    /// (where PostgreSQL must be there), skipped elsewhere, with the reason.
    /// </summary>
    public static void Require()
    {
        if (_schema is null)
            Unavailable(UnavailableMessage);
    }

    /// <summary>Stops the calling test for want of PostgreSQL: failed under CI, skipped elsewhere.</summary>
    public static void Unavailable(string reason)
    {
        if (IsCi)
            Assert.Fail(reason);
        Assert.Ignore(reason);
    }

    private static string UnavailableMessage =>
        $"PostgreSQL is not available: {_failure}. Install PostgreSQL (initdb and pg_ctl on the PATH), "
        + $"set {PostgresSearch.BinDirectoryVariable} to its bin directory, "
        + $"or set {ConnectionStringVariable} to a database the tests may create a schema in.";

    private static bool IsCi => Environment.GetEnvironmentVariable("CI") is { Length: > 0 } ci && ci != "false";

    [OneTimeSetUp]
    public async Task StartAsync()
    {
        try
        {
            var connectionString = Environment.GetEnvironmentVariable(ConnectionStringVariable);
            if (string.IsNullOrWhiteSpace(connectionString))
            {
                _cluster = await PostgresCluster.StartAsync(durable: false);
                connectionString = _cluster.ConnectionString;
            }
            _schema = await PostgresSchema.CreateAsync(connectionString);
            _connectionString = connectionString;
        }
        catch (Exception e)
        {
            _failure = e.Message;
            _schema = null;
            // Said once on the console (errors show at dotnet test's default verbosity); each test carries it too.
            TestContext.Error.WriteLine(
                (IsCi ? "PostgreSQL tests fail: " : "PostgreSQL tests skipped: ") + UnavailableMessage
            );
        }
    }

    [OneTimeTearDown]
    public async Task StopAsync()
    {
        if (_schema is not null)
            await _schema.DisposeAsync();
        if (_cluster is not null)
            await _cluster.DisposeAsync();
    }
}
