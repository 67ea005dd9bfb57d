namespace Spector.Tool;

/// <summary>
/// What a command works on: one store, the app's events tables (each made to use that store by default for the
/// command's run) and evented types, its followers, and where its project lives (for <c>lock</c>).
/// </summary>
public sealed class SpectorApp
{
    /// <summary>Gathers the parts; <paramref name="types"/> may hold types of other tables, which are left
    /// out.</summary>
    public SpectorApp(
        SpectorStore? store,
        IReadOnlyList<EventLog> logs,
        IReadOnlyList<EventedTypeHandle> types,
        IReadOnlyList<Follower>? followers = null,
        string? projectDirectory = null
    )
    {
        Store = store;
        Logs = logs;
        Types = types.Where(t => logs.Contains(t.Log)).ToList();
        Followers = followers ?? [];
        ProjectDirectory = projectDirectory;
    }

    /// <summary>The database; null when the command was given none (only <c>migrate --script</c> and <c>lock</c> need
    /// none).</summary>
    public SpectorStore? Store { get; }

    /// <summary>The events tables, ordered by name.</summary>
    public IReadOnlyList<EventLog> Logs { get; }

    /// <summary>The evented types of those tables.</summary>
    public IReadOnlyList<EventedTypeHandle> Types { get; }

    /// <summary>The followers the app registered.</summary>
    public IReadOnlyList<Follower> Followers { get; }

    /// <summary>The folder of the app's project file, when known.</summary>
    public string? ProjectDirectory { get; }

    /// <summary>The folder of the nearest project file at or above <paramref name="directory"/> (a build output folder,
    /// say), or null.</summary>
    public static string? FindProjectDirectory(string directory)
    {
        for (var current = new DirectoryInfo(directory); current is not null; current = current.Parent)
            if (current.GetFiles("*.csproj").Length > 0)
                return current.FullName;
        return null;
    }

    /// <summary>The store, or a clear error for a command that needs a database.</summary>
    public SpectorStore RequireStore() =>
        Store
        ?? throw new SpectorToolException(
            "This command needs a database: pass --connection and --provider (sqlite or postgres)."
        );
}

/// <summary>A problem the tool reports in one line and exits with <see cref="ExitCodes.Error"/> (or the code
/// given).</summary>
public sealed class SpectorToolException(string message, int exitCode = ExitCodes.Error) : Exception(message)
{
    /// <summary>The exit code to leave with.</summary>
    public int ExitCode { get; } = exitCode;
}
