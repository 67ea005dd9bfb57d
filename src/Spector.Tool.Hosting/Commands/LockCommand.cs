using System.CommandLine;
using System.Diagnostics;

namespace Spector.Tool;

/// <summary>
/// <c>spector lock</c>: writes or refreshes spector.lock by running the project's <c>SpectorLock</c> target, so the
/// file is exactly what <c>dotnet build -t:SpectorLock</c> writes (the generator renders it from the source).
/// </summary>
internal static class LockCommand
{
    public static Command Create(CommandContext context)
    {
        var project = new Option<FileSystemInfo>("--project", "-p")
        {
            Description =
                "The project file or its folder "
                + "(default: the app's project, found above its build output, or the current folder).",
        };
        var command = new Command(
            "lock",
            "Write or refresh spector.lock from the source (runs dotnet build -t:SpectorLock)."
        )
        {
            project,
        };
        context.SetAction(
            command,
            needsStore: false,
            async (parsed, app, cancellationToken) =>
            {
                var file = ProjectFile(
                    parsed.GetValue(project)?.FullName ?? app.ProjectDirectory ?? Directory.GetCurrentDirectory()
                );
                var start = new ProcessStartInfo("dotnet")
                {
                    RedirectStandardOutput = true,
                    RedirectStandardError = true,
                    WorkingDirectory = Path.GetDirectoryName(file)!,
                };
                foreach (var argument in new[] { "build", file, "-t:SpectorLock", "-nologo", "-v:q" })
                    start.ArgumentList.Add(argument);
                using var process = Process.Start(start) ?? throw new SpectorToolException("Could not start dotnet.");
                var output = process.StandardOutput.ReadToEndAsync(cancellationToken);
                var error = process.StandardError.ReadToEndAsync(cancellationToken);
                await process.WaitForExitAsync(cancellationToken).ConfigureAwait(false);
                if (process.ExitCode != 0)
                    throw new SpectorToolException(
                        $"dotnet build -t:SpectorLock failed for {file}:\n"
                            + $"{(await output.ConfigureAwait(false)).Trim()}\n{await error.ConfigureAwait(false)}"
                    );
                context.Console.Line($"wrote {Path.Combine(Path.GetDirectoryName(file)!, "spector.lock")}");
                return ExitCodes.Ok;
            }
        );
        return command;
    }

    private static string ProjectFile(string path)
    {
        if (File.Exists(path))
            return path;
        if (!Directory.Exists(path))
            throw new SpectorToolException($"No project at {path}.");
        var projects = Directory.GetFiles(path, "*.csproj");
        return projects.Length == 1
            ? projects[0]
            : throw new SpectorToolException(
                projects.Length == 0
                    ? $"No .csproj in {path}: pass --project path/to/App.csproj."
                    : $"Several projects in {path}: "
                        + $"pass --project with one of {string.Join(", ", projects.Select(Path.GetFileName))}."
            );
    }
}
