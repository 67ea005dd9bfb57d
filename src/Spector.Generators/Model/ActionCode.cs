using System.Text;

namespace Spector.Generators.Model;

/// <summary>
/// The generator's copy of <c>Spector.ActionCodes.For</c>: 16 + FNV-1a-32(UTF-8 name) mod (2^31 - 16).
/// A test pins the two together; stored events depend on both agreeing forever.
/// </summary>
internal static class ActionCode
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

    /// <summary>The code an action is stored under: its alias target's when it was renamed.</summary>
    public static int Of(string action, EquatableArray<AliasEntry> aliases)
    {
        foreach (var alias in aliases)
            if (alias.Name == action) return For(alias.StoredAs);
        return For(action);
    }
}
