namespace Spector;

/// <summary>
/// Marks a static handler for one custom action: <c>[OnAction("archive")] static void Archive(Changeset&lt;T&gt; c,
/// DateTimeOffset archivedAt)</c>. Parameters after the changeset become the typed parameters of the
/// generated <c>ArchiveAsync</c> method, are stored under their snake_case names, and are bound back from the
/// payload on replay.
/// </summary>
[AttributeUsage(AttributeTargets.Method, Inherited = false)]
public sealed class OnActionAttribute(string name) : Attribute
{
    /// <summary>The action name, one of the type's <see cref="EventedAttribute.Actions"/>.</summary>
    public string Name { get; } = name;
}

/// <summary>
/// Marks a static handler for events written with payload version <see cref="Version"/> (an upcaster), older
/// than the type's current <see cref="EventedAttribute.Version"/>.
/// </summary>
[AttributeUsage(AttributeTargets.Method, Inherited = false)]
public sealed class VersionIsAttribute(int version) : Attribute
{
    /// <summary>The payload version handled.</summary>
    public int Version { get; } = version;
}

/// <summary>Marks a static handler for events written with a payload version from <see cref="From"/> to <see
/// cref="To"/>, inclusive.</summary>
[AttributeUsage(AttributeTargets.Method, Inherited = false)]
public sealed class VersionInAttribute(int from, int to) : Attribute
{
    /// <summary>The lowest version handled.</summary>
    public int From { get; } = from;

    /// <summary>The highest version handled.</summary>
    public int To { get; } = to;
}

/// <summary>
/// Renames an action while keeping its stored code: <c>[ActionAlias("soft_delete", "archive")]</c> stores and
/// reads <c>soft_delete</c> under the code of <c>archive</c>, so events written before the rename replay
/// through the new name's handler.
/// </summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
public sealed class ActionAliasAttribute(string name, string storedAs) : Attribute
{
    /// <summary>The action's current name.</summary>
    public string Name { get; } = name;

    /// <summary>The earlier name whose stored code it keeps.</summary>
    public string StoredAs { get; } = storedAs;
}
