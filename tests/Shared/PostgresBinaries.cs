using System.Diagnostics;

namespace Spector.Testing;

/// <summary>
/// Where to look for the PostgreSQL server binaries (initdb, pg_ctl), in order: an explicit directory, the
/// PATH, <c>pg_config --bindir</c> (found on the PATH), then a distribution root holding one folder per
/// version with a <c>bin</c> inside (Debian and Ubuntu's <c>/usr/lib/postgresql</c>).
/// </summary>
/// <param name="BinDirectory">When set, the only place looked (from <see cref="BinDirectoryVariable"/>).</param>
/// <param name="PathVariable">A PATH value: directories separated by the platform's separator.</param>
/// <param name="DistributionRoot">The folder of per-version installations.</param>
public sealed record PostgresSearch(string? BinDirectory, string? PathVariable, string DistributionRoot)
{
    /// <summary>Names the directory of initdb and pg_ctl, for installations none of the other places reveal.</summary>
    public const string BinDirectoryVariable = "SPECTOR_TEST_PG_BIN";

    /// <summary>The search this process's environment describes.</summary>
    public static PostgresSearch FromEnvironment() =>
        new(
            NonEmpty(Environment.GetEnvironmentVariable(BinDirectoryVariable)),
            Environment.GetEnvironmentVariable("PATH"),
            "/usr/lib/postgresql"
        );

    private static string? NonEmpty(string? value) => string.IsNullOrWhiteSpace(value) ? null : value;
}

/// <summary>Finds the PostgreSQL server binaries a throwaway test cluster is started from.</summary>
public static class PostgresBinaries
{
    private static readonly string[] Required = ["initdb", "pg_ctl"];

    /// <summary>The first directory of <paramref name="search"/> holding initdb and pg_ctl, or null.</summary>
    /// <param name="searched">What was looked at, for the message that explains a miss.</param>
    public static string? Find(PostgresSearch search, out string searched)
    {
        if (search.BinDirectory is { } explicitDirectory)
        {
            searched = $"{PostgresSearch.BinDirectoryVariable}={explicitDirectory}";
            return HasServer(explicitDirectory) ? explicitDirectory : null;
        }
        searched = $"PATH, pg_config --bindir, {search.DistributionRoot}/*/bin";
        var onPath = PathDirectories(search.PathVariable).FirstOrDefault(HasServer);
        if (onPath is not null)
            return onPath;
        var fromPgConfig = PgConfigBinDirectory(search.PathVariable);
        if (fromPgConfig is not null && HasServer(fromPgConfig))
            return fromPgConfig;
        return NewestUnder(search.DistributionRoot);
    }

    private static bool HasServer(string directory) =>
        Required.All(program => File.Exists(Path.Combine(directory, program)));

    private static IEnumerable<string> PathDirectories(string? pathVariable) =>
        (pathVariable ?? "").Split(
            Path.PathSeparator,
            StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries
        );

    /// <summary>Runs the pg_config found on the PATH; null when there is none or it fails.</summary>
    private static string? PgConfigBinDirectory(string? pathVariable)
    {
        var pgConfig = PathDirectories(pathVariable)
            .Select(d => Path.Combine(d, "pg_config"))
            .FirstOrDefault(File.Exists);
        if (pgConfig is null)
            return null;
        try
        {
            var start = new ProcessStartInfo(pgConfig, "--bindir")
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
            };
            using var process = Process.Start(start);
            if (process is null)
                return null;
            var output = process.StandardOutput.ReadToEnd().Trim();
            process.WaitForExit();
            return process.ExitCode == 0 && output.Length > 0 ? output : null;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return null; // not executable: treated as absent
        }
    }

    /// <summary>The highest version's bin folder: "16" sorts above "9.6" by number, not text.</summary>
    private static string? NewestUnder(string root)
    {
        if (!Directory.Exists(root))
            return null;
        return Directory
            .GetDirectories(root)
            .Select(d => (Version: VersionOf(Path.GetFileName(d)), Bin: Path.Combine(d, "bin")))
            .Where(v => HasServer(v.Bin))
            .OrderByDescending(v => v.Version)
            .Select(v => v.Bin)
            .FirstOrDefault();
    }

    private static Version VersionOf(string name) =>
        Version.TryParse(name.Contains('.') ? name : name + ".0", out var version) ? version : new Version(0, 0);
}
