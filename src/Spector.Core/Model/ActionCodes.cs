using System.Text;

namespace Spector;

/// <summary>
/// Stable stored codes of custom actions. The code of a name is
/// <c>16 + (FNV-1a-32(UTF-8 bytes of the name) mod (2^31 - 17))</c>: deterministic across processes, machines
/// and versions, never in the range 0..15 kept for base actions, and computed at compile time by the generator
/// (which turns a collision within one events table into error SPEC012).
/// </summary>
public static class ActionCodes
{
    /// <summary>Codes below this are reserved for base actions (1 insert, 2 update, 3 delete, 4 savepoint).</summary>
    public const int FirstCustomCode = 16;

    /// <summary>The stored code of a custom action name.</summary>
    public static int For(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        var hash = 2166136261u;
        foreach (var b in Encoding.UTF8.GetBytes(name))
        {
            hash ^= b;
            hash *= 16777619u;
        }
        return FirstCustomCode + (int)(hash % (uint)(int.MaxValue - FirstCustomCode));
    }
}

/// <summary>One custom action of an events table: its stored code and current name.</summary>
/// <param name="Code">The stored code (of the alias target when the action was renamed).</param>
/// <param name="Name">The action's current name.</param>
public sealed record EventActionInfo(int Code, string Name);
