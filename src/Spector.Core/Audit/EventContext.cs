using System.Diagnostics;
using System.Text.Json.Nodes;

namespace Spector;

/// <summary>
/// Who, why and under which operation an event was written. Set it around writes with
/// <see cref="SpectorContext.Begin(Actor?, string?, string?, string?, JsonObject?)"/> (ambient, nestable) or per call
/// on a <see cref="SpectorSession"/>; a type's <c>PrepareEvent</c> hook may still change it through
/// <see cref="EventDraft.Context"/>. The actor, correlation, causation, trace and span ids and the reason are stored
/// in columns of their own (indexed where timelines query them); <see cref="Metadata"/> is merged into the event's
/// <c>metadata</c> JSON.
/// </summary>
public sealed record EventContext
{
    /// <summary>The longest correlation or causation id stored (characters).</summary>
    public const int MaxIdLength = 256;

    /// <summary>The longest reason stored (characters).</summary>
    public const int MaxReasonLength = 2000;

    /// <summary>No context at all.</summary>
    public static EventContext Empty { get; } = new();

    /// <summary>Who made the change.</summary>
    public Actor? Actor { get; init; }

    /// <summary>Groups every event of one operation (a request, a saga, a batch job).</summary>
    public string? CorrelationId
    {
        get;
        init => field = ContextText.Check(value, "correlation id", MaxIdLength, nameof(CorrelationId));
    }

    /// <summary>
    /// The event or message that caused this write: an event id (<see cref="Guid"/> text, see
    /// <see cref="SpectorContext.CausedBy(StoredEvent)"/>) or the id of a request or message. A GUID in any
    /// spelling (upper case, braces, no hyphens) is stored lowercase and hyphenated, the form event ids are
    /// matched in, so a causation chain finds it however it was written.
    /// </summary>
    public string? CausationId
    {
        get;
        init =>
            field = ContextText.CanonicalGuid(
                ContextText.Check(value, "causation id", MaxIdLength, nameof(CausationId))
            );
    }

    /// <summary>Why the change was made, in the user's words.</summary>
    public string? Reason
    {
        get;
        init => field = ContextText.Check(value, "reason", MaxReasonLength, nameof(Reason), allowLineBreaks: true);
    }

    /// <summary>The W3C trace id (32 lowercase hex digits); taken from <see cref="Activity.Current"/> when not
    /// set.</summary>
    public string? TraceId
    {
        get;
        init => field = ContextText.CheckHex(value, "trace id", 32, nameof(TraceId));
    }

    /// <summary>The W3C span id (16 lowercase hex digits); taken from <see cref="Activity.Current"/> when not
    /// set.</summary>
    public string? SpanId
    {
        get;
        init => field = ContextText.CheckHex(value, "span id", 16, nameof(SpanId));
    }

    /// <summary>Extra data merged into the event's <c>metadata</c> column (its keys win over none; the hook's over
    /// its). The context keeps its own copy: changing the object given here afterwards changes nothing
    /// stored.</summary>
    /// <exception cref="ArgumentException">A value or key cannot be stored (U+0000, a lone surrogate, a number JSON
    /// has no form for): refused here, as the other fields are, not at every write.</exception>
    public JsonObject? Metadata
    {
        get;
        init => field = CheckedCopy(value);
    }

    private static JsonObject? CheckedCopy(JsonObject? metadata)
    {
        if (metadata is null)
            return null;
        var copy = (JsonObject)metadata.DeepClone();
        try
        {
            StoredJson.Metadata(copy);
        }
        catch (UnstorableValueException e)
        {
            throw new ArgumentException(
                $"The context metadata cannot be stored: {e.Path} {e.Message}.",
                nameof(Metadata),
                e
            );
        }
        return copy;
    }

    /// <summary>True when no field is set.</summary>
    public bool IsEmpty =>
        Actor is null
        && CorrelationId is null
        && CausationId is null
        && Reason is null
        && TraceId is null
        && SpanId is null
        && Metadata is null;

    /// <summary>
    /// This context with every field <paramref name="inner"/> sets taken from it; metadata is merged key by key,
    /// <paramref name="inner"/>'s keys winning.
    /// </summary>
    public EventContext Overlay(EventContext? inner)
    {
        if (inner is null || ReferenceEquals(inner, this))
            return this;
        return new EventContext
        {
            Actor = inner.Actor ?? Actor,
            CorrelationId = inner.CorrelationId ?? CorrelationId,
            CausationId = inner.CausationId ?? CausationId,
            Reason = inner.Reason ?? Reason,
            TraceId = inner.TraceId ?? TraceId,
            SpanId = inner.SpanId ?? SpanId,
            Metadata = Merge(Metadata, inner.Metadata),
        };
    }

    /// <summary>
    /// The context a write stores now: the ambient scope, then <paramref name="perCall"/> over it, then the trace
    /// and span of <see cref="Activity.Current"/> where neither set them.
    /// </summary>
    internal static EventContext Capture(EventContext? perCall)
    {
        // A copy of the scope's metadata: a PrepareEvent hook editing draft.Context cannot edit the scope.
        var context = (SpectorContext.Current ?? Empty).Overlay(perCall);
        if (context.TraceId is not null || Activity.Current is not { IdFormat: ActivityIdFormat.W3C } activity)
            return context;
        return context with
        {
            TraceId = activity.TraceId.ToHexString(),
            SpanId = context.SpanId ?? activity.SpanId.ToHexString(),
        };
    }

    private static JsonObject? Merge(JsonObject? outer, JsonObject? inner)
    {
        if (outer is null)
            return inner;
        if (inner is null)
            return outer;
        var merged = (JsonObject)outer.DeepClone();
        foreach (var (key, value) in inner)
            merged[key] = value?.DeepClone();
        return merged;
    }
}
