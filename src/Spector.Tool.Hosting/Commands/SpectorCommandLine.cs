using System.CommandLine;
using System.Data.Common;
using System.Net.Sockets;

namespace Spector.Tool;

/// <summary>The spector command tree, shared by the dotnet tool and <c>RunSpectorCommandsAsync</c>.</summary>
public static class SpectorCommandLine
{
    /// <summary>Parses and runs <paramref name="args"/> (without the leading "spector"); returns the exit
    /// code.</summary>
    public static Task<int> InvokeAsync(
        ISpectorAppSource source,
        string[] args,
        ToolConsole? console = null,
        CancellationToken cancellationToken = default
    )
    {
        console ??= ToolConsole.ForProcess();
        var root = Build(source, console);
        return root.Parse(args)
            .InvokeAsync(
                new InvocationConfiguration { Output = console.Out, Error = console.Error },
                cancellationToken
            );
    }

    /// <summary>The root command with every subcommand.</summary>
    public static RootCommand Build(ISpectorAppSource source, ToolConsole console)
    {
        var root = new RootCommand(
            "Spector: migrate, verify, export, rebuild and inspect the events tables of an app."
        );
        var context = new CommandContext(source, console);
        foreach (
            var command in new[]
            {
                MigrateCommand.Create(context),
                VerifyCommand.Create(context),
                ExportCommand.Create(context),
                RebuildCommand.Create(context),
                EventsCommand.Create(context),
                LockCommand.Create(context),
                FollowersCommand.Create(context),
            }
        )
            root.Subcommands.Add(command);
        foreach (var option in source.Options)
        {
            option.Recursive = true;
            root.Options.Add(option);
        }
        return root;
    }
}

/// <summary>What every command needs: the app source, the console, and one way to turn failures into exit
/// codes.</summary>
internal sealed class CommandContext(ISpectorAppSource source, ToolConsole console)
{
    public ISpectorAppSource Source { get; } = source;

    public ToolConsole Console { get; } = console;

    /// <summary>The option every command that works table by table takes.</summary>
    public static Option<string[]> TableOption() =>
        new("--table")
        {
            Description = "Only these events tables (by name; repeat for several). Default: all.",
            AllowMultipleArgumentsPerToken = true,
        };

    public static IReadOnlyList<EventLog> Selected(SpectorApp app, string[]? tables)
    {
        if (tables is not { Length: > 0 })
            return app.Logs;
        var unknown = tables.Where(t => app.Logs.All(l => l.Table != t)).ToList();
        if (unknown.Count > 0)
            throw new SpectorToolException(
                $"No events table named {string.Join(", ", unknown)}; "
                    + $"the app's are {string.Join(", ", app.Logs.Select(l => l.Table))}."
            );
        return app.Logs.Where(l => tables.Contains(l.Table)).ToList();
    }

    /// <summary>Opens the app and runs <paramref name="work"/>, mapping failures to one line on stderr and an exit
    /// code.</summary>
    public void SetAction(
        Command command,
        bool needsStore,
        Func<ParseResult, SpectorApp, CancellationToken, Task<int>> work
    ) =>
        command.SetAction(
            async (parsed, cancellationToken) =>
            {
                try
                {
                    SpectorApp app;
                    try
                    {
                        app = await Source.OpenAsync(parsed, needsStore, cancellationToken).ConfigureAwait(false);
                    }
                    catch (System.Reflection.TargetInvocationException e) when (e.InnerException is { } inner)
                    {
                        // A generated static initializer of the app failed: its exception says why, not the reflection
                        // wrapper.
                        throw new SpectorToolException(
                            $"loading the app's events tables failed: {inner.GetType().Name}: {inner.Message}"
                        );
                    }
                    return await work(parsed, app, cancellationToken).ConfigureAwait(false);
                }
                catch (SpectorToolException e)
                {
                    Console.Error.WriteLine($"spector: {e.Message}");
                    return e.ExitCode;
                }
                catch (Exception e) when (IsDatabaseUnreachable(e))
                {
                    Console.Error.WriteLine($"spector: cannot reach the database: {e.GetBaseException().Message}");
                    return ExitCodes.Error;
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    Console.Error.WriteLine($"spector: {e.GetType().Name}: {e.Message}");
                    return ExitCodes.Error;
                }
            }
        );

    private static bool IsDatabaseUnreachable(Exception error) =>
        error is SocketException or TimeoutException
        || (error is DbException && error.GetBaseException() is SocketException or TimeoutException)
        || (error is DbException db && SpectorProvider.IsUnreachable(db));
}
