using System.Text.RegularExpressions;

namespace Spector.Generators.Tests;

/// <summary>The README's tour is code users copy: it must compile with the generator and run, as written.</summary>
public sealed partial class ReadmeTests
{
    [Test]
    public void The_readme_tour_compiles()
    {
        var readme = File.ReadAllText(Path.Combine(RepoRoot.Path, "README.md"));
        var blocks = CSharpBlock().Matches(readme).Select(m => m.Groups[1].Value).ToList();
        Assert.That(blocks, Has.Count.EqualTo(2), "a declarations block and a usage block");

        var usage =
            "using Spector;\npublic static class Tour\n{\n"
            + "    public static async System.Threading.Tasks.Task RunAsync()\n    {\n"
            + blocks[1]
            + "\n    }\n}\n";
        const string implicitUsings =
            "global using System;\nglobal using System.Collections.Generic;\nglobal using System.Linq;\n"
            + "global using System.Threading;\nglobal using System.Threading.Tasks;\n";
        var result = GeneratorHarness.Run(implicitUsings, blocks[0], usage);

        Assert.That(result.GeneratorDiagnostics, Is.Empty, string.Join("\n", result.GeneratorDiagnostics));
        Assert.That(result.CompilationErrors, Is.Empty, string.Join("\n", result.CompilationErrors));
    }

    [Test]
    public async Task The_readme_tour_runs_and_deposits_on_sqlite()
    {
        var readme = File.ReadAllText(Path.Combine(RepoRoot.Path, "README.md"));
        var blocks = CSharpBlock().Matches(readme).Select(m => m.Groups[1].Value).ToList();
        var file = Path.Combine(Path.GetTempPath(), $"spector-tour-{Guid.NewGuid():N}.db");
        Assert.That(blocks[1], Does.Contain("\"Data Source=app.db\""));
        // The usage block as written, on a file of its own, reporting what it saw before its last line deletes.
        var usage = blocks[1]
            .Replace("\"Data Source=app.db\"", $"\"Data Source={file}\"")
            .Replace(
                "await account.DeleteAsync();",
                "var seen = $\"{account.Balance}|{account.FrozenBecause}|{before!.Balance}|{history.Count}\";\n"
                    + "await account.DeleteAsync();\n"
                    + "return seen + \"|\" + (await Account.GetAsync(account.Id) is null);"
            );
        Assert.That(usage, Does.Contain("return seen"), "the tour still ends with a delete");
        var program =
            "using Spector;\npublic static class Tour\n{\n"
            + "    public static async System.Threading.Tasks.Task<string> RunAsync()\n    {\n"
            + usage
            + "\n    }\n}\n";
        const string implicitUsings =
            "global using System;\nglobal using System.Collections.Generic;\nglobal using System.Linq;\n"
            + "global using System.Threading;\nglobal using System.Threading.Tasks;\n";
        try
        {
            var assembly = System.Reflection.Assembly.Load(GeneratorHarness.Build(implicitUsings, blocks[0], program));
            var run = (Task<string>)assembly.GetType("Tour")!.GetMethod("RunAsync")!.Invoke(null, null)!;
            Assert.That(
                await run,
                Is.EqualTo("100|audit|0|3|True"),
                "balance after the deposit, the freeze reason, the balance at seq 1, events before the delete, "
                    + "gone after"
            );
        }
        finally
        {
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            File.Delete(file);
        }
    }

    [GeneratedRegex("```csharp\\n(.*?)```", RegexOptions.Singleline)]
    private static partial Regex CSharpBlock();
}
