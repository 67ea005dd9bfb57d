using System.ComponentModel;
using System.Diagnostics;
using System.Text.RegularExpressions;

namespace Spector.Tests;

/// <summary>
/// The house style keeps lines under 120 characters, generated code included (the generator's snapshots are tracked
/// files). This reads every tracked source, project and Markdown file of the checkout and names each longer line as
/// path:line:length, so one long line fails the build.
/// </summary>
public sealed partial class SourceLineLengthTests
{
    private const int Limit = 120;

    private static readonly string[] CheckedExtensions = [".cs", ".md", ".csproj", ".props", ".sh"];

    [Test]
    public void No_tracked_source_or_markdown_line_is_longer_than_120_characters()
    {
        var root = RepositoryRoot.Path;
        var offenders = new List<string>();
        var checkedFiles = 0;
        foreach (var path in TrackedFiles(root).Where(IsChecked))
        {
            var full = Path.Combine(root, path);
            if (!File.Exists(full))
                continue;
            checkedFiles++;
            var lines = File.ReadAllText(full).Split('\n');
            for (var i = 0; i < lines.Length; i++)
            {
                var line = lines[i].TrimEnd('\r');
                if (IsTooLong(path, line))
                    offenders.Add($"{path}:{i + 1}:{Length(line)}");
            }
        }

        Assert.That(checkedFiles, Is.GreaterThan(100), "git ls-files listed the checkout's files");
        Assert.That(offenders, Is.Empty, $"lines over {Limit} characters:\n" + string.Join("\n", offenders));
    }

    [Test]
    public void The_check_counts_characters_and_exempts_only_markdown_tables_and_lone_urls()
    {
        var exactly = new string('x', Limit);
        var over = exactly + "x";
        Assert.That(IsTooLong("src/A.cs", exactly), Is.False);
        Assert.That(IsTooLong("src/A.cs", over), Is.True);
        Assert.That(IsTooLong("src/A.cs", "    // " + over), Is.True, "comments count");
        Assert.That(IsTooLong("src/A.cs", new string('é', Limit)), Is.False, "characters, not UTF-8 bytes");
        Assert.That(IsTooLong("src/A.cs", string.Concat(Enumerable.Repeat("🚀", Limit))), Is.False, "not UTF-16 units");
        Assert.That(IsTooLong("src/A.cs", string.Concat(Enumerable.Repeat("🚀", Limit + 1))), Is.True);

        Assert.That(IsTooLong("docs/a.md", "| " + over + " |"), Is.False, "a table row cannot wrap");
        Assert.That(IsTooLong("docs/a.md", "  https://example.com/" + over), Is.False, "a lone URL cannot wrap");
        Assert.That(IsTooLong("docs/a.md", "<https://example.com/" + over + ">"), Is.False);
        Assert.That(IsTooLong("src/AnalyzerReleases.Shipped.md", "; https://github.com/" + over), Is.False);
        Assert.That(IsTooLong("docs/a.md", over), Is.True);
        Assert.That(IsTooLong("docs/a.md", "See https://example.com/ " + over), Is.True, "prose around a URL wraps");
        Assert.That(IsTooLong("src/A.cs", "| " + over), Is.True, "tables are exempt in Markdown only");
        Assert.That(IsTooLong("src/A.cs", "https://example.com/" + over), Is.True);

        Assert.That(IsChecked("src/Spector.Core/A.cs"), Is.True);
        Assert.That(IsChecked("docs/rules/SPEC001.md"), Is.True);
        Assert.That(IsChecked("Directory.Packages.props"), Is.True);
        Assert.That(IsChecked("src/Spector/Spector.csproj"), Is.True);
        Assert.That(IsChecked(".ci/databases.sh"), Is.True);
        Assert.That(IsChecked("tests/Spector.Generators.Tests/Snapshots/A.g.verified.cs"), Is.True);
        Assert.That(IsChecked("src/A.json"), Is.False);
    }

    private static bool IsChecked(string path) =>
        CheckedExtensions.Any(e => path.EndsWith(e, StringComparison.Ordinal));

    private static bool IsTooLong(string path, string line)
    {
        if (Length(line) <= Limit)
            return false;
        if (!path.EndsWith(".md", StringComparison.Ordinal))
            return true;
        var text = line.Trim();
        return !text.StartsWith('|') && !LoneUrl().IsMatch(text);
    }

    /// <summary>Characters as a reader counts them: code points, so an emoji is one, not two UTF-16 units.</summary>
    private static int Length(string line) => line.EnumerateRunes().Count();

    // A lone URL, bare, in angle brackets or after the ';' that starts a comment in AnalyzerReleases.*.md.
    [GeneratedRegex(@"^(?:;\s*)?<?https?://\S+>?$")]
    private static partial Regex LoneUrl();

    private static IEnumerable<string> TrackedFiles(string root)
    {
        var start = new ProcessStartInfo("git", ["ls-files", "-z"])
        {
            WorkingDirectory = root,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        Process git;
        try
        {
            git = Process.Start(start)!;
        }
        catch (Win32Exception)
        {
            Assert.Ignore("git is not installed, so the tracked files cannot be listed");
            throw;
        }
        using (git)
        {
            var stderr = git.StandardError.ReadToEndAsync();
            var output = git.StandardOutput.ReadToEnd();
            git.WaitForExit();
            Assert.That(git.ExitCode, Is.Zero, $"git ls-files in {root}: {stderr.Result}");
            return output.Split('\0', StringSplitOptions.RemoveEmptyEntries);
        }
    }
}
