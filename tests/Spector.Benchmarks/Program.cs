using System.Globalization;
using BenchmarkDotNet.Running;
using Spector;
using Spector.Benchmarks;
using Spector.Benchmarks.Harness;
using Spector.Benchmarks.Quick;

// Modes (docs/benchmarks.md):
//   --quick [--db sqlite|postgres|both] [--events N] [--follower-events N] [--only part,part]
//                                                     every DESIGN.md section 7 ratio in a few minutes; --only runs
//                                                     some parts: insert, update, replay, hashed, contention,
//                                                     expected-seq, audit, verify-chain, followers, generator
//   verify-chain [--events N] [--db ...]              hash-chain verification: events/s and memory held
//   audit [--events N] [--db ...]                    the audit trail's ratios only (timeline, as-of, context)
//   generator [--types N]                             generator time on N evented classes
//   followers [--db ...] [--follower-events N]        only the follower and rebuild ratios of --quick
//   anything else                                     BenchmarkDotNet (for example: --filter '*InsertSuite*')
var databases = (Option("--db") ?? "both") switch
{
    "both" => new[] { "sqlite", "postgres" },
    var one => [one],
};
var events = long.Parse(Option("--events") ?? "1000000", CultureInfo.InvariantCulture);

// Followers and rebuilds: 200,000 events in 2,000 records by default, a size this shared machine finishes quickly.
var followerEvents = int.Parse(Option("--follower-events") ?? "200000", CultureInfo.InvariantCulture);

// A noisy machine is measured best by repeating the part that matters: --only insert,update runs just those.
var only = Option("--only")
    ?.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)
    .ToHashSet();
bool Runs(string part) => only is null || only.Contains(part);
Console.WriteLine(
    $"Spector benchmarks on {Environment.ProcessorCount} cores, "
        + $".NET {Environment.Version}, {DateTime.UtcNow:yyyy-MM-dd}"
);

switch (args.FirstOrDefault())
{
    case "--quick":
        var report = new Report();
        foreach (var database in databases)
        {
            await QuickComparison.RunAsync(database, report, Runs);
            if (Runs("audit"))
            {
                await using var auditDb = await BenchDatabase.OpenAsync(database);
                await auditDb.ResetAsync();
                await AuditComparison.RunAsync(database, auditDb, report, events);
            }
            if (Runs("verify-chain"))
                await VerifyChainAsync(database, report);
            if (Runs("followers"))
                await FollowerComparison.RunAsync(database, report, followerEvents);
        }
        if (Runs("generator"))
            GeneratorRatios(200, report);
        report.PrintTargets();
        return 0;
    case "audit":
        var auditReport = new Report();
        foreach (var database in databases)
        {
            await using var auditOnly = await BenchDatabase.OpenAsync(database);
            await auditOnly.ResetAsync();
            await AuditComparison.RunAsync(database, auditOnly, auditReport, events);
        }
        auditReport.PrintTargets();
        return 0;
    case "verify-chain":
        foreach (var database in databases)
        {
            await using var db = await BenchDatabase.OpenAsync(database);
            foreach (var n in events >= 100_000 ? [events / 10, events] : new[] { events })
                Console.WriteLine(await ChainVerificationBenchmark.RunAsync(database, db.Store, n));
        }
        return 0;
    case "followers":
        var followerReport = new Report();
        foreach (var database in databases)
            await FollowerComparison.RunAsync(database, followerReport, followerEvents);
        followerReport.PrintTargets();
        return 0;
    case "generator":
        GeneratorRatios(int.Parse(Option("--types") ?? "200", CultureInfo.InvariantCulture), new Report());
        return 0;
    default:
        BenchmarkSwitcher.FromAssembly(typeof(Spector.Benchmarks.Suites.InsertSuite).Assembly).Run(args);
        return 0;
}

// A tenth of the chain first: the same memory at both sizes is what "constant memory" means.
async Task VerifyChainAsync(string database, Report report)
{
    await using var db = await BenchDatabase.OpenAsync(database);
    var small = await ChainVerificationBenchmark.RunAsync(database, db.Store, events / 10);
    var large = await ChainVerificationBenchmark.RunAsync(database, db.Store, events);
    report.Line(
        $"verify-chain-memory-{events}-vs-{events / 10}/{database}",
        (double)large.PeakManagedBytes / small.PeakManagedBytes,
        string.Create(
            CultureInfo.InvariantCulture,
            $"{large.PeakManagedBytes / 1048576.0:F1} MiB, {large.EventsPerSecond:N0} events/s"
        ),
        string.Create(
            CultureInfo.InvariantCulture,
            $"{small.PeakManagedBytes / 1048576.0:F1} MiB, {small.EventsPerSecond:N0} events/s"
        ),
        ("<=", 1.25)
    );
}

void GeneratorRatios(int types, Report report)
{
    GeneratorWorkload.Run(20, repeats: 1); // JIT the compiler and the generator first
    var result = GeneratorWorkload.Run(types);
    report.Cost($"generator-{types}-types-vs-emit", result.GeneratorMs, result.CompileMs);
    report.Line(
        $"generator-edit-rerun-vs-first-run-{types}-types",
        result.EditRerunMs / result.GeneratorMs,
        Report.Ms(result.EditRerunMs)
            + (result.EveryStepCached ? ", every generator step cached" : ", NOT every generator step cached"),
        Report.Ms(result.GeneratorMs) + $", {result.GeneratedFiles} files"
    );
}

string? Option(string name)
{
    var index = Array.IndexOf(args, name);
    return index >= 0 && index + 1 < args.Length ? args[index + 1] : null;
}
