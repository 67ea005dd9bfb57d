using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace Spector.Testing;

/// <summary>
/// A throwaway PostgreSQL cluster started from the machine's binaries (initdb, pg_ctl) on a free loopback port,
/// removed again on dispose. As root, the server runs as the postgres OS user, since PostgreSQL refuses root.
/// Shared by the test suite and the benchmarks.
/// </summary>
public sealed class PostgresCluster : IAsyncDisposable
{
    private readonly string _binDirectory;
    private readonly string _root;

    private PostgresCluster(string binDirectory, string root, string connectionString)
    {
        _binDirectory = binDirectory;
        _root = root;
        ConnectionString = connectionString;
    }

    /// <summary>Connects as the superuser to the postgres database.</summary>
    public string ConnectionString { get; }

    /// <summary>
    /// Starts a cluster from the binaries <paramref name="search"/> finds (by default, where this process's
    /// environment says); <paramref name="durable"/> false turns fsync off, which is fine for tests, not for
    /// measurements.
    /// </summary>
    public static async Task<PostgresCluster> StartAsync(bool durable, PostgresSearch? search = null)
    {
        var bin =
            PostgresBinaries.Find(search ?? PostgresSearch.FromEnvironment(), out var searched)
            ?? throw new InvalidOperationException($"no PostgreSQL server binaries (initdb, pg_ctl) in {searched}");
        var root = Directory.CreateTempSubdirectory("spector-pg-").FullName;
        var data = Path.Combine(root, "data");
        var port = FreePort();
        if (IsRoot)
            await RunAsync("chown", "-R", "postgres:postgres", root);
        await RunAsync(
            Path.Combine(bin, "initdb"),
            "-A",
            "trust",
            "-E",
            "UTF8",
            "--locale=C.UTF-8",
            "-U",
            "postgres",
            "-D",
            data
        );
        var options =
            $"-c listen_addresses=127.0.0.1 -p {port} -k {root} -c max_connections=100"
            + (durable ? "" : " -c fsync=off -c full_page_writes=off");
        await RunAsync(
            Path.Combine(bin, "pg_ctl"),
            "-w",
            "-D",
            data,
            "-l",
            Path.Combine(root, "server.log"),
            "-o",
            options,
            "start"
        );
        return new PostgresCluster(
            bin,
            root,
            $"Host=127.0.0.1;Port={port};Username=postgres;Database=postgres;Pooling=true;Maximum Pool Size=40"
        );
    }

    public async ValueTask DisposeAsync()
    {
        await RunAsync(
            Path.Combine(_binDirectory, "pg_ctl"),
            "-D",
            Path.Combine(_root, "data"),
            "-m",
            "immediate",
            "stop"
        );
        Directory.Delete(_root, recursive: true);
    }

    private static bool IsRoot => Environment.UserName == "root";

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static async Task RunAsync(string program, params string[] arguments)
    {
        var asPostgres = IsRoot && program != "chown";
        var start = new ProcessStartInfo(asPostgres ? "runuser" : program)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        if (asPostgres)
            foreach (var prefix in new[] { "-u", "postgres", "--", program })
                start.ArgumentList.Add(prefix);
        foreach (var argument in arguments)
            start.ArgumentList.Add(argument);
        using var process = Process.Start(start) ?? throw new InvalidOperationException($"could not start {program}");
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await process.WaitForExitAsync(timeout.Token);
        if (process.ExitCode != 0)
            throw new InvalidOperationException(
                $"{Path.GetFileName(program)} exited with {process.ExitCode}: {await error}{await output}"
            );
    }
}
