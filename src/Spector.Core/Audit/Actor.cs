namespace Spector;

/// <summary>Who made a change: a kind of principal (<c>user</c>, <c>service</c>, <c>job</c>...) and its id.</summary>
public sealed record Actor
{
    /// <summary>The longest actor type stored (characters).</summary>
    public const int MaxTypeLength = 64;

    /// <summary>The longest actor id stored (characters).</summary>
    public const int MaxIdLength = 256;

    /// <summary>Creates an actor; both parts are required and refused when too long or not storable text.</summary>
    /// <exception cref="ArgumentException">A part is empty, too long, or holds a control character or a lone
    /// surrogate.</exception>
    public Actor(string type, string id)
    {
        Type = ContextText.Require(type, "actor type", MaxTypeLength, nameof(type));
        Id = ContextText.Require(id, "actor id", MaxIdLength, nameof(id));
    }

    private Actor(string type, string id, bool stored) => (Type, Id) = (type, id);

    /// <summary>An actor read back from the database: stored text is shown as it is, not judged again.</summary>
    internal static Actor FromStored(string type, string id) => new(type, id, stored: true);

    /// <summary>The kind of principal, e.g. <c>user</c>.</summary>
    public string Type { get; }

    /// <summary>The principal's id within its type.</summary>
    public string Id { get; }

    /// <inheritdoc />
    public override string ToString() => $"{Type}:{Id}";
}
