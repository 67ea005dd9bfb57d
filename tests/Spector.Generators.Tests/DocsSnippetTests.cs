using System.Text.RegularExpressions;

namespace Spector.Generators.Tests;

/// <summary>
/// Code in docs/ that users copy compiles with the generator, as written: each snippet is compiled in the
/// smallest context it assumes (the model it names, a variable it reads), never edited.
/// </summary>
public sealed partial class DocsSnippetTests
{
    private const string ImplicitUsings =
        "global using System;\nglobal using System.Collections.Generic;\nglobal using System.Linq;\n"
        + "global using System.Threading;\nglobal using System.Threading.Tasks;\n"
        + "global using System.Text.Json.Nodes;\nglobal using Spector;\n";

    [Test]
    public void The_savepoint_page_compiles()
    {
        var blocks = Blocks("docs/savepoints.md");
        Assert.That(blocks, Has.Count.EqualTo(2), "the model and the verification");
        const string events =
            "[EventsTable(\"ledger\")]\n[EventSchema(typeof(Wallet), 0)]\npublic partial class LedgerEvents;\n";

        AssertCompiles(events, blocks[0], Statements(blocks[1], "Guid walletId"));
    }

    [Test]
    public void The_bring_up_snippet_compiles()
    {
        var block = Blocks("docs/links-and-recovery.md").Single(b => b.Contains("BringUpAsync"));
        const string model = """
            [EventsTable("events")]
            [EventSchema(typeof(User), 0)]
            public partial class AppEvents;

            [Evented(Table = "users", Actions = ["import"])]
            public partial class User
            {
                public Guid Id { get; set; }
                public string Name { get; set; } = "";
                static void Changeset(Changeset<User> c) => c.Cast("name");
                [OnAction("import")]
                static void Import(Changeset<User> c) => c.Cast("name");
            }
            """;
        const string helpers =
            "static Task MoveOrdersAsync(SpectorSession session, object oldId, Guid newId, CancellationToken ct) =>"
            + " Task.CompletedTask;";

        AssertCompiles(model, Statements(block, null, helpers));
    }

    [Test]
    public void The_store_instance_snippet_compiles()
    {
        var block = Blocks("docs/getting-started.md").Single(b => b.Contains("new SpectorOptions"));
        const string model = """
            [EventsTable("events")]
            [EventSchema(typeof(User), 0)]
            public partial class AppEvents;

            [Evented(Table = "users")]
            public partial class User
            {
                public Guid Id { get; set; }
                public string Name { get; set; } = "";
                static void Changeset(Changeset<User> c) => c.Cast("name");
            }
            """;

        AssertCompiles(
            model,
            Statements(
                block,
                "Npgsql.NpgsqlDataSource tenantDataSource, Microsoft.Extensions.Logging.ILoggerFactory loggerFactory"
            )
        );
    }

    private static void AssertCompiles(params string[] sources)
    {
        var result = GeneratorHarness.Run([ImplicitUsings, .. sources]);
        Assert.That(result.GeneratorDiagnostics, Is.Empty, string.Join("\n", result.GeneratorDiagnostics));
        Assert.That(result.CompilationErrors, Is.Empty, string.Join("\n", result.CompilationErrors));
    }

    /// <summary>A snippet of statements as the body of an async method taking <paramref name="parameters"/>.</summary>
    private static string Statements(string body, string? parameters, string members = "") =>
        $"public static class Snippet\n{{\n    {members}\n"
        + $"    public static async Task RunAsync({parameters})\n    {{\n{body}\n    }}\n}}\n";

    private static List<string> Blocks(string page) =>
        CSharpBlock()
            .Matches(File.ReadAllText(Path.Combine(RepoRoot.Path, page)))
            .Select(m => m.Groups[1].Value)
            .ToList();

    [GeneratedRegex("```csharp\\n(.*?)```", RegexOptions.Singleline)]
    private static partial Regex CSharpBlock();
}
