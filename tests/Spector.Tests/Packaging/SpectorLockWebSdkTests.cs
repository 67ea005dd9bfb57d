namespace Spector.Tests;

/// <summary>
/// <c>dotnet build -t:SpectorLock</c> in an ASP.NET Core project (Microsoft.NET.Sdk.Web), run on a copy of
/// samples/WebApi: it writes the committed lock's exact lines, leaves nothing in the project folder but the lock,
/// and runs again with nothing changed (the second run once found its inner build up to date, skipped the
/// compile and failed with "the lock was not rendered").
/// </summary>
[NonParallelizable]
public sealed class SpectorLockWebSdkTests
{
    private string _project = "";

    [SetUp]
    public void CopySample()
    {
        // Inside the repository (under this project's ignored bin folder), so central package versions apply.
        _project = Path.Combine(Dotnet.Root, "tests", "Spector.Tests", "bin", $"lock-web-{Guid.NewGuid():N}");
        var sample = Path.Combine(Dotnet.Root, "samples", "WebApi");
        Directory.CreateDirectory(_project);
        foreach (var file in Directory.GetFiles(sample).Where(f => Path.GetExtension(f) is ".cs" or ".json"))
            File.Copy(file, Path.Combine(_project, Path.GetFileName(file)));
        var src = Path.Combine(Dotnet.Root, "src") + Path.DirectorySeparatorChar;
        File.WriteAllText(
            Path.Combine(_project, "WebApi.csproj"),
            File.ReadAllText(Path.Combine(sample, "WebApi.csproj")).Replace(@"..\..\src\", src)
        );
    }

    [TearDown]
    public void RemoveCopy() => Directory.Delete(_project, recursive: true);

    [Test]
    public async Task In_a_web_project_the_lock_is_written_twice_and_nothing_else_lands_in_the_project_folder()
    {
        var before = ProjectFiles();

        var first = await Dotnet.RunAsync(_project, "build", "-t:SpectorLock");
        var second = await Dotnet.RunAsync(_project, "build", "-t:SpectorLock");

        Assert.That(new[] { first, second }, Has.All.Contain("Spector: wrote"));
        Assert.That(
            File.ReadAllText(Path.Combine(_project, "spector.lock")),
            Is.EqualTo(File.ReadAllText(Path.Combine(Dotnet.Root, "samples", "WebApi", "spector.lock")))
        );
        Assert.That(
            ProjectFiles().Except(before),
            Is.EquivalentTo(new[] { "spector.lock" }),
            "only the lock is new outside bin/ and obj/"
        );
        Assert.That(
            Directory.GetFiles(Path.Combine(_project, "obj"), "spector.lock.g.cs", SearchOption.AllDirectories),
            Is.Not.Empty
        );
    }

    /// <summary>Every file under the project folder outside bin/ and obj/, relative to it.</summary>
    private List<string> ProjectFiles() =>
        Directory
            .GetFiles(_project, "*", SearchOption.AllDirectories)
            .Select(f => Path.GetRelativePath(_project, f).Replace('\\', '/'))
            .Where(f =>
                !f.StartsWith("bin/", StringComparison.Ordinal) && !f.StartsWith("obj/", StringComparison.Ordinal)
            )
            .ToList();
}
