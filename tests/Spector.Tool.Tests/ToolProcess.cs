using System.Diagnostics;

namespace Spector.Tests.Tool;

/// <summary>A finished process: its exit code and what it wrote.</summary>
public sealed record ToolRun(int Code, string Output, string Error)
{
    public override string ToString() => $"exit {Code}\nstdout:\n{Output}\nstderr:\n{Error}";
}

/// <summary>Runs the built spector tool, the built sample app and node as real processes.</summary>
internal static class ToolProcess
{
    public static readonly string Root = FindRoot();

    // bin/<Configuration>/net10.0/ of this test assembly names the configuration the tool and sample were built in.
    private static readonly string Configuration = new DirectoryInfo(
        Path.TrimEndingDirectorySeparator(AppContext.BaseDirectory)
    )
        .Parent!
        .Name;

    public static string ToolDll =>
        Path.Combine(Root, "src", "Spector.Tool", "bin", Configuration, "net10.0", "Spector.Tool.dll");

    public static string SampleDll =>
        Path.Combine(Root, "samples", "WebApi", "bin", Configuration, "net10.0", "WebApi.dll");

    /// <summary>spector with <paramref name="arguments"/>, as the dotnet tool runs it.</summary>
    public static Task<ToolRun> SpectorAsync(params string[] arguments) =>
        RunAsync("dotnet", Root, null, [ToolDll, .. arguments]);

    /// <summary>The sample app with <paramref name="arguments"/> (<c>spector verify</c>, say), configured by <paramref
    /// name="environment"/>.</summary>
    public static Task<ToolRun> SampleAsync(
        IReadOnlyDictionary<string, string> environment,
        params string[] arguments
    ) => RunAsync("dotnet", Path.GetDirectoryName(SampleDll)!, environment, [SampleDll, .. arguments]);

    public static async Task<ToolRun> RunAsync(
        string program,
        string directory,
        IReadOnlyDictionary<string, string>? environment,
        params string[] arguments
    )
    {
        var start = new ProcessStartInfo(program)
        {
            WorkingDirectory = directory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var argument in arguments)
            start.ArgumentList.Add(argument);
        // The outer `dotnet test` sets MSBuild variables that must not leak into a build the lock command starts.
        foreach (
            var name in new[] { "MSBuildExtensionsPath", "MSBuildSDKsPath", "MSBUILD_EXE_PATH", "DOTNET_HOST_PATH" }
        )
            start.Environment.Remove(name);
        foreach (var (name, value) in environment ?? new Dictionary<string, string>())
            start.Environment[name] = value;
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(5));
        await process.WaitForExitAsync(timeout.Token);
        return new ToolRun(process.ExitCode, await output, await error);
    }

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "Spector.sln")))
                return dir.FullName;
        throw new InvalidOperationException("Spector.sln not found");
    }
}
