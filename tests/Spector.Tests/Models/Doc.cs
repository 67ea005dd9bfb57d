using System.Text.Json.Nodes;

namespace Spector.Tests;

/// <summary>
/// A type with history. Version 0 payloads called the name "title"; version 1 publish events said "where"
/// instead of "channel"; "publish" was once named "release" (see the alias on <see cref="AppEvents"/>).
/// </summary>
[Evented(Version = 2, Table = "docs", Actions = ["publish"])]
public partial class Doc
{
    public Guid Id { get; set; }
    public string Name { get; set; } = "";
    public string? Channel { get; set; }
    public int Priority { get; set; }
    public int Revisions { get; set; }
    public string Handled { get; set; } = "";

    static void Changeset(Changeset<Doc> c)
    {
        c.Cast("name").ValidateRequired("name");
        c.Record.Revisions++;
        c.Record.Handled += $"default:v{c.Version};";
    }

    [VersionIs(0)]
    static void FromV0(Changeset<Doc> c)
    {
        c.Attrs.Rename("title", "name");
        Changeset(c);
        c.Record.Handled += "upcast0;";
    }

    [VersionIn(1, 1)]
    static void FromV1(Changeset<Doc> c)
    {
        Changeset(c);
        c.Record.Handled += "upcast1;";
    }

    [OnAction("publish")]
    static void Publish(Changeset<Doc> c, string channel, int? priority)
    {
        c.Record.Channel = channel;
        c.Record.Priority = priority ?? 0;
        c.Record.Handled += "publish;";
    }

    // Without it, FromV0 and Publish could both claim a version-0 publish (SPEC028): version 0 publishes
    // carried a title like every other version-0 payload.
    [OnAction("publish")]
    [VersionIs(0)]
    static void PublishV0(Changeset<Doc> c) => FromV0(c);

    [OnAction("publish")]
    [VersionIs(1)]
    static void PublishV1(Changeset<Doc> c)
    {
        c.Record.Channel = c.Attrs["where"]?.GetValue<string>();
        c.Record.Handled += "publish1;";
    }
}
