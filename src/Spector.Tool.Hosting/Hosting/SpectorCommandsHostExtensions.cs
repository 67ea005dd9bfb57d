using Microsoft.Extensions.Hosting;

namespace Spector.Tool;

/// <summary>Runs the spector commands inside an app: <c>dotnet run -- spector verify</c>.</summary>
public static class SpectorCommandsHostExtensions
{
    /// <summary>
    /// When <paramref name="args"/> start with <c>spector</c>, runs that command against the app's container (its
    /// hosted services, migration on startup included, are not started) and returns the command's exit code;
    /// otherwise runs the host as usual until it stops and returns 0. Use as the last line of Program.cs:
    /// <c>return await app.RunSpectorCommandsAsync(args);</c>
    /// </summary>
    public static async Task<int> RunSpectorCommandsAsync(
        this IHost host,
        string[] args,
        CancellationToken cancellationToken = default
    )
    {
        ArgumentNullException.ThrowIfNull(host);
        ArgumentNullException.ThrowIfNull(args);
        if (args.Length == 0 || args[0] != "spector")
        {
            await host.RunAsync(cancellationToken).ConfigureAwait(false);
            return ExitCodes.Ok;
        }
        return await host
            .Services.RunSpectorCommandAsync(args[1..], cancellationToken: cancellationToken)
            .ConfigureAwait(false);
    }

    /// <summary>
    /// Runs one spector command (<paramref name="args"/> without the leading <c>spector</c>) against the stores, events
    /// tables and followers of <paramref name="services"/>; returns its exit code. For apps without a generic host.
    /// </summary>
    public static Task<int> RunSpectorCommandAsync(
        this IServiceProvider services,
        string[] args,
        ToolConsole? console = null,
        CancellationToken cancellationToken = default
    )
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(args);
        return SpectorCommandLine.InvokeAsync(new HostAppSource(services), args, console, cancellationToken);
    }
}
