using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Npgsql;

namespace Spector.Tests;

/// <summary>
/// The PostgreSQL server the tests use: the one named by SPECTOR_TEST_POSTGRES, or else a throwaway cluster
/// started from the machine's PostgreSQL binaries and removed after the run.
/// </summary>
[SetUpFixture]
public sealed class PostgresServer
{
    public const string ConnectionStringVariable = "SPECTOR_TEST_POSTGRES";

    private static string? _dataDirectory;
    private static string? _binDirectory;
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
            if (string.IsNullOrWhiteSpace(connectionString)) connectionString = await StartClusterAsync();
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
        if (_dataDirectory is null || _binDirectory is null) return;
        await RunAsync(Path.Combine(_binDirectory, "pg_ctl"), "-D", Path.Combine(_dataDirectory, "data"), "-m", "immediate", "stop");
        Directory.Delete(_dataDirectory, recursive: true);
    }

    private static async Task<string> StartClusterAsync()
    {
        _binDirectory = FindBinaries() ?? throw new InvalidOperationException(
            "no PostgreSQL server binaries (initdb, pg_ctl) under /usr/lib/postgresql/*/bin");
        _dataDirectory = Directory.CreateTempSubdirectory("spector-pg-").FullName;
        var data = Path.Combine(_dataDirectory, "data");
        var port = FreePort();
        if (Environment.UserName == "root")
            await RunAsync("chown", "-R", "postgres:postgres", _dataDirectory);

        await RunAsync(Path.Combine(_binDirectory, "initdb"), "-A", "trust", "-E", "UTF8", "--locale=C.UTF-8", "-U", "postgres", "-D", data);
        // Durability settings off: this cluster lives for one test run.
        await RunAsync(Path.Combine(_binDirectory, "pg_ctl"), "-w", "-D", data, "-l", Path.Combine(_dataDirectory, "server.log"),
            "-o", $"-c listen_addresses=127.0.0.1 -p {port} -k {_dataDirectory} -c fsync=off -c full_page_writes=off -c max_connections=100",
            "start");
        return $"Host=127.0.0.1;Port={port};Username=postgres;Database=postgres;Pooling=true;Maximum Pool Size=40";
    }

    private static string? FindBinaries()
    {
        if (!Directory.Exists("/usr/lib/postgresql")) return null;
        return Directory.GetDirectories("/usr/lib/postgresql")
            .Select(d => Path.Combine(d, "bin"))
            .Where(b => File.Exists(Path.Combine(b, "initdb")) && File.Exists(Path.Combine(b, "pg_ctl")))
            .OrderByDescending(b => b, StringComparer.Ordinal)
            .FirstOrDefault();
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>initdb and postgres refuse to run as root, so as root they run as the postgres OS user.</summary>
    private static async Task RunAsync(string program, params string[] arguments)
    {
        var asPostgres = Environment.UserName == "root" && program != "chown";
        var start = new ProcessStartInfo(asPostgres ? "runuser" : program)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        if (asPostgres)
        {
            start.ArgumentList.Add("-u");
            start.ArgumentList.Add("postgres");
            start.ArgumentList.Add("--");
            start.ArgumentList.Add(program);
        }
        foreach (var argument in arguments) start.ArgumentList.Add(argument);
        using var process = Process.Start(start) ?? throw new InvalidOperationException($"could not start {program}");
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await process.WaitForExitAsync(timeout.Token);
        if (process.ExitCode != 0)
            throw new InvalidOperationException($"{Path.GetFileName(program)} exited with {process.ExitCode}: {await error}{await output}");
    }
}
