namespace Spector.Generators.Tests;

/// <summary>The repository checkout the tests run in, for tests that read its docs and samples.</summary>
internal static class RepoRoot
{
    public static string Path { get; } = Find();

    private static string Find()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(System.IO.Path.Combine(dir.FullName, "Spector.sln")))
                return dir.FullName;
        throw new InvalidOperationException("Spector.sln not found");
    }
}
