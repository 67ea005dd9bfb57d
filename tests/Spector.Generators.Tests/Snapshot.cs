using System.Runtime.CompilerServices;
using System.Text.RegularExpressions;

namespace Spector.Generators.Tests;

/// <summary>
/// Snapshot checks with Verify's file conventions, so Verify.SourceGenerators can replace this later:
/// <c>Snapshots/{Fixture}.{Test}#{HintName}.verified.cs</c> is committed; on a mismatch the new text is
/// written beside it as <c>.received.cs</c> and the test fails. Set SPECTOR_ACCEPT_SNAPSHOTS=1 to accept.
/// </summary>
internal static partial class Snapshot
{
    public const string AcceptVariable = "SPECTOR_ACCEPT_SNAPSHOTS";

    public static void Verify(
        string actual,
        string hintName,
        string fixture,
        [CallerMemberName] string test = "",
        [CallerFilePath] string sourceFile = ""
    )
    {
        var directory = Path.Combine(Path.GetDirectoryName(sourceFile)!, "Snapshots");
        var stem = Path.Combine(directory, $"{fixture}.{test}#{Path.GetFileNameWithoutExtension(hintName)}");
        var verified = stem + ".verified.cs";
        var received = stem + ".received.cs";
        var scrubbed = GeneratorVersion().Replace(actual, "\"Spector.Generators\", \"{version}\"");

        if (Environment.GetEnvironmentVariable(AcceptVariable) == "1")
        {
            Directory.CreateDirectory(directory);
            File.WriteAllText(verified, scrubbed);
            File.Delete(received);
            return;
        }
        var expected = File.Exists(verified) ? File.ReadAllText(verified) : null;
        if (expected == scrubbed)
        {
            File.Delete(received);
            return;
        }
        File.WriteAllText(received, scrubbed);
        Assert.Fail(
            expected is null
                ? $"No snapshot yet: review {received} and accept it with {AcceptVariable}=1."
                : $"Generated source changed: compare {received} with {verified}; accept with {AcceptVariable}=1."
        );
    }

    [GeneratedRegex("\"Spector\\.Generators\", \"[0-9.]+\"")]
    private static partial Regex GeneratorVersion();
}
