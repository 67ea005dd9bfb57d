namespace Spector.Tests;

/// <summary>The checkout the tests were built from, for tests that run its scripts or build its projects.</summary>
internal static class RepositoryRoot
{
    public static string Path { get; } = Find();

    private static string Find()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(System.IO.Path.Combine(dir.FullName, "Spector.sln")))
                return dir.FullName;
        throw new InvalidOperationException("Spector.sln not found above the test assembly.");
    }
}
