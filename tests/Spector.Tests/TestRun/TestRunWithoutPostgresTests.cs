using System.Diagnostics;
using System.Xml.Linq;
using Spector.Testing;

namespace Spector.Tests;

/// <summary>
/// A machine without PostgreSQL: this test assembly run again in a child <c>dotnet test</c> whose binary search
/// finds nothing and that names no server. Outside CI the PostgreSQL tests are skipped with one reason and the
/// run passes; under CI they fail with it.
/// </summary>
[TestFixture]
[Category("TestRun")]
public sealed class TestRunWithoutPostgresTests
{
    private const string Filter = "FullyQualifiedName~Spector.Tests.AppendOnlyTests";

    [Test]
    public async Task Without_PostgreSQL_its_tests_are_skipped_with_one_reason_outside_CI_and_fail_under_CI()
    {
        var work = Directory.CreateTempSubdirectory("spector-nopg-").FullName;
        try
        {
            var noBinaries = Directory.CreateDirectory(Path.Combine(work, "no-binaries")).FullName;
            var runs = await Task.WhenAll(
                RunChildAsync(work, "local", "false", noBinaries),
                RunChildAsync(work, "ci", "true", noBinaries)
            );
            var (local, ci) = (runs[0], runs[1]);

            Assert.That(local.ExitCode, Is.EqualTo(0), local.Output);
            AssertOutcomes(local, postgres: "NotExecuted", noBinaries);
            Assert.That(local.Output, Does.Contain("PostgreSQL tests skipped: PostgreSQL is not available"));
            Assert.That(
                await CiDatabasesLineAsync(local.TrxFile),
                Is.EqualTo("databases: sqlite 4 tests, postgresql 0 tests"),
                "skipped tests are not counted as run"
            );

            Assert.That(ci.ExitCode, Is.Not.EqualTo(0), ci.Output);
            AssertOutcomes(ci, postgres: "Failed", noBinaries);
        }
        finally
        {
            Directory.Delete(work, recursive: true);
        }
    }

    private static void AssertOutcomes(ChildRun run, string postgres, string noBinaries)
    {
        var results = run.Results;
        var onPostgres = results.Where(r => r.Fixture.EndsWith("(Postgres)")).ToList();
        var onSqlite = results.Where(r => r.Fixture.EndsWith("(Sqlite)")).ToList();
        Assert.That(onPostgres, Has.Count.EqualTo(onSqlite.Count).And.Count.GreaterThan(0), run.Output);
        Assert.That(onSqlite.Select(r => r.Outcome), Is.All.EqualTo("Passed"), run.Output);
        Assert.That(onPostgres.Select(r => r.Outcome), Is.All.EqualTo(postgres), run.Output);
        var reasons = onPostgres.Select(r => r.Message).Distinct().ToList();
        Assert.That(reasons, Has.Count.EqualTo(1), "one reason for every PostgreSQL test");
        Assert.That(
            reasons[0],
            Does.Contain("PostgreSQL is not available")
                .And.Contain($"{PostgresSearch.BinDirectoryVariable}={noBinaries}")
                .And.Contain(PostgresServer.ConnectionStringVariable)
        );
    }

    private sealed record TestResult(string Fixture, string Outcome, string Message);

    private sealed record ChildRun(int ExitCode, string Output, string TrxFile, IReadOnlyList<TestResult> Results);

    /// <summary>What .ci/run prints about databases for these results.</summary>
    private static async Task<string> CiDatabasesLineAsync(string trxFile)
    {
        var start = new ProcessStartInfo("bash") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in new[] { Path.Combine(RepositoryRoot.Path, ".ci", "databases"), trxFile })
            start.ArgumentList.Add(argument);
        using var process = Process.Start(start)!;
        var output = await process.StandardOutput.ReadToEndAsync();
        await process.WaitForExitAsync();
        return output.Trim();
    }

    private static async Task<ChildRun> RunChildAsync(string work, string name, string ci, string binDirectory)
    {
        var results = Path.Combine(work, name);
        var assembly = typeof(TestRunWithoutPostgresTests).Assembly.Location;
        var start = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = Path.GetDirectoryName(assembly)!,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (
            var argument in new[]
            {
                "test",
                assembly,
                "--filter",
                Filter,
                "--logger",
                "trx;LogFileName=run.trx",
                "--results-directory",
                results,
            }
        )
            start.ArgumentList.Add(argument);
        start.Environment.Remove(PostgresServer.ConnectionStringVariable);
        start.Environment[PostgresSearch.BinDirectoryVariable] = binDirectory;
        start.Environment["CI"] = ci;
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(5));
        await process.WaitForExitAsync(timeout.Token);
        var output = await stdout + await stderr;
        var trx = Path.Combine(results, "run.trx");
        return new ChildRun(process.ExitCode, output, trx, ReadTrx(trx));
    }

    private static IReadOnlyList<TestResult> ReadTrx(string file)
    {
        if (!File.Exists(file))
            return [];
        XNamespace ns = "http://microsoft.com/schemas/VisualStudio/TeamTest/2010";
        var document = XDocument.Load(file);
        var fixtures = document
            .Descendants(ns + "UnitTest")
            .ToDictionary(
                t => (string?)t.Attribute("id") ?? "",
                t => (string?)t.Element(ns + "TestMethod")?.Attribute("className") ?? ""
            );
        return document
            .Descendants(ns + "UnitTestResult")
            .Select(r => new TestResult(
                fixtures.GetValueOrDefault((string?)r.Attribute("testId") ?? "", ""),
                (string?)r.Attribute("outcome") ?? "",
                r.Descendants(ns + "Message").FirstOrDefault()?.Value
                    ?? r.Descendants(ns + "StdOut").FirstOrDefault()?.Value
                    ?? ""
            ))
            .ToList();
    }
}
