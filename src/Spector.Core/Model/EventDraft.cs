using System.Text.Json.Nodes;

namespace Spector;

/// <summary>
/// An event about to be appended, handed to the evented type's optional
/// <c>static void PrepareEvent(EventDraft draft, IReadOnlyList&lt;StoredEvent&gt; previous)</c> hook inside the
/// write transaction, after the handler accepted the change.
/// </summary>
public sealed class EventDraft
{
    private readonly EventLog _log;
    private readonly List<EventLinkRow> _links = [];

    internal EventDraft(EventLog log, Guid id, Guid recordId, string action, Attrs attrs)
    {
        _log = log;
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

    /// <summary>
    /// Free-form data stored in the event's <c>metadata</c> column; starts with the context's
    /// <see cref="EventContext.Metadata"/>.
    /// </summary>
    public JsonObject? Metadata { get; set; }

    /// <summary>
    /// The context stored with the event: the ambient scope's and the session's, with the current activity's trace.
    /// A hook may replace it (<c>draft.Context = draft.Context with { Reason = "..." }</c>); its metadata is not
    /// read again here, change <see cref="Metadata"/> for that.
    /// </summary>
    public EventContext Context
    {
        get;
        set => field = value ?? throw new ArgumentNullException(nameof(value));
    } = EventContext.Empty;

    /// <summary>The links added so far.</summary>
    public IReadOnlyList<EventLinkRow> Links => _links;

    /// <summary>Adds a typed link whose type is an enum value, stored as its integer.</summary>
    public EventDraft Link<TType>(string name, Guid target, TType type)
        where TType : struct, Enum =>
        Link(name, target, Convert.ToInt32(type, System.Globalization.CultureInfo.InvariantCulture));

    /// <summary>
    /// Links this event to an earlier event of the same record through the declared link <paramref name="name"/>.
    /// <paramref name="type"/> is required for typed links and refused for others.
    /// </summary>
    public EventDraft Link(string name, Guid target, int? type = null)
    {
        var link = _log.Link(name);
        if (link.Typed != type.HasValue)
            throw new ArgumentException(
                link.Typed
                    ? $"Link '{name}' of events table {_log.Table} is typed: pass a type."
                    : $"Link '{name}' of events table {_log.Table} is not typed: pass no type.",
                nameof(type)
            );
        if (target == Id)
            throw new ArgumentException($"Event {Id} cannot link to itself.", nameof(target));
        var row = new EventLinkRow(name, target, type);
        if (!_links.Contains(row))
            _links.Add(row);
        return this;
    }
}
