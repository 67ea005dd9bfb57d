using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;

namespace Spector.Generators.Tests;

/// <summary>The pipeline's models are plain values, so edits that do not touch them leave every step cached.</summary>
public sealed class IncrementalCachingTests
{
    private static readonly string[] Steps =
    [
        TrackingNames.EventsTables,
        TrackingNames.EventedTypes,
        TrackingNames.EventedPlans,
        TrackingNames.EventsTablePlans,
    ];

    private static GeneratorRunResult Rerun(Func<Compilation, Compilation> edit)
    {
        var compilation = GeneratorHarness.Compile(Sources.EventsTable, Sources.Order, Sources.Cart);
        var driver = GeneratorHarness.Driver().RunGenerators(compilation);
        return driver.RunGenerators(edit(compilation)).GetRunResult().Results.Single();
    }

    [Test]
    public void An_unrelated_edit_leaves_every_step_cached()
    {
        var result = Rerun(c =>
            c.AddSyntaxTrees(
                CSharpSyntaxTree.ParseText(
                    "namespace Shop; public class Unrelated { }",
                    (CSharpParseOptions)c.SyntaxTrees.First().Options
                )
            )
        );

        foreach (var step in Steps)
        {
            var outputs = result.TrackedSteps[step].SelectMany(s => s.Outputs).Select(o => o.Reason).ToList();
            Assert.That(
                outputs,
                Is.All.EqualTo(IncrementalStepRunReason.Cached).Or.EqualTo(IncrementalStepRunReason.Unchanged),
                step
            );
        }
    }

    [Test]
    public void Changing_the_version_reruns_the_evented_steps()
    {
        var result = Rerun(c =>
        {
            var old = c.SyntaxTrees.Single(t => t.ToString().Contains("class Order"));
            var edited = CSharpSyntaxTree.ParseText(
                old.ToString().Replace("Version = 2", "Version = 3"),
                (CSharpParseOptions)old.Options,
                old.FilePath
            );
            return c.ReplaceSyntaxTree(old, edited);
        });

        var reasons = result.TrackedSteps[TrackingNames.EventedPlans].SelectMany(s => s.Outputs).Select(o => o.Reason);
        Assert.That(reasons, Does.Contain(IncrementalStepRunReason.Modified));
        Assert.That(
            result.GeneratedSources.Single(s => s.HintName == "Shop.Order.Spector.g.cs").SourceText.ToString(),
            Does.Contain("version: 3")
        );
    }

    [Test]
    public void Changing_the_actions_reruns_the_evented_and_table_steps()
    {
        var result = Rerun(c =>
        {
            var old = c.SyntaxTrees.Single(t => t.ToString().Contains("class Order"));
            var edited = CSharpSyntaxTree.ParseText(
                old.ToString().Replace("\"pay\", \"cancel\"]", "\"pay\", \"cancel\", \"refund\"]"),
                (CSharpParseOptions)old.Options,
                old.FilePath
            );
            return c.ReplaceSyntaxTree(old, edited);
        });

        Assert.That(
            result.TrackedSteps[TrackingNames.EventedPlans].SelectMany(s => s.Outputs).Select(o => o.Reason),
            Does.Contain(IncrementalStepRunReason.Modified)
        );
        Assert.That(
            result.TrackedSteps[TrackingNames.EventsTablePlans].SelectMany(s => s.Outputs).Select(o => o.Reason),
            Does.Contain(IncrementalStepRunReason.Modified)
        );
        Assert.That(
            result.GeneratedSources.Single(s => s.HintName == "Shop.Order.Spector.g.cs").SourceText.ToString(),
            Does.Contain("RefundAsync")
        );
    }

    [Test]
    public void A_whitespace_only_edit_above_a_type_emits_nothing_again()
    {
        var result = Rerun(c =>
            Edit(c, "class Order", text => text.Replace("[Evented(Version = 2", "\n\n// moved\n[Evented(Version = 2"))
        );

        Assert.That(
            result.TrackedSteps[TrackingNames.EventedTypes].SelectMany(s => s.Outputs).Select(o => o.Reason),
            Does.Contain(IncrementalStepRunReason.Modified),
            "the parser saw the edit (its model holds the location)"
        );
        foreach (var step in new[] { TrackingNames.EventedPlans, TrackingNames.EventsTablePlans })
        {
            var outputs = result.TrackedSteps[step].SelectMany(s => s.Outputs).Select(o => o.Reason).ToList();
            Assert.That(
                outputs,
                Is.All.EqualTo(IncrementalStepRunReason.Cached).Or.EqualTo(IncrementalStepRunReason.Unchanged),
                step
            );
        }
    }

    [Test]
    public void Diagnostics_still_follow_their_line_after_a_whitespace_edit()
    {
        const string thing = """
            using System;
            using Spector;
            namespace Shop;
            [Evented(Actions = ["archive"])]
            public partial class Thing
            {
                public Guid Id { get; set; }
                static void Changeset(Changeset<Thing> c) { }
                [OnAction("archiv")] static void Archive(Changeset<Thing> c) { }
            }
            """;
        var table = Sources.EventsTable.Replace(
            "[EventSchema(typeof(Cart), 1)]",
            "[EventSchema(typeof(Cart), 1)]\n[EventSchema(typeof(Thing), 2)]"
        );
        var compilation = GeneratorHarness.Compile(table, Sources.Order, Sources.Cart, thing);
        var driver = GeneratorHarness.Driver().RunGenerators(compilation);
        var before = Line(driver.GetRunResult().Diagnostics.Single(d => d.Id == "SPEC007"));

        var moved = driver.RunGenerators(
            Edit(compilation, "class Thing", text => text.Replace("[Evented(", "\n\n[Evented("))
        );

        Assert.That(Line(moved.GetRunResult().Diagnostics.Single(d => d.Id == "SPEC007")), Is.EqualTo(before + 2));
    }

    private static int Line(Diagnostic d) => d.Location.GetLineSpan().StartLinePosition.Line + 1;

    private static Compilation Edit(Compilation compilation, string containing, Func<string, string> change)
    {
        var old = compilation.SyntaxTrees.Single(t => t.ToString().Contains(containing));
        return compilation.ReplaceSyntaxTree(
            old,
            CSharpSyntaxTree.ParseText(change(old.ToString()), (CSharpParseOptions)old.Options, old.FilePath)
        );
    }

    [Test]
    public void Models_hold_no_roslyn_types()
    {
        var modelTypes = typeof(SpectorGenerator)
            .Assembly.GetTypes()
            .Where(t => t.Namespace == "Spector.Generators.Model");
        foreach (var type in modelTypes)
        foreach (var property in type.GetProperties())
        {
            var ns = property.PropertyType.Namespace ?? "";
            var allowed =
                ns.StartsWith("Spector")
                || ns.StartsWith("System")
                || property.PropertyType == typeof(DiagnosticDescriptor)
                || property.PropertyType.Name.StartsWith("TextSpan")
                || property.PropertyType.Name.StartsWith("LinePositionSpan");
            Assert.That(
                allowed
                    && !typeof(ISymbol).IsAssignableFrom(property.PropertyType)
                    && !typeof(SyntaxNode).IsAssignableFrom(property.PropertyType)
                    && property.PropertyType != typeof(Location)
                    && !typeof(Compilation).IsAssignableFrom(property.PropertyType),
                Is.True,
                $"{type.Name}.{property.Name} is {property.PropertyType}"
            );
        }
    }
}
