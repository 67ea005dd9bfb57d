namespace Spector.Tests;

/// <summary>A handler that casts a key no property has: a programming error reported with the type and key.</summary>
[Evented]
public partial class Typo
{
    public Guid Id { get; set; }
    public string Name { get; set; } = "";

    static void Changeset(Changeset<Typo> c) => c.Cast("nmae");
}
