namespace Spector.Generators.Model;

/// <summary>Stored action codes at compile time (see <see cref="Spector.Diagnostics.StoredActionCode"/>).</summary>
internal static class ActionCode
{
    public static int For(string name) => Spector.Diagnostics.StoredActionCode.For(name);

    /// <summary>The code an action is stored under: its alias target's when it was renamed.</summary>
    public static int Of(string action, EquatableArray<AliasEntry> aliases)
    {
        foreach (var alias in aliases)
            if (alias.Name == action)
                return For(alias.StoredAs);
        return For(action);
    }
}
