namespace Spector.Tests.Tool;

/// <summary>
/// <c>spector lock</c> writes spector.lock through the project's SpectorLock target: on a copy of samples/WebApi
/// without a lock, the file it writes is the committed one (which <c>dotnet build -t:SpectorLock</c> writes).
/// </summary>
[NonParallelizable]
public sealed class LockCommandTests
{
    [Test]
    public async Task Lock_writes_the_same_file_as_the_build_target_and_names_a_missing_project()
    {
        // Inside the repository (under this project's ignored bin folder), so central package versions apply.
        var project = Path.Combine(ToolProcess.Root, "tests", "Spector.Tool.Tests", "bin", $"lock-{Guid.NewGuid():N}");
        var sample = Path.Combine(ToolProcess.Root, "samples", "WebApi");
        Directory.CreateDirectory(project);
        try
        {
            foreach (var file in Directory.GetFiles(sample).Where(f => Path.GetExtension(f) is ".cs" or ".json"))
                File.Copy(file, Path.Combine(project, Path.GetFileName(file)));
            var src = Path.Combine(ToolProcess.Root, "src") + Path.DirectorySeparatorChar;
            File.WriteAllText(
                Path.Combine(project, "WebApi.csproj"),
                File.ReadAllText(Path.Combine(sample, "WebApi.csproj")).Replace(@"..\..\src\", src)
            );

            var written = await ToolProcess.SpectorAsync(
                "lock",
                "--assembly",
                ToolProcess.SampleDll,
                "--project",
                project
            );
            var missing = await ToolProcess.SpectorAsync(
                "lock",
                "--assembly",
                ToolProcess.SampleDll,
                "--project",
                Path.Combine(project, "obj")
            );

            Assert.That(written.Code, Is.EqualTo(0), written.ToString());
            Assert.That(written.Output.Trim(), Is.EqualTo($"wrote {Path.Combine(project, "spector.lock")}"));
            Assert.That(
                File.ReadAllText(Path.Combine(project, "spector.lock")),
                Is.EqualTo(File.ReadAllText(Path.Combine(sample, "spector.lock")))
            );
            Assert.That(missing.Code, Is.EqualTo(1));
            Assert.That(missing.Error, Does.Contain("No .csproj in").And.Contain("pass --project"));
        }
        finally
        {
            Directory.Delete(project, recursive: true);
        }
    }
}
