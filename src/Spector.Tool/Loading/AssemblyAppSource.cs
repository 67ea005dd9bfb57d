using System.CommandLine;
using Microsoft.Data.Sqlite;
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

    /// <summary>Read when <c>--connection</c> is not given, so a password need not be on the command line (where
    /// other users of the machine can read it in the process list).</summary>
    public const string ConnectionVariable = "SPECTOR_CONNECTION";

    private readonly Option<string> _connection = new("--connection", "-c")
    {
        Description = $"The database's connection string (default: the {ConnectionVariable} environment variable).",
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
        var connection =
            parsed.GetValue(_connection)
            ?? (Environment.GetEnvironmentVariable(ConnectionVariable) is { Length: > 0 } variable ? variable : null);
        var dialect = Dialect(parsed);
        if (connection is null || dialect is null)
            return needsStore
                ? throw new SpectorToolException(
                    $"This command needs a database: pass --connection (or set {ConnectionVariable}) and --provider "
                        + "(sqlite or postgres)."
                )
                : null;
        try
        {
            return dialect == SqlDialect.Sqlite
                ? SpectorStore.Sqlite(needsStore ? ExistingSqliteFile(connection) : connection)
                : SpectorStore.Postgres(NpgsqlDataSource.Create(connection));
        }
        catch (ArgumentException)
        {
            // The drivers' messages quote the part they could not read, which may be the tail of a password.
            throw new SpectorToolException(
                "The connection string does not parse: check its keywords, and quote a value that contains ';' or "
                    + "'=' (Password='a;b')."
            );
        }
    }

    /// <summary>
    /// Commands that need a store read (or rebuild) an existing database: on a mistyped path SQLite would create an
    /// empty file, then fail with "no such table". Only <c>migrate</c> may create the file.
    /// </summary>
    private static string ExistingSqliteFile(string connection)
    {
        var builder = new SqliteConnectionStringBuilder(connection);
        if (builder.Mode is SqliteOpenMode.Memory || builder.DataSource is "" or ":memory:")
            return connection;
        // A file: URI is SQLite's to parse, so only ReadWrite guards it.
        var isUri = builder.DataSource.StartsWith("file:", StringComparison.OrdinalIgnoreCase);
        var path = isUri ? builder.DataSource : Path.GetFullPath(builder.DataSource);
        if (!isUri && !File.Exists(path))
            throw new SpectorToolException(
                $"No SQLite database at {path}: check the path, or run `spector migrate` to create it."
            );
        if (builder.Mode is SqliteOpenMode.ReadWriteCreate)
            builder.Mode = SqliteOpenMode.ReadWrite;
        return builder.ConnectionString;
    }
}
