namespace Spector.Tests;

/// <summary>
/// An embedded record with a price, for audit tests; its PrepareEvent hook signs an event in the name of
/// <c>signed_by</c> when the payload names one, overriding the ambient actor and adding to the reason.
/// </summary>
[Evented(Actions = ["reprice"])]
public partial class Memo
{
    public Guid Id { get; set; }
    public string Title { get; set; } = "";
    public decimal Price { get; set; }
    public Plan Plan { get; set; }
    public DateTimeOffset? DueAt { get; set; }
    public List<string> Tags { get; set; } = [];

    static void Changeset(Changeset<Memo> c) =>
        c.Cast("title", "price", "plan", "due_at", "tags").ValidateRequired("title");

    [OnAction("reprice")]
    static void Reprice(Changeset<Memo> c, decimal price) => c.Record.Price = price;

    static void PrepareEvent(EventDraft draft, IReadOnlyList<StoredEvent> previous)
    {
        if (draft.Attrs["signed_by"] is { } signer)
            draft.Context = draft.Context with
            {
                Actor = new Actor("signer", signer.GetValue<string>()),
                Reason = (draft.Context.Reason ?? "") + " (signed)",
            };
    }
}
