using System.Diagnostics;

namespace Spector.Tests;

/// <summary>Runs the dotnet CLI on projects outside the solution, isolated from the outer `dotnet test`.</summary>
internal static class Dotnet
{
    public static readonly string Root = RepositoryRoot.Path;

    public static Task<string> RunAsync(string directory, params string[] arguments) =>
        RunAsync(directory, TimeSpan.FromMinutes(5), arguments);

    public static async Task<string> RunAsync(string directory, TimeSpan limit, params string[] arguments)
    {
        var (code, text) = await RawAsync(directory, limit, arguments);
        Assert.That(code, Is.EqualTo(0), $"dotnet {string.Join(' ', arguments)} failed:\n{text}");
        return text;
    }

    public static Task<(int Code, string Output)> RawAsync(string directory, params string[] arguments) =>
        RawAsync(directory, TimeSpan.FromMinutes(5), arguments);

    public static async Task<(int Code, string Output)> RawAsync(
        string directory,
        TimeSpan limit,
        params string[] arguments
    )
    {
        var start = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = directory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var argument in arguments)
            start.ArgumentList.Add(argument);
        // The outer `dotnet test` sets MSBuild variables that must not leak into these independent builds.
        foreach (
            var name in new[] { "MSBuildExtensionsPath", "MSBuildSDKsPath", "MSBUILD_EXE_PATH", "DOTNET_HOST_PATH" }
        )
            start.Environment.Remove(name);
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(limit);
        await process.WaitForExitAsync(timeout.Token);
        return (process.ExitCode, await stdout + await stderr);
    }
}
