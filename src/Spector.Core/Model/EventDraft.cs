using System.Text.Json.Nodes;

namespace Spector;

/// <summary>
/// An event about to be appended, handed to the evented type's optional
/// <c>static void PrepareEvent(EventDraft draft, IReadOnlyList&lt;StoredEvent&gt; previous)</c> hook inside the
/// write transaction, after the handler accepted the change.
/// </summary>
public sealed class EventDraft
{
    internal EventDraft(Guid id, Guid recordId, string action, Attrs attrs)
    {
        Id = id;
        RecordId = recordId;
        Action = action;
        Attrs = attrs;
    }

    /// <summary>The new event's id.</summary>
    public Guid Id { get; }

    /// <summary>The record it belongs to.</summary>
    public Guid RecordId { get; }

    /// <summary>The action being stored.</summary>
    public string Action { get; }

    /// <summary>The payload as it will be stored (a copy: changing it changes nothing).</summary>
    public Attrs Attrs { get; }

    /// <summary>Free-form data stored in the event's <c>metadata</c> column: actor, trace id, causation.</summary>
    public JsonObject? Metadata { get; set; }
}
