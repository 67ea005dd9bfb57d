using System.CommandLine;
using Npgsql;

namespace Spector.Tool;

/// <summary>The app as a built assembly: <c>spector verify --assembly bin/Release/net10.0/App.dll --provider postgres
/// --connection "..."</c>.</summary>
internal sealed class AssemblyAppSource : ISpectorAppSource
{
    private readonly Option<FileInfo> _assembly = new("--assembly", "-a")
    {
        Description = "The app's built assembly (its .deps.json beside it resolves its dependencies).",
        Required = true,
    };

    private readonly Option<string> _connection = new("--connection", "-c")
    {
        Description = "The database's connection string.",
    };

    private readonly Option<string> _provider = new("--provider")
    {
        Description = "The database kind: sqlite or postgres.",
    };

    public AssemblyAppSource() => _provider.AcceptOnlyFromAmong("sqlite", "postgres");

    public IReadOnlyList<Option> Options => [_assembly, _connection, _provider];

    public Task<SpectorApp> OpenAsync(ParseResult parsed, bool needsStore, CancellationToken cancellationToken)
    {
        var file = parsed.GetValue(_assembly)!;
        if (!file.Exists)
            throw new SpectorToolException($"No assembly at {file.FullName}: build the app first, then pass its .dll.");
        var assembly = new AppLoadContext(file.FullName).LoadFromAssemblyPath(file.FullName);
        var logs = EventsTableScanner.Logs(assembly);
        if (logs.Count == 0)
            throw new SpectorToolException(
                $"{file.Name} declares no events tables ([EventsTable] classes).",
                ExitCodes.NoEventsTables
            );
        var store = Store(parsed, needsStore);
        if (store is not null)
            foreach (var log in logs)
                log.Use(store);
        return Task.FromResult(
            new SpectorApp(
                store,
                logs,
                EventsTableScanner.Types(assembly),
                projectDirectory: SpectorApp.FindProjectDirectory(file.DirectoryName!)
            )
        );
    }

    public SqlDialect? Dialect(ParseResult parsed) =>
        parsed.GetValue(_provider) switch
        {
            "sqlite" => SqlDialect.Sqlite,
            "postgres" => SqlDialect.PostgreSql,
            _ => null,
        };

    private SpectorStore? Store(ParseResult parsed, bool needsStore)
    {
        var connection = parsed.GetValue(_connection);
        var dialect = Dialect(parsed);
        if (connection is null || dialect is null)
            return needsStore
                ? throw new SpectorToolException(
                    "This command needs a database: pass --connection and --provider (sqlite or postgres)."
                )
                : null;
        return dialect == SqlDialect.Sqlite
            ? SpectorStore.Sqlite(connection)
            : SpectorStore.Postgres(NpgsqlDataSource.Create(connection));
    }
}
