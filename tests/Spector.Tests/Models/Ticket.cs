using System.Text.Json.Nodes;

namespace Spector.Tests;

/// <summary>Uses the optional hooks: event metadata from PrepareEvent, a derived column from
/// PrepareMaterialization.</summary>
[Evented(Table = "tickets")]
public partial class Ticket
{
    /// <summary>Who is acting; a real application would take it from its request context.</summary>
    public static string Actor { get; set; } = "system";

    public Guid Id { get; set; }
    public string Title { get; set; } = "";
    public string Slug { get; set; } = "";

    static void Changeset(Changeset<Ticket> c) => c.Cast("title").ValidateRequired("title");

    static void PrepareEvent(EventDraft draft, IReadOnlyList<StoredEvent> previous) =>
        draft.Metadata = new JsonObject
        {
            ["actor"] = Actor,
            ["previous_events"] = previous.Count,
            ["action"] = draft.Action,
        };

    static void PrepareMaterialization(Changeset<Ticket> c)
    {
        c.Record.Slug = c.Record.Title.ToLowerInvariant().Replace(' ', '-');
        if (c.Record.Slug.Length > 20)
            c.AddError("title", "is too long for a slug");
    }

    static Attrs Savepoint(Ticket record, int version) => new() { ["title"] = record.Title };
}
