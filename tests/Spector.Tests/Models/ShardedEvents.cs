namespace Spector.Tests;

/// <summary>
/// A hashed log sharded over two tables by the parity of the record id's last hex digit (the original's test
/// rule), with a link table per shard.
/// </summary>
[EventsTable("notes", Hashed = true, Shards = ["notes_even", "notes_odd"], ShardBy = nameof(Route))]
[EventSchema(typeof(ShardNote), 0)]
[EventLink("revises", "revisions", "previous_id")]
public partial class ShardedEvents
{
    /// <summary>Set by a test to make routing misbehave.</summary>
    internal static Func<Guid, string>? Misroute;

    private static string Route(Guid recordId) =>
        Misroute?.Invoke(recordId)
        ?? (Convert.ToInt32(recordId.ToString("N")[^1..], 16) % 2 == 0 ? "notes_even" : "notes_odd");
}

/// <summary>A note whose revisions link to the wording they replace.</summary>
[Evented(Table = "sharded_notes", Actions = ["revise"], SavepointEvery = 4)]
public partial class ShardNote
{
    public Guid Id { get; set; }
    public string Title { get; set; } = "";
    public string Body { get; set; } = "";
    public int Revisions { get; set; }

    static void Changeset(Changeset<ShardNote> c) => c.Cast("title", "body", "revisions").ValidateRequired("title");

    [OnAction("revise")]
    static void Revise(Changeset<ShardNote> c, string body)
    {
        c.Record.Body = body;
        c.Record.Revisions++;
    }

    static Attrs Savepoint(ShardNote n, int version) =>
        new()
        {
            ["title"] = n.Title,
            ["body"] = n.Body,
            ["revisions"] = n.Revisions,
        };

    static void PrepareEvent(EventDraft draft, IReadOnlyList<StoredEvent> previous)
    {
        if (draft.Action != "revise")
            return;
        var replaced = previous.Last(e => e.Action is "insert" or "revise");
        draft.Link("revises", replaced.Id);
    }
}
