using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;

namespace Spector.Generators.Tests;

/// <summary>The pipeline's models are plain values, so edits that do not touch them leave every step cached.</summary>
public sealed class IncrementalCachingTests
{
    private static readonly string[] Steps =
    [
        TrackingNames.EventsTables, TrackingNames.EventedTypes, TrackingNames.EventedPlans, TrackingNames.EventsTablePlans,
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
        var result = Rerun(c => c.AddSyntaxTrees(CSharpSyntaxTree.ParseText("namespace Shop; public class Unrelated { }",
            (CSharpParseOptions)c.SyntaxTrees.First().Options)));

        foreach (var step in Steps)
        {
            var outputs = result.TrackedSteps[step].SelectMany(s => s.Outputs).Select(o => o.Reason).ToList();
            Assert.That(outputs, Is.All.EqualTo(IncrementalStepRunReason.Cached).Or.EqualTo(IncrementalStepRunReason.Unchanged), step);
        }
    }

    [Test]
    public void Changing_the_version_reruns_the_evented_steps()
    {
        var result = Rerun(c =>
        {
            var old = c.SyntaxTrees.Single(t => t.ToString().Contains("class Order"));
            var edited = CSharpSyntaxTree.ParseText(old.ToString().Replace("Version = 2", "Version = 3"), (CSharpParseOptions)old.Options, old.FilePath);
            return c.ReplaceSyntaxTree(old, edited);
        });

        var reasons = result.TrackedSteps[TrackingNames.EventedPlans].SelectMany(s => s.Outputs).Select(o => o.Reason);
        Assert.That(reasons, Does.Contain(IncrementalStepRunReason.Modified));
        Assert.That(result.GeneratedSources.Single(s => s.HintName == "Shop.Order.Spector.g.cs").SourceText.ToString(),
            Does.Contain("version: 3"));
    }

    [Test]
    public void Changing_the_actions_reruns_the_evented_and_table_steps()
    {
        var result = Rerun(c =>
        {
            var old = c.SyntaxTrees.Single(t => t.ToString().Contains("class Order"));
            var edited = CSharpSyntaxTree.ParseText(old.ToString().Replace("\"pay\", \"cancel\"]", "\"pay\", \"cancel\", \"refund\"]"),
                (CSharpParseOptions)old.Options, old.FilePath);
            return c.ReplaceSyntaxTree(old, edited);
        });

        Assert.That(result.TrackedSteps[TrackingNames.EventedPlans].SelectMany(s => s.Outputs).Select(o => o.Reason),
            Does.Contain(IncrementalStepRunReason.Modified));
        Assert.That(result.TrackedSteps[TrackingNames.EventsTablePlans].SelectMany(s => s.Outputs).Select(o => o.Reason),
            Does.Contain(IncrementalStepRunReason.Modified));
        Assert.That(result.GeneratedSources.Single(s => s.HintName == "Shop.Order.Spector.g.cs").SourceText.ToString(), Does.Contain("RefundAsync"));
    }

    [Test]
    public void Models_hold_no_roslyn_types()
    {
        var modelTypes = typeof(SpectorGenerator).Assembly.GetTypes().Where(t => t.Namespace == "Spector.Generators.Model");
        foreach (var type in modelTypes)
        foreach (var property in type.GetProperties())
        {
            var ns = property.PropertyType.Namespace ?? "";
            var allowed = ns.StartsWith("Spector") || ns.StartsWith("System") || property.PropertyType == typeof(DiagnosticDescriptor)
                || property.PropertyType.Name.StartsWith("TextSpan") || property.PropertyType.Name.StartsWith("LinePositionSpan");
            Assert.That(allowed && !typeof(ISymbol).IsAssignableFrom(property.PropertyType) && !typeof(SyntaxNode).IsAssignableFrom(property.PropertyType)
                && property.PropertyType != typeof(Location) && !typeof(Compilation).IsAssignableFrom(property.PropertyType),
                Is.True, $"{type.Name}.{property.Name} is {property.PropertyType}");
        }
    }
}
