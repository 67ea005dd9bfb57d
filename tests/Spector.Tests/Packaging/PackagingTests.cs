using System.Diagnostics;
using System.IO.Compression;

namespace Spector.Tests;

/// <summary>
/// "Works in the test harness, broken in the package" is the most common generator bug: pack the real
/// package, restore it from a folder feed into a project outside the solution, build and run it.
/// </summary>
[TestFixture]
[Category("Packaging")]
public sealed class PackagingTests
{
    private static readonly string Root = RepositoryRoot.Path;

    [Test]
    public async Task The_packed_package_builds_and_runs_a_consumer_from_a_folder_feed()
    {
        var work = Directory.CreateTempSubdirectory("spector-pack-").FullName;
        try
        {
            // A version no earlier run used, so NuGet's global cache cannot serve a stale copy.
            var version = $"0.1.0-local.{DateTime.UtcNow:yyyyMMddHHmmssfff}";
            var feed = Path.Combine(work, "feed");
            await DotnetAsync(Root, "pack", Path.Combine(Root, "src", "Spector.Core", "Spector.Core.csproj"), "-c", "Release", "-o", feed,
                $"-p:Version={version}");

            var package = Path.Combine(feed, $"Spector.{version}.nupkg");
            using (var zip = ZipFile.OpenRead(package))
            {
                var entries = zip.Entries.Select(e => e.FullName).ToList();
                Assert.That(entries, Does.Contain("lib/net10.0/Spector.dll"));
                Assert.That(entries, Does.Contain("analyzers/dotnet/cs/Spector.Generators.dll"));
                Assert.That(entries, Does.Contain("analyzers/dotnet/cs/Spector.Analyzers.dll"));
                Assert.That(entries, Does.Contain("analyzers/dotnet/cs/Spector.CodeFixes.dll"));
            }

            var consumer = Path.Combine(work, "consumer");
            Directory.CreateDirectory(consumer);
            foreach (var file in new[] { "PackageConsumer.csproj", "Program.cs" })
                File.Copy(Path.Combine(Root, "tests", "PackageConsumer", file), Path.Combine(consumer, file));
            // Adds the folder feed to the machine's sources (no <clear/>), so Dapper and the drivers still restore.
            File.WriteAllText(Path.Combine(consumer, "nuget.config"), $"""
                <?xml version="1.0" encoding="utf-8"?>
                <configuration>
                  <packageSources>
                    <add key="spector-local" value="{feed}" />
                  </packageSources>
                </configuration>
                """);

            var output = await DotnetAsync(consumer, "run", "--project", Path.Combine(consumer, "PackageConsumer.csproj"), $"-p:SpectorVersion={version}");

            Assert.That(output, Does.Contain("consumer ok: gadget stock 5, 3 events"));

            // The package's analyzers run in the consumer's build: a locked action renamed without an alias fails it.
            File.WriteAllText(Path.Combine(consumer, "spector.lock"), """
                schema events 0 Item v1
                action events Item restock 1856959343
                action events Item discontinue 12345
                """);
            var project = File.ReadAllText(Path.Combine(consumer, "PackageConsumer.csproj"))
                .Replace("</Project>", "  <ItemGroup><AdditionalFiles Include=\"spector.lock\" /></ItemGroup>\n</Project>");
            File.WriteAllText(Path.Combine(consumer, "PackageConsumer.csproj"), project);
            var (code, text) = await DotnetRawAsync(consumer, "build", Path.Combine(consumer, "PackageConsumer.csproj"), $"-p:SpectorVersion={version}");
            Assert.That(code, Is.Not.EqualTo(0), text);
            Assert.That(text, Does.Contain("error SPEC022").And.Contain("'discontinue'"));
        }
        finally
        {
            Directory.Delete(work, recursive: true);
        }
    }

    private static async Task<string> DotnetAsync(string directory, params string[] arguments)
    {
        var (code, text) = await DotnetRawAsync(directory, arguments);
        Assert.That(code, Is.EqualTo(0), $"dotnet {string.Join(' ', arguments)} failed:\n{text}");
        return text;
    }

    private static async Task<(int Code, string Output)> DotnetRawAsync(string directory, params string[] arguments)
    {
        var start = new ProcessStartInfo("dotnet") { WorkingDirectory = directory, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in arguments) start.ArgumentList.Add(argument);
        // The outer `dotnet test` sets MSBuild variables that must not leak into these independent builds.
        foreach (var name in new[] { "MSBuildExtensionsPath", "MSBuildSDKsPath", "MSBUILD_EXE_PATH", "DOTNET_HOST_PATH" })
            start.Environment.Remove(name);
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(5));
        await process.WaitForExitAsync(timeout.Token);
        return (process.ExitCode, await stdout + await stderr);
    }
}
