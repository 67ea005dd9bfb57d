using System.Text.Json;
using System.Text.Json.Serialization;

namespace Spector;

/// <summary>
/// One row of an events table. <see cref="Payload"/> and <see cref="Metadata"/> are JSON values, so a web API
/// that returns events writes them as JSON objects, not as strings holding JSON; the context the event was
/// written under (<see cref="EventContext"/>) comes as properties of its own.
/// </summary>
public sealed record StoredEvent
{
    private static readonly JsonSerializerOptions ReadOptions = CreateReadOptions();

    private static JsonSerializerOptions CreateReadOptions()
    {
        var options = new JsonSerializerOptions(JsonSerializerDefaults.Web)
        {
            // Spector stores decimals and long integers past 2^53 as strings so no digit is lost.
            NumberHandling = JsonNumberHandling.AllowReadingFromString,
            // Scalars always; other types by reflection where the app allows it (not under Native AOT).
            TypeInfoResolver = StoredJsonOptions.Resolver(null),
        };
        if (System.Runtime.CompilerServices.RuntimeFeature.IsDynamicCodeSupported)
            options.Converters.Add(new JsonStringEnumConverter());
        options.MakeReadOnly();
        return options;
    }

    // Parsed on first use (a list of events is often only counted or filtered); a reference holder, so a value
    // parsed on another thread is seen whole or not at all.
    private ParsedJson? _payload;
    private ParsedJson? _metadata;

    /// <summary>Built by Spector's readers.</summary>
    internal StoredEvent(
        Guid id,
        Guid parentId,
        long seq,
        long position,
        int schema,
        int actionCode,
        string? action,
        string payloadJson,
        string? metadataJson,
        DateTimeOffset insertedAt,
        StoredContext context = default
    )
    {
        Id = id;
        ParentId = parentId;
        Seq = seq;
        Position = position;
        Schema = schema;
        ActionCode = actionCode;
        Action = action;
        PayloadJson = payloadJson;
        MetadataJson = metadataJson;
        InsertedAt = insertedAt;
        StoredContext = context;
    }

    /// <summary>The event id (UUIDv7).</summary>
    public Guid Id { get; }

    /// <summary>The record the event belongs to.</summary>
    public Guid ParentId { get; }

    /// <summary>The event's number within its record, from 1.</summary>
    public long Seq { get; }

    /// <summary>The event's place in its table.</summary>
    public long Position { get; }

    /// <summary>The stable schema index of the record's type.</summary>
    public int Schema { get; }

    /// <summary>The stored action code.</summary>
    public int ActionCode { get; }

    /// <summary>The action's name, or null when the code is unknown to this events table.</summary>
    public string? Action { get; }

    /// <summary>When the event was appended (microsecond precision, UTC).</summary>
    public DateTimeOffset InsertedAt { get; }

    /// <summary>Who wrote it, when a context named an actor.</summary>
    public Actor? Actor => StoredContext.Actor;

    /// <summary>The operation it belongs to.</summary>
    public string? CorrelationId => StoredContext.CorrelationId;

    /// <summary>The event or message that caused it.</summary>
    public string? CausationId => StoredContext.CausationId;

    /// <summary>Why it was written.</summary>
    public string? Reason => StoredContext.Reason;

    /// <summary>The W3C trace id of the activity it was written in.</summary>
    public string? TraceId => StoredContext.TraceId;

    /// <summary>The W3C span id of the activity it was written in.</summary>
    public string? SpanId => StoredContext.SpanId;

    /// <summary>The context columns exactly as stored (what the hash covers).</summary>
    [JsonIgnore]
    public StoredContext StoredContext { get; }

    /// <summary>The payload as stored, as JSON text (what the hash covers).</summary>
    [JsonIgnore]
    public string PayloadJson { get; }

    /// <summary>The metadata as stored, as JSON text, or null.</summary>
    [JsonIgnore]
    public string? MetadataJson { get; }

    /// <summary>The payload: attributes plus <c>__version__</c>, <c>__event_id__</c> and the timestamps.</summary>
    public JsonElement Payload => (_payload ??= new ParsedJson(PayloadJson)).Value;

    /// <summary>The free-form metadata, or null.</summary>
    public JsonElement? Metadata => MetadataJson is null ? null : (_metadata ??= new ParsedJson(MetadataJson)).Value;

    /// <summary>The payload as attributes.</summary>
    public Attrs ReadAttrs() => Attrs.Parse(PayloadJson);

    /// <summary>Reads the payload key <paramref name="key"/> as <typeparamref name="T"/> (null when stored as
    /// null).</summary>
    /// <exception cref="KeyNotFoundException">The payload has no such key.</exception>
    /// <exception cref="InvalidCastException">The stored value is not a <typeparamref name="T"/>.</exception>
    public T? Get<T>(string key) =>
        TryGet<T>(key, out var value)
            ? value
            : throw new KeyNotFoundException($"Event {Id} (record {ParentId}, seq {Seq}) has no payload key '{key}'.");

    /// <summary>Reads the payload key <paramref name="key"/> as <typeparamref name="T"/>; false when it is
    /// absent.</summary>
    public bool TryGet<T>(string key, out T? value)
    {
        ArgumentNullException.ThrowIfNull(key);
        if (!Payload.TryGetProperty(key, out var element))
        {
            value = default;
            return false;
        }
        try
        {
            value = element.Deserialize(StoredJsonOptions.TypeInfo<T>(ReadOptions));
            return true;
        }
        catch (Exception e) when (e is JsonException or NotSupportedException or FormatException)
        {
            throw new InvalidCastException(
                $"Payload key '{key}' of event {Id} (record {ParentId}, seq {Seq}) holds {element.ValueKind} "
                    + $"{Shorten(element)}, "
                    + $"not a {typeof(T).Name}.",
                e
            );
        }
    }

    /// <summary>Events are equal when they are the same stored row.</summary>
    public bool Equals(StoredEvent? other) =>
        other is not null
        && Id == other.Id
        && Position == other.Position
        && Seq == other.Seq
        && ParentId == other.ParentId
        && PayloadJson == other.PayloadJson
        && MetadataJson == other.MetadataJson
        && InsertedAt == other.InsertedAt
        && StoredContext == other.StoredContext;

    /// <inheritdoc />
    public override int GetHashCode() => HashCode.Combine(Id, Position, Seq);

    private sealed class ParsedJson(string json)
    {
        public JsonElement Value { get; } = JsonElement.Parse(json);
    }

    private static string Shorten(JsonElement element)
    {
        var text = element.GetRawText();
        return text.Length <= 60 ? text : text[..60] + "...";
    }
}
