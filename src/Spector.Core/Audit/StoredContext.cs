namespace Spector;

/// <summary>
/// An event's context columns exactly as stored: what the hash envelope (version 2) covers and what chain
/// verification re-reads. Honest rows set both actor parts or neither; a row changed behind Spector's back may not.
/// </summary>
public readonly record struct StoredContext(
    string? ActorType,
    string? ActorId,
    string? CorrelationId,
    string? CausationId,
    string? Reason,
    string? TraceId,
    string? SpanId
)
{
    /// <summary>True when every column is null: the event is hashed with envelope version 1.</summary>
    public bool IsEmpty =>
        ActorType is null
        && ActorId is null
        && CorrelationId is null
        && CausationId is null
        && Reason is null
        && TraceId is null
        && SpanId is null;

    /// <summary>The columns a write stores for <paramref name="context"/>.</summary>
    public static StoredContext From(EventContext? context) =>
        context is null
            ? default
            : new(
                context.Actor?.Type,
                context.Actor?.Id,
                context.CorrelationId,
                context.CausationId,
                context.Reason,
                context.TraceId,
                context.SpanId
            );

    /// <summary>The actor, when both of its parts are stored.</summary>
    public Actor? Actor => ActorType is not null && ActorId is not null ? Actor.FromStored(ActorType, ActorId) : null;

    /// <summary>The members of the envelope's <c>context</c> object, sorted by name as RFC 8785 orders them; nulls
    /// left out.</summary>
    internal IEnumerable<(string Name, string Value)> EnvelopeMembers()
    {
        if (ActorId is not null)
            yield return ("actor_id", ActorId);
        if (ActorType is not null)
            yield return ("actor_type", ActorType);
        if (CausationId is not null)
            yield return ("causation_id", CausationId);
        if (CorrelationId is not null)
            yield return ("correlation_id", CorrelationId);
        if (Reason is not null)
            yield return ("reason", Reason);
        if (SpanId is not null)
            yield return ("span_id", SpanId);
        if (TraceId is not null)
            yield return ("trace_id", TraceId);
    }
}
