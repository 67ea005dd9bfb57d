using Npgsql;
using Spector.Testing;

namespace Spector.Tests;

/// <summary>
/// The PostgreSQL server the tests use: the one named by SPECTOR_TEST_POSTGRES, or else a throwaway cluster
/// started from the machine's PostgreSQL binaries and removed after the run.
/// </summary>
[SetUpFixture]
public sealed class PostgresServer
{
    public const string ConnectionStringVariable = "SPECTOR_TEST_POSTGRES";

    private static PostgresCluster? _cluster;
    private static NpgsqlDataSource? _dataSource;
    private static string? _failure;

    /// <summary>The data source, or a failed (under CI) or inconclusive (locally) test explaining why there is none.</summary>
    public static NpgsqlDataSource DataSource
    {
        get
        {
            if (_dataSource is not null) return _dataSource;
            var message = $"PostgreSQL is not available: {_failure}. Install postgresql-15 or set {ConnectionStringVariable}.";
            if (Environment.GetEnvironmentVariable("CI") is { Length: > 0 } ci && ci != "false") Assert.Fail(message);
            Assert.Inconclusive(message);
            throw new InvalidOperationException(message);
        }
    }

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
            _dataSource = NpgsqlDataSource.Create(connectionString);
            await using var connection = await _dataSource.OpenConnectionAsync();
        }
        catch (Exception e)
        {
            _failure = e.Message;
            _dataSource = null;
        }
    }

    [OneTimeTearDown]
    public async Task StopAsync()
    {
        if (_dataSource is not null) await _dataSource.DisposeAsync();
        if (_cluster is not null) await _cluster.DisposeAsync();
    }
}
