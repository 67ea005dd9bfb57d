using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;

namespace Spector.Generators.Tests;

/// <summary>
/// Generated code keeps the team's 120-column limit, as careful hand-written code does. The only line allowed past
/// it is one that is a single token after its indentation (and <c>///</c> for a doc comment line): a fully
/// qualified type name or a string literal longer than a line cannot be broken without changing what it says.
/// </summary>
public sealed class GeneratedLineWidthTests
{
    private const int Width = 120;

    // Long on purpose, yet each name short enough that every line holding one can still be wrapped under 120.
    private const string LongNames = """
        using System;
        using System.Collections.Generic;
        using System.ComponentModel.DataAnnotations.Schema;
        using Spector;
        namespace Contoso.Warehousing.Stocktaking;
        [EventsTable("stock_reconciliation_adjustment_events", Hashed = true)]
        [EventLink(
            "supersedes_earlier_adjustment",
            "stock_adjustment_supersessions",
            "superseded_adjustment_id",
            Typed = true
        )]
        [EventSchema(typeof(StockReconciliationAdjustment), 0)]
        public partial class StockReconciliationAdjustmentEvents;
        public enum AdjustmentReasonClassification { Damage, Theft }
        [Evented(
            Table = "stock_reconciliation_adjustment_records",
            Version = 2,
            Actions = ["approve_by_regional_inventory_controller", "reject"]
        )]
        public partial class StockReconciliationAdjustment
        {
            public Guid Id { get; set; }
            public string CountedQuantityAfterPhysicalStocktakeNote { get; set; } = "";
            public DateTimeOffset? RegionalInventoryControllerApprovedAt { get; set; }
            public AdjustmentReasonClassification? AdjustmentReasonClassificationCode { get; set; }
            [NotMapped] public List<string> AttachedPhotographReferencesForAuditors { get; set; } = new();
            static void Changeset(Changeset<StockReconciliationAdjustment> c) { }
            [VersionIs(0)] static void FromVersionZero(Changeset<StockReconciliationAdjustment> c) { }
            [OnAction("approve_by_regional_inventory_controller"), VersionIs(0)]
            static void ApproveByRegionBeforeVersionOne(Changeset<StockReconciliationAdjustment> c) { }
            [OnAction("approve_by_regional_inventory_controller")]
            static void ApproveByRegion(
                Changeset<StockReconciliationAdjustment> c,
                DateTimeOffset regionalInventoryControllerApprovedAt,
                AdjustmentReasonClassification? adjustmentReasonClassificationCode,
                List<string> attachedPhotographReferencesForAuditors
            ) { }
            static void PrepareEvent(EventDraft draft, IReadOnlyList<StoredEvent> previous) { }
            static void PrepareMaterialization(Changeset<StockReconciliationAdjustment> c) { }
            static Attrs Savepoint(StockReconciliationAdjustment record, int version) => new Attrs();
        }
        """;

    public static IEnumerable<TestCaseData> Corpus()
    {
        yield return new TestCaseData(new[] { Sources.EventsTable, Sources.Order, Sources.Cart }, true).SetName(
            "the snapshot model"
        );
        yield return new TestCaseData(new[] { LongNames }, true).SetName("long namespace, type and member names");
        foreach (var sample in Directory.GetDirectories(Path.Combine(RepoRoot.Path, "samples")).Order())
        {
            var sources = Directory
                .GetFiles(sample, "*.cs", SearchOption.AllDirectories)
                .Where(f => !f.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}"))
                .Where(f => !f.Contains($"{Path.DirectorySeparatorChar}bin{Path.DirectorySeparatorChar}"))
                .Order()
                .Select(File.ReadAllText)
                .ToArray();
            yield return new TestCaseData(sources, true).SetName("sample: " + Path.GetFileName(sample));
        }
        // Some odd inputs are refused with a SPEC error and generate nothing; the rest must wrap like any model.
        foreach (var odd in OddInputCorpusTests.Corpus())
            yield return new TestCaseData(odd.Arguments[0], false).SetName("odd input: " + odd.TestName);
    }

