namespace Spector;

/// <summary>
/// Which events a timeline shows: every filter set here must hold (none set: the whole table). Each filter is
/// served by an index that ends in <c>position</c> (docs/audit-trail.md shows the plans).
/// </summary>
public sealed record TimelineQuery
{
    /// <summary>Only events written by this actor.</summary>
    public Actor? Actor { get; init; }

    /// <summary>Only events of this operation.</summary>
    public string? CorrelationId
    {
        get;
        init => field = ContextText.Check(value, "correlation id", EventContext.MaxIdLength, nameof(CorrelationId));
    }

    /// <summary>
    /// Only the causation chain of this id: the event with this id (when it is an event id) and every event it
    /// caused, transitively (events whose causation id is the root or an event of the chain). An id nothing
    /// points at gives an empty timeline. Event ids are matched in their lowercase hyphenated form.
    /// </summary>
    public string? CausedBy
    {
        get;
        init => field = ContextText.Check(value, "causation id", EventContext.MaxIdLength, nameof(CausedBy));
    }

    /// <summary>Only events written in this W3C trace.</summary>
    public string? TraceId
    {
        get;
        init => field = ContextText.CheckHex(value, "trace id", 32, nameof(TraceId));
    }

    /// <summary>Only events of this record.</summary>
    public Guid? RecordId { get; init; }

    /// <summary>Only events of this schema index (one evented type).</summary>
    public int? Schema { get; init; }

    /// <summary>Only events of this action (by name: <c>insert</c>, <c>update</c>, <c>delete</c>, <c>savepoint</c> or
    /// a custom action).</summary>
    public string? Action { get; init; }

    /// <summary>Only events stored at or after this instant.</summary>
    public DateTimeOffset? From { get; init; }

    /// <summary>Only events stored before this instant.</summary>
    public DateTimeOffset? To { get; init; }

    /// <summary>Newest first (the default) or oldest first, in the table's position order.</summary>
    public bool NewestFirst { get; init; } = true;
}

/// <summary>One page of a timeline.</summary>
/// <param name="Events">The events, in the timeline's order.</param>
/// <param name="NextCursor">Pass it back for the next page; null when this page is the last.</param>
public sealed record TimelinePage(IReadOnlyList<StoredEvent> Events, string? NextCursor);
