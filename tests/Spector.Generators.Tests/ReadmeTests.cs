using System.Text.RegularExpressions;

namespace Spector.Generators.Tests;

/// <summary>The README's tour is code users copy: it must compile with the generator, as written.</summary>
public sealed partial class ReadmeTests
{
    [Test]
    public void The_readme_tour_compiles()
    {
        var readme = File.ReadAllText(Path.Combine(FindRoot(), "README.md"));
        var blocks = CSharpBlock().Matches(readme).Select(m => m.Groups[1].Value).ToList();
        Assert.That(blocks, Has.Count.EqualTo(2), "a declarations block and a usage block");

        var usage = "using Spector;\npublic static class Tour\n{\n    public static async System.Threading.Tasks.Task RunAsync()\n    {\n" +
                    blocks[1] + "\n    }\n}\n";
        const string implicitUsings = "global using System;\nglobal using System.Collections.Generic;\nglobal using System.Linq;\n" +
                                      "global using System.Threading;\nglobal using System.Threading.Tasks;\n";
        var result = GeneratorHarness.Run(implicitUsings, blocks[0], usage);

        Assert.That(result.GeneratorDiagnostics, Is.Empty, string.Join("\n", result.GeneratorDiagnostics));
        Assert.That(result.CompilationErrors, Is.Empty, string.Join("\n", result.CompilationErrors));
    }

    [GeneratedRegex("```csharp\\n(.*?)```", RegexOptions.Singleline)]
    private static partial Regex CSharpBlock();

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "Spector.sln"))) return dir.FullName;
        throw new InvalidOperationException("Spector.sln not found");
    }
}
