using System.CommandLine;
using System.Diagnostics.CodeAnalysis;
using System.Reflection;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace Spector.Tool;

/// <summary>
/// The app as its container has it: the store AddSpector registered (or the one under <c>--store key</c>), the
/// events tables of its options (or, when none are listed, those declared in its loaded assemblies), its followers.
/// </summary>
internal sealed class HostAppSource(IServiceProvider services) : ISpectorAppSource
{
    private readonly Option<string> _store = new("--store")
    {
        Description = "The key of a store registered with AddSpector(key, ...).",
    };

    public IReadOnlyList<Option> Options => [_store];

    [UnconditionalSuppressMessage(
        "Trimming",
        "IL2026",
        Justification = "The command line runs in a normal (untrimmed) app process."
    )]
    [UnconditionalSuppressMessage(
        "AOT",
        "IL3050",
        Justification = "The command line runs in a normal (untrimmed) app process."
    )]
    public Task<SpectorApp> OpenAsync(ParseResult parsed, bool needsStore, CancellationToken cancellationToken)
    {
        var key = parsed.GetValue(_store);
        var store = key is null
            ? services.GetService<SpectorStore>()
                ?? (
                    needsStore
                        ? throw new SpectorToolException(
                            "No Spector store in the app's container: "
                                + "call services.AddSpector(...), or pass --store <key>."
                        )
                        : null
                )
            : services.GetKeyedService<SpectorStore>(key)
                ?? throw new SpectorToolException($"No Spector store registered under the key '{key}'.");
        var options = services
            .GetService<IOptionsMonitor<SpectorServiceOptions>>()
            ?.Get(key ?? Microsoft.Extensions.Options.Options.DefaultName);
        var assemblies = AppAssemblies();
        IReadOnlyList<EventLog> logs = options is { EventsTables.Count: > 0 }
            ? [.. options.EventsTables.Distinct().OrderBy(l => l.Table, StringComparer.Ordinal)]
            :
            [
                .. assemblies
                    .SelectMany(EventsTableScanner.Logs)
                    .Distinct()
                    .OrderBy(l => l.Table, StringComparer.Ordinal),
            ];
        if (logs.Count == 0)
            throw new SpectorToolException(
                "The app declares no events tables: "
                    + "list them in AddSpector's EventsTables, or declare an [EventsTable] class.",
                ExitCodes.NoEventsTables
            );
        if (store is not null)
            foreach (var log in logs)
                log.Use(store);
        var types = assemblies.SelectMany(EventsTableScanner.Types).ToList();
        var project =
            services.GetService<IHostEnvironment>()?.ContentRootPath is { } root
            && Directory.GetFiles(root, "*.csproj").Length > 0
                ? root
                : SpectorApp.FindProjectDirectory(AppContext.BaseDirectory);
        return Task.FromResult(new SpectorApp(store, logs, types, [.. services.GetServices<Follower>()], project));
    }

    // The app's assemblies that use Spector: the entry assembly and any library with events tables of its own.
    private static List<Assembly> AppAssemblies() =>
        AppDomain
            .CurrentDomain.GetAssemblies()
            .Where(a =>
                !a.IsDynamic && a.GetReferencedAssemblies().Any(r => r.Name == typeof(EventLog).Assembly.GetName().Name)
            )
            .ToList();

    public SqlDialect? Dialect(ParseResult parsed)
    {
        var key = parsed.GetValue(_store);
        return (
            key is null ? services.GetService<SpectorStore>() : services.GetKeyedService<SpectorStore>(key)
        )?.Dialect;
    }
}
