using System.CommandLine;

namespace Spector.Tool;

/// <summary>
/// Where the commands find the app: a built assembly the tool loads (<c>--assembly</c>, <c>--connection</c>,
/// <c>--provider</c>), or the running app's container (<c>dotnet run -- spector ...</c>).
/// </summary>
public interface ISpectorAppSource
{
    /// <summary>The options this source reads, added to every command.</summary>
    IReadOnlyList<Option> Options { get; }

    /// <summary>
    /// The app's events tables and store. <paramref name="needsStore"/> false lets a command run without a
    /// database (the store is null then if none was given).
    /// </summary>
    Task<SpectorApp> OpenAsync(ParseResult parsed, bool needsStore, CancellationToken cancellationToken);

    /// <summary>The database kind, from the options or the app's store, for commands that need no connection.</summary>
    SqlDialect? Dialect(ParseResult parsed);
}
