using Microsoft.CodeAnalysis;
using Spector.Generators.Model;

namespace Spector.Generators.Tests;

/// <summary>
/// SPEC031 refuses names from <see cref="GeneratedNames"/>: if an emitter adds a member the list lacks, a user
/// member of that name breaks generated code again. These tests read the members the generator really emits.
/// </summary>
public sealed class GeneratedNamesTests
{
    // Every optional part on: a record table (MaterializeAsync, BringUpAsync, SpectorRecordTable), the
    // Savepoint hook (SavepointAsync, VerifySavepointsAsync) and a custom action.
    private const string Source = """
        using System;
        using Spector;
        [EventsTable("events")]
        [EventSchema(typeof(Thing), 0)]
        public partial class Events;
        [Evented(Table = "things", Actions = ["freeze"])]
        public partial class Thing
        {
            public Guid Id { get; set; }
            public string Name { get; set; } = "";
            static void Changeset(Changeset<Thing> c) { }
            static Attrs Savepoint(Thing record, int version) => new();
        }
        """;

    [Test]
    public void Every_member_generated_on_an_evented_type_is_reserved()
    {
        var generated = GeneratedMembers("Thing");

        Assert.That(
            generated,
            Does.Contain("GetVersionedAsync").And.Contain("SavepointAsync").And.Contain("FreezeAsync"),
            "the source turns every optional member on"
        );
        Assert.That(generated.Except(GeneratedNames.EventedMembers).Except(["FreezeAsync"]), Is.Empty);
    }

    [Test]
    public void Every_member_generated_on_an_events_table_is_reserved()
    {
        Assert.That(GeneratedMembers("Events").Except(GeneratedNames.EventsTableMembers), Is.Empty);
    }

    [TestCase("exists", "ExistsAsync")]
    [TestCase("get_versioned", "GetVersionedAsync")]
    [TestCase("ids", "IdsAsync")]
    [TestCase("get_as_of", "GetAsOfAsync")]
    [TestCase("changes", "ChangesAsync")]
    public void SPEC031_an_action_named_like_a_generated_read(string action, string method)
    {
        var result = GeneratorHarness.Run(Source.Replace("\"freeze\"", $"\"{action}\"", StringComparison.Ordinal));

        var d = result.GeneratorDiagnostics.Single(x => x.Id == "SPEC031");
        Assert.That(d.GetMessage(), Does.Contain($"'{method}'"));
        Assert.That(d.Location.GetLineSpan().StartLinePosition.Line + 1, Is.EqualTo(6));
        Assert.That(
            result.CompilationErrors.Where(e =>
                e.Location.SourceTree?.FilePath.EndsWith(".g.cs", StringComparison.Ordinal) == true
            ),
            Is.Empty
        );
    }

    /// <summary>The names of the members of <paramref name="type"/> declared in generated files.</summary>
    private static HashSet<string> GeneratedMembers(string type)
    {
        var compilation = GeneratorHarness.Compile(Source);
        GeneratorHarness.Driver().RunGeneratorsAndUpdateCompilation(compilation, out var output, out var diagnostics);
        Assert.That(diagnostics, Is.Empty);
        Assert.That(output.GetDiagnostics().Where(d => d.Severity == DiagnosticSeverity.Error), Is.Empty);
        var symbol = output.GetTypeByMetadataName(type)!;
        return symbol
            .GetMembers()
            .Where(m =>
                !m.IsImplicitlyDeclared
                && m.Locations.Any(l => l.SourceTree?.FilePath.EndsWith(".g.cs", StringComparison.Ordinal) == true)
            )
            .Where(m => m is not IMethodSymbol { MethodKind: MethodKind.PropertyGet or MethodKind.PropertySet })
            .Select(m => m.Name)
            .ToHashSet();
    }
}
