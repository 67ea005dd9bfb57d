using System.Text;

namespace Spector.Diagnostics;

/// <summary>
/// The compile-time copy of <c>Spector.ActionCodes.For</c>: 16 + FNV-1a-32(UTF-8 name) mod (2^31 - 17). Shared by the
/// generator and the analyzers; a test pins it to the runtime's, since stored events depend on them agreeing forever.
/// </summary>
internal static class StoredActionCode
{
    public static int For(string name)
    {
        var hash = 2166136261u;
        foreach (var b in Encoding.UTF8.GetBytes(name))
        {
            hash ^= b;
            hash *= 16777619u;
        }
        return 16 + (int)(hash % (uint)(int.MaxValue - 16));
    }
}