    [TestCaseSource(nameof(Corpus))]
    public void No_generated_line_is_longer_than_120_characters_unless_it_is_one_token(string[] sources, bool generates)
    {
        var result = GeneratorHarness.Run(sources);
        if (generates)
            Assert.That(result.Sources, Is.Not.Empty);

        var tooLong = result
            .Sources.SelectMany(file =>
                file.Value.Split('\n').Select((line, i) => (File: file.Key, Number: i + 1, Line: line))
            )
            .Where(l => l.Line.Length > Width && !IsOneToken(l.Line))
            .Select(l => $"{l.File}:{l.Number} ({l.Line.Length}): {l.Line}")
            .ToList();

        Assert.That(tooLong, Is.Empty, string.Join("\n", tooLong));
    }

    [Test]
    public void The_long_names_model_generates_cleanly_with_every_member()
    {
        var result = GeneratorHarness.Run(LongNames);

        Assert.That(result.GeneratorDiagnostics, Is.Empty, string.Join("\n", result.GeneratorDiagnostics));
        Assert.That(result.CompilationErrors, Is.Empty, string.Join("\n", result.CompilationErrors));
        var record = Squashed.Of(
            result.Sources["Contoso.Warehousing.Stocktaking.StockReconciliationAdjustment.Spector.g.cs"]
        );
        Assert.That(
            record,
            Does.Contain(
                Squashed.Of(
                    "public global::System.Threading.Tasks.Task<global::Contoso.Warehousing.Stocktaking."
                        + "StockReconciliationAdjustment> ApproveByRegionalInventoryControllerAsync("
                )
            )
        );
        Assert.That(
            record,
            Does.Contain("CreateSavepoint(").And.Contain("PrepareMaterialization(").And.Contain("BindColumns(")
        );
    }

    /// <summary>
    /// Wrapped doc comments still bind: the compiler resolves every cref and reads every tag of the generated
    /// comments, a cref broken over two <c>///</c> lines included.
    /// </summary>
    [Test]
    public void Wrapped_doc_comments_stay_well_formed_and_their_crefs_resolve()
    {
        var parse = new CSharpParseOptions(LanguageVersion.Latest, DocumentationMode.Diagnose);
        var compilation = CSharpCompilation.Create(
            "Consumer",
            new[] { Sources.EventsTable, Sources.Order, Sources.Cart, LongNames }.Select(
                (s, i) => CSharpSyntaxTree.ParseText(s, parse, path: $"Source{i}.cs")
            ),
            GeneratorHarness.References,
            GeneratorHarness.Options
        );
        CSharpGeneratorDriver
            .Create([new SpectorGenerator().AsSourceGenerator()], parseOptions: parse)
            .RunGeneratorsAndUpdateCompilation(compilation, out var output, out _);

        var generated = output.SyntaxTrees.Where(t => t.FilePath.EndsWith(".g.cs", StringComparison.Ordinal)).ToList();
        Assert.That(generated.Count(t => t.ToString().Contains("cref=\"UpdateAsync(")), Is.GreaterThan(0));
        var documentation = output
            .GetDiagnostics()
            .Where(d => d.Location.SourceTree is { } tree && generated.Contains(tree) && d.Id != "CS1591")
            .Where(d => d.Id.StartsWith("CS15", StringComparison.Ordinal) || d.Id == "CS0419")
            .ToList();
        Assert.That(documentation, Is.Empty, string.Join("\n", documentation));
    }

    /// <summary>A line with no space after its indentation and its <c>///</c> cannot be broken any further.</summary>
    private static bool IsOneToken(string line)
    {
        var content = line.TrimStart();
        if (content.StartsWith("///", StringComparison.Ordinal))
            content = content[3..].TrimStart();
        return !content.Contains(' ');
    }
}
