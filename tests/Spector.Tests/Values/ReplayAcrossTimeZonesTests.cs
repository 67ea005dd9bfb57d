using System.Diagnostics;
using Npgsql;

namespace Spector.Tests;

/// <summary>
/// Replay is a function of the stored bytes only: a log written in Tokyo under tr-TR replays to the same instants
/// in UTC, Tokyo and New York under de-DE and tr-TR, and the record table agrees. TimeZoneInfo.Local and the
/// default culture are fixed per process, so each pair runs tests/Spector.ReplayProbe in a child process with
/// TZ and LANG/LC_ALL set, against one SQLite file or one PostgreSQL database.
/// </summary>
[TestFixture(Db.Sqlite)]
[TestFixture(Db.Postgres)]
[NonParallelizable]
public sealed class ReplayAcrossTimeZonesTests(Db db)
{
    private static readonly string[] Zones = ["UTC", "Asia/Tokyo", "America/New_York"];
    private static readonly string[] Cultures = ["de-DE", "tr-TR"];

    [Test]
    public async Task A_log_replays_to_the_same_instants_in_every_time_zone_and_culture()
    {
        var (database, connection, cleanup) = await TargetAsync();
        try
        {
            var written = await ProbeAsync("Asia/Tokyo", "tr-TR", ["write", database, connection]);
            var ids = written.Single(line => line.StartsWith("ids ", StringComparison.Ordinal))[4..].Split(' ');

            var outputs = new List<string>();
            foreach (var zone in Zones)
            foreach (var culture in Cultures)
            {
                var lines = await ProbeAsync(zone, culture, ["read", database, connection, .. ids]);
                Assert.That(lines[0], Does.Contain(culture), "the child runs under the culture asked for");
                Assert.That(lines[0], Does.Contain(zone == "UTC" ? "UTC" : zone), "and in the time zone asked for");
                outputs.Add(string.Join("\n", lines.Skip(1)));
            }

            var expected = string.Join(
                "\n",
                $"old {ids[1]} at=2026-03-08T02:30:00.0000000Z/Utc",
                $"replay {ids[0]} placed_at=2026-03-08T02:30:00.0000000Z/Utc due_at=2026-10-31T16:30:00.0000000Z/Utc "
                    + "confirmed_at=2026-03-08T07:30:00.0000000Z shipped_at=2026-06-01T12:00:00.0000000Z/Utc "
                    + "amount=1234.5",
                $"table {ids[0]} placed_at=2026-03-08T02:30:00.0000000Z due_at=2026-10-31T16:30:00.0000000Z "
                    + "confirmed_at=2026-03-08T07:30:00.0000000Z shipped_at=2026-06-01T12:00:00.0000000Z"
            );
            foreach (var output in outputs)
                Assert.That(output, Is.EqualTo(expected));
        }
        finally
        {
            await cleanup();
        }
    }

    private async Task<(string Database, string Connection, Func<Task> Cleanup)> TargetAsync()
    {
        if (db == Db.Sqlite)
        {
            var file = Path.Combine(Path.GetTempPath(), $"spector-tz-{Guid.NewGuid():N}.db");
            return (
                "sqlite",
                $"Data Source={file}",
                () =>
                {
                    foreach (var suffix in new[] { "", "-wal", "-shm" })
                        File.Delete(file + suffix);
                    return Task.CompletedTask;
                }
            );
        }
        var name = $"spector_tz_{Guid.NewGuid():N}";
        await using (var admin = new NpgsqlConnection(PostgresServer.ConnectionString))
        {
            await admin.OpenAsync();
            await using var create = new NpgsqlCommand($"CREATE DATABASE \"{name}\"", admin);
            await create.ExecuteNonQueryAsync();
        }
        var connection = new NpgsqlConnectionStringBuilder(PostgresServer.ConnectionString)
        {
            Database = name,
            Pooling = false,
        }.ToString();
        return (
            "postgres",
            connection,
            async () =>
            {
                await using var admin = new NpgsqlConnection(PostgresServer.ConnectionString);
                await admin.OpenAsync();
                await using var drop = new NpgsqlCommand($"DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)", admin);
                await drop.ExecuteNonQueryAsync();
            }
        );
    }

    private static async Task<string[]> ProbeAsync(string zone, string culture, string[] args)
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add(ProbePath);
        foreach (var arg in args)
            start.ArgumentList.Add(arg);
        start.Environment["TZ"] = zone;
        var locale = culture.Replace('-', '_') + ".UTF-8";
        start.Environment["LANG"] = locale;
        start.Environment["LC_ALL"] = locale;
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        Assert.That(
            process.ExitCode,
            Is.EqualTo(0),
            $"probe {string.Join(' ', args)} under {zone}/{culture}: {await error}"
        );
        return (await output).Split('\n', StringSplitOptions.RemoveEmptyEntries);
    }

    /// <summary>The probe's build output, next to this assembly's configuration (the test project builds it
    /// first).</summary>
    private static string ProbePath
    {
        get
        {
            var here = new DirectoryInfo(AppContext.BaseDirectory);
            var (framework, configuration) = (here.Name, here.Parent!.Name);
            var root = here;
            while (!File.Exists(Path.Combine(root.FullName, "Spector.sln")))
                root = root.Parent!;
            var path = Path.Combine(
                root.FullName,
                "tests",
                "Spector.ReplayProbe",
                "bin",
                configuration,
                framework,
                "Spector.ReplayProbe.dll"
            );
            return File.Exists(path)
                ? path
                : throw new FileNotFoundException("Build tests/Spector.ReplayProbe first.", path);
        }
    }
}
