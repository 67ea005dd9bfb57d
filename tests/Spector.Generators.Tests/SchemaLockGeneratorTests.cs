using System.Collections.Immutable;
using System.Diagnostics.CodeAnalysis;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.Diagnostics;
using Microsoft.CodeAnalysis.Text;

namespace Spector.Generators.Tests;

/// <summary>
/// The lock text behind `dotnet build -t:SpectorLock` (build/Spector.Core.targets copies the prefixed lines out):
/// rendered only on request, keeping every locked and retired line, never over an unreadable lock.
/// </summary>
public sealed class SchemaLockGeneratorTests
{
    private const string Source = """
        using System;
        using Spector;
        namespace Shop;
        [EventsTable("events")]
        [EventSchema(typeof(Order), 0)]
        public partial class ShopEvents;
        [Evented(Version = 2, Actions = ["archive", "ship"])]
        public partial class Order
        {
            public Guid Id { get; set; }
            static void Changeset(Changeset<Order> c) { }
        }
        """;

    private static readonly int Archive = ActionCodes.For("archive");
    private static readonly int Ship = ActionCodes.For("ship");

    [Test]
    public void Renders_the_recorded_lock_keeping_retired_lines_and_raising_versions()
    {
        var existing =
            $"schema events 0 Shop.Order v1\naction events Shop.Order archive {Archive}\n"
            + "retired schema events 1 Shop.Coupon v3\n";

        var lines = Render(existing, write: "true");

        Assert.That(
            lines,
            Is.EqualTo(
                new[]
                {
                    "# Spector schema lock: every schema index, action code and version shipped. Commit it; "
                        + "see docs/schema-lock.md.",
                    "schema events 0 Shop.Order v2",
                    "retired schema events 1 Shop.Coupon v3",
                    $"action events Shop.Order archive {Archive}",
                    $"action events Shop.Order ship {Ship}",
                }
            )
        );
    }

    [Test]
    public void A_new_project_gets_every_entry_of_the_source()
    {
        Assert.That(Render(null, write: "True"), Has.Length.EqualTo(4).And.Contains("schema events 0 Shop.Order v2"));
    }

    [TestCase(null)]
    [TestCase("false")]
    public void An_ordinary_build_renders_nothing(string? write)
    {
        Assert.That(Render("schema events 0 Shop.Order v1\n", write), Is.Null);
    }

    [Test]
    public void An_unreadable_lock_is_never_rewritten()
    {
        // Rewriting would drop the line SPEC024 reports; the target then stops with its own error.
        Assert.That(Render("schema events 0 Shop.Order v1\nschema events zero Shop.Order\n", write: "true"), Is.Null);
    }

    [Test]
    public void An_action_name_no_lock_line_can_hold_is_never_recorded()
    {
        // SPEC029 refuses it, but the lock build continues past errors: the lock it writes must stay readable.
        var lines = Render(
            null,
            write: "true",
            Source.Replace("\"archive\"", "\"soft delete\"", StringComparison.Ordinal)
        );

        Assert.That(lines, Is.Not.Null.And.Not.Empty);
        Assert.That(
            lines!.Where(l => !l.StartsWith('#')),
            Is.EqualTo(new[] { "schema events 0 Shop.Order v2", $"action events Shop.Order ship {Ship}" })
        );
    }

    /// <summary>The lock lines the generator renders, or null when it renders no file.</summary>
    private static string[]? Render(string? lockFile, string? write, string? source = null)
    {
        var texts = lockFile is null
            ? ImmutableArray<AdditionalText>.Empty
            : ImmutableArray.Create<AdditionalText>(new Text("/p/spector.lock", lockFile));
        var options = new Options(
            write is null
                ? ImmutableDictionary<string, string>.Empty
                : ImmutableDictionary<string, string>.Empty.Add("build_property.SpectorWriteLock", write)
        );
        var driver = CSharpGeneratorDriver.Create(
            [new SchemaLockGenerator().AsSourceGenerator()],
            texts,
            new CSharpParseOptions(LanguageVersion.Latest),
            options
        );
        var run = driver.RunGenerators(GeneratorHarness.Compile(source ?? Source)).GetRunResult();
        var file = run.GeneratedTrees.SingleOrDefault(t =>
            t.FilePath.EndsWith("spector.lock.g.cs", StringComparison.Ordinal)
        );
        return file
            ?.GetText()
            .ToString()
            .Split('\n')
            .Where(l => l.StartsWith(SchemaLockGenerator.LinePrefix, StringComparison.Ordinal))
            .Select(l => l.Substring(SchemaLockGenerator.LinePrefix.Length))
            .ToArray();
    }

    private sealed class Text(string path, string text) : AdditionalText
    {
        public override string Path { get; } = path;

        public override SourceText GetText(CancellationToken cancellationToken = default) => SourceText.From(text);
    }

    private sealed class Options(ImmutableDictionary<string, string> global) : AnalyzerConfigOptionsProvider
    {
        public override AnalyzerConfigOptions GlobalOptions { get; } = new Values(global);

        public override AnalyzerConfigOptions GetOptions(SyntaxTree tree) =>
            new Values(ImmutableDictionary<string, string>.Empty);

        public override AnalyzerConfigOptions GetOptions(AdditionalText textFile) =>
            new Values(ImmutableDictionary<string, string>.Empty);
    }

    private sealed class Values(ImmutableDictionary<string, string> values) : AnalyzerConfigOptions
    {
        public override bool TryGetValue(string key, [NotNullWhen(true)] out string? value) =>
            values.TryGetValue(key, out value);
    }
}
