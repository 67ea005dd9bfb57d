using Spector;

namespace DocumentLinks;

/// <summary>What a link between two events of one document means; stored as the link row's integer type.</summary>
public enum DocLink
{
    Parent = 0,
    Sibling = 1,
    Reference = 2,
    Supersedes = 3,
}

/// <summary>Documents and one typed link table holding every kind of link between their events.</summary>
[EventsTable("document_events")]
[EventSchema(typeof(Document), 0)]
[EventLink("links", "document_links", "linked_id", Typed = true)]
public partial class DocumentEvents;

/// <summary>
/// A document with a table row. <c>revise</c> replaces the body and supersedes the previous revision;
/// <c>comment</c> remarks on one earlier revision and references it.
/// </summary>
[Evented(Table = "documents", Actions = ["revise", "comment"])]
public partial class Document
{
    public Guid Id { get; set; }
    public string Title { get; set; } = "";
    public string Body { get; set; } = "";
    public int Revision { get; set; }
    public int Comments { get; set; }

    static void Changeset(Changeset<Document> c)
    {
        c.Cast("title", "body").ValidateRequired("title");
        if (c.Action == "insert")
            c.Record.Revision = 1;
    }

    [OnAction("revise")]
    static void Revise(Changeset<Document> c, string body)
    {
        c.Record.Body = body;
        c.Record.Revision++;
    }

    [OnAction("comment")]
    static void Comment(Changeset<Document> c, Guid revisionEventId, string text)
    {
        if (string.IsNullOrWhiteSpace(text))
            c.AddError("text", "can't be blank");
        c.Record.Comments++;
    }

    /// <summary>A revision supersedes the latest earlier revision; a comment references the revision it is
    /// about.</summary>
    static void PrepareEvent(EventDraft draft, IReadOnlyList<StoredEvent> previous)
    {
        switch (draft.Action)
        {
            case "revise":
                draft.Link("links", previous.Last(e => e.Action is "insert" or "revise").Id, DocLink.Supersedes);
                break;
            case "comment":
                draft.Link("links", draft.Attrs["revision_event_id"]!.GetValue<Guid>(), DocLink.Reference);
                break;
        }
    }
}

/// <summary>Queries over the typed links.</summary>
public static class DocumentHistory
{
    /// <summary>The revision events that superseded <paramref name="revisionEventId"/> (normally one).</summary>
    public static Task<IReadOnlyList<StoredEvent>> SupersededByAsync(
        Guid revisionEventId,
        CancellationToken ct = default
    ) => DocumentEvents.Log.LinkingEventsAsync(revisionEventId, "links", (int)DocLink.Supersedes, ct);

    /// <summary>The comments that reference <paramref name="revisionEventId"/>.</summary>
    public static Task<IReadOnlyList<StoredEvent>> CommentsOnAsync(
        Guid revisionEventId,
        CancellationToken ct = default
    ) => DocumentEvents.Log.LinkingEventsAsync(revisionEventId, "links", (int)DocLink.Reference, ct);

    /// <summary>Every revision of a document, oldest first, found by following the supersedes links.</summary>
    public static async Task<IReadOnlyList<StoredEvent>> RevisionsAsync(Guid documentId, CancellationToken ct = default)
    {
        var revisions = new List<StoredEvent> { (await Document.AllEventsAsync(documentId, ct))[0] };
        while ((await SupersededByAsync(revisions[^1].Id, ct)) is [var next, ..])
            revisions.Add(next);
        return revisions;
    }
}
