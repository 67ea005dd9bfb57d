using System.Diagnostics;
using System.Text.RegularExpressions;

namespace Spector.Tests;

/// <summary>
/// Native AOT, as a user publishes it: tests/Spector.AotProbe (a list, a nested record, a string-keyed dictionary
/// of decimals, a typed action with a list parameter, a record table) is published with PublishAot once, the
/// compiler's trim and AOT warnings are read, and the native binary writes, replays and verifies on both databases.
/// The native compile takes minutes on a loaded machine, so it runs where SPECTOR_TEST_AOT=1 (docs/aot.md).
/// </summary>
[TestFixture]
[Category("Aot")]
[NonParallelizable]
public sealed partial class AotPublishTests
{
    public const string Variable = "SPECTOR_TEST_AOT";

    private static readonly Lazy<Task<(string Output, string Binary)>> Published = new(PublishAsync);

    [OneTimeSetUp]
    public void RequireOptIn()
    {
        if (Environment.GetEnvironmentVariable(Variable) != "1")
            Assert.Ignore($"Native AOT publishing takes minutes: set {Variable}=1 to run it (docs/aot.md).");
    }

    [Test]
    public async Task Publishing_reports_no_trim_or_AOT_warning_from_Spector()
    {
        var (output, _) = await Published.Value;
        var warnings = Warning().Matches(output).Select(m => m.Value.Trim()).Distinct().ToList();
        // Dapper's own assembly still has reflection paths (the IL it emits for anonymous parameters and mapped
        // types); Spector calls none of them on the paths the probe runs, and says so in docs/aot.md.
        var fromSpector = warnings.Where(w => !w.Contains("Dapper.dll", StringComparison.Ordinal)).ToList();
        Assert.That(fromSpector, Is.Empty, output);
        var codes = warnings.Select(w => Regex.Match(w, @"IL\d{4}").Value).Order();
        Assert.That(codes, Is.EqualTo(new[] { "IL2104", "IL3053" }));
    }

    [TestCase(Db.Sqlite)]
    [TestCase(Db.Postgres)]
    public async Task The_native_binary_writes_replays_and_verifies(Db db)
    {
        var output = await RunAsync(db, context: true);
        var lines = output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        Assert.That(
            lines,
            Is.EqualTo(
                new[]
                {
                    "label=second",
                    "tags=fragile,red,ü€",
                    "destination=Main St 1|Springfield",
                    "floors=1,2",
                    "weights=box:1.25,lid:0.1",
                    // Decimals nested in a dictionary keep their stored form (strings), as in a JIT-compiled app.
                    "events=2 stored_weights=box:String:1.25,lid:String:0.1",
                    "invalid=label",
                    "courier=Ana|13.75|1970-01-01T00:00:00.0000000+00:00",
                    "courier_deleted=True",
                    "chain=True",
                }
            ),
            output
        );
    }

    [TestCase(Db.Sqlite)]
    [TestCase(Db.Postgres)]
    public async Task Without_a_context_the_native_binary_says_which_type_needs_one(Db db)
    {
        var output = await RunAsync(db, context: false);
        Assert.That(
            output,
            Does.Contain("refused=Spector has no JSON metadata for System.Collections.Generic.List`1[System.String]")
        );
        Assert.That(output, Does.Contain("Log.UseJson(MyJsonContext.Default)"));
        Assert.That(output, Does.Contain("stored=0"), "nothing may be written when the metadata is missing");
    }

    private static async Task<string> RunAsync(Db db, bool context)
    {
        var (_, binary) = await Published.Value;
        string connection;
        string? file = null;
        if (db == Db.Postgres)
        {
            PostgresServer.Require();
            // The probe's own tables, emptied first: a run is one insert chain from the start.
            await using (
                var dropping = PostgresServer.DataSource.CreateCommand(
                    "DROP TABLE IF EXISTS aot_events_links, aot_events_heads, aot_events, couriers CASCADE"
                )
            )
                await dropping.ExecuteNonQueryAsync();
            connection = PostgresServer.DataSource.ConnectionString;
        }
        else
        {
            file = Path.Combine(Path.GetTempPath(), $"spector-aot-{Guid.NewGuid():N}.db");
            connection = $"Data Source={file}";
        }
        try
        {
            var start = new ProcessStartInfo(binary) { RedirectStandardOutput = true, RedirectStandardError = true };
            foreach (var argument in new[] { db == Db.Postgres ? "postgres" : "sqlite", connection })
                start.ArgumentList.Add(argument);
            if (!context)
                start.ArgumentList.Add("--no-context");
            using var process = Process.Start(start)!;
            var stdout = process.StandardOutput.ReadToEndAsync();
            var stderr = process.StandardError.ReadToEndAsync();
            using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
            await process.WaitForExitAsync(timeout.Token);
            var output = await stdout + await stderr;
            Assert.That(process.ExitCode, Is.EqualTo(0), output);
            return output;
        }
        finally
        {
            if (file is not null)
                foreach (var suffix in new[] { "", "-wal", "-shm" })
                    File.Delete(file + suffix);
        }
    }

    private static async Task<(string Output, string Binary)> PublishAsync()
    {
        var output = Directory.CreateTempSubdirectory("spector-aot-").FullName;
        var project = Path.Combine(Dotnet.Root, "tests", "Spector.AotProbe", "Spector.AotProbe.csproj");
        var text = await Dotnet.RunAsync(
            Dotnet.Root,
            TimeSpan.FromMinutes(15),
            "publish",
            project,
            "-c",
            "Release",
            "-r",
            "linux-x64",
            "-o",
            output,
            "--nologo"
        );
        return (text, Path.Combine(output, "Spector.AotProbe"));
    }

    // The whole line: a warning about an assembly reads "/path/Dapper.dll : warning IL2104: ...".
    [GeneratedRegex(@"[^\r\n]*warning IL\d{4}[^\r\n]*")]
    private static partial Regex Warning();
}
