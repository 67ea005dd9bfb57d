using System.Diagnostics;
using System.Text;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Spector.Generators;

namespace Spector.Benchmarks.Harness;

/// <summary>
/// Times the source generator on a compilation of N evented classes (one file each, a table, a custom action and
/// a typed handler per class) against emitting the same compilation without it, and times the rerun after an
/// unrelated edit, which must leave every tracked step cached.
/// </summary>
internal static class GeneratorWorkload
{
    /// <param name="GeneratorMs">Median generator run on a fresh compilation.</param>
    /// <param name="CompileMs">Median emit of the same sources, without the generator, on a fresh compilation.</param>
    /// <param name="EditRerunMs">The generator's rerun after adding an unrelated file.</param>
    /// <param name="EveryStepCached">Every output of the generator's own steps was cached or unchanged on that
    /// rerun.</param>
    public sealed record Result(
        int Types,
        double GeneratorMs,
        double CompileMs,
        double EditRerunMs,
        bool EveryStepCached,
        int GeneratedFiles
    );

    /// <summary>The generator's own steps (Roslyn's internal steps rerun whenever the compilation changes).</summary>
    private static readonly string[] SpectorSteps =
    [
        "EventsTables",
        "EventedTypes",
        "EventedPlans",
        "EventsTablePlans",
    ];

    public static Result Run(int types, int repeats = 5)
    {
        var generatorMs = new List<double>();
        var compileMs = new List<double>();
        GeneratorDriver driver = null!;
        CSharpCompilation compilation = null!;
        for (var i = 0; i < repeats; i++)
        {
            // A fresh compilation each time: a compilation caches its binding, and a warm one would flatter either
            // side.
            compilation = Compile(types);
            var clock = Stopwatch.StartNew();
            driver = NewDriver().RunGenerators(compilation);
            generatorMs.Add(clock.Elapsed.TotalMilliseconds);

            var fresh = Compile(types);
            clock.Restart();
            using var output = new MemoryStream();
            var emitted = fresh.Emit(output);
            compileMs.Add(clock.Elapsed.TotalMilliseconds);
            if (!emitted.Success)
                throw new InvalidOperationException(
                    "the benchmark compilation does not compile: " + emitted.Diagnostics.First()
                );
        }
        var generated = driver.GetRunResult();
        if (generated.Diagnostics.Length > 0)
            throw new InvalidOperationException("the generator reported " + generated.Diagnostics[0]);

        var edited = compilation.AddSyntaxTrees(
            CSharpSyntaxTree.ParseText(
                "namespace Bench; public static class Unrelated { public const int X = 1; }",
                (CSharpParseOptions)compilation.SyntaxTrees.First().Options
            )
        );
        var rerun = Stopwatch.StartNew();
        var after = driver.RunGenerators(edited).GetRunResult().Results.Single();
        var rerunMs = rerun.Elapsed.TotalMilliseconds;
        var cached = SpectorSteps
            .SelectMany(name => after.TrackedSteps[name])
            .SelectMany(step => step.Outputs)
            .All(o => o.Reason is IncrementalStepRunReason.Cached or IncrementalStepRunReason.Unchanged);

        return new Result(
            types,
            Measure.Median(generatorMs),
            Measure.Median(compileMs),
            rerunMs,
            cached,
            generated.GeneratedTrees.Length
        );
    }

    private static GeneratorDriver NewDriver() =>
        CSharpGeneratorDriver.Create(
            [new SpectorGenerator().AsSourceGenerator()],
            driverOptions: new GeneratorDriverOptions(
                IncrementalGeneratorOutputKind.None,
                trackIncrementalGeneratorSteps: true
            )
        );

    private static CSharpCompilation Compile(int types)
    {
        var options = new CSharpParseOptions(LanguageVersion.Preview);
        var table = new StringBuilder("using Spector;\nnamespace Bench;\n[EventsTable(\"bench_generated\")]\n");
        for (var i = 0; i < types; i++)
            table.Append($"[EventSchema(typeof(Model{i}), {i})]\n");
        table.Append("public static partial class GeneratedEvents;\n");
        var trees = new List<SyntaxTree>
        {
            CSharpSyntaxTree.ParseText(table.ToString(), options, "GeneratedEvents.cs"),
        };
        for (var i = 0; i < types; i++)
            trees.Add(
                CSharpSyntaxTree.ParseText(
                    $$"""
                    using System;
                    using Spector;
                    namespace Bench;
                    [Evented(Version = 2, Table = "model_{{i}}", Actions = ["archive_{{i}}"])]
                    public partial class Model{{i}}
                    {
                        public Guid Id { get; set; }
                        public string Name { get; set; } = "";
                        public decimal Amount { get; set; }
                        public DateTimeOffset? ArchivedAt { get; set; }
                        static void Changeset(Changeset<Model{{i}}> c) =>
                            c.Cast("name", "amount").ValidateRequired("name");
                        [VersionIs(1)]
                        static void ChangesetV1(Changeset<Model{{i}}> c) => c.Cast("name");
                        [OnAction("archive_{{i}}")]
                        static void Archive(Changeset<Model{{i}}> c, string reason) =>
                            c.Record.ArchivedAt = DateTimeOffset.UnixEpoch;
                        [OnAction("archive_{{i}}"), VersionIs(1)]
                        static void ArchiveV1(Changeset<Model{{i}}> c, string reason) => Archive(c, reason);
                    }
                    """,
                    options,
                    $"Model{i}.cs"
                )
            );
        var references = ((string)AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES")!)
            .Split(Path.PathSeparator)
            .Append(typeof(EventLog).Assembly.Location)
            .Append(typeof(Npgsql.NpgsqlDataSource).Assembly.Location)
            .Distinct()
            .Select(path => MetadataReference.CreateFromFile(path));
        return CSharpCompilation.Create(
            "GeneratorBenchmark",
            trees,
            references,
            new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary)
        );
    }
}
