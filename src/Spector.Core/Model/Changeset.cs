using System.Text.Json;
using System.Text.Json.Nodes;

namespace Spector;

/// <summary>
/// One event being applied to a record: the record rebuilt so far, the event's action, payload version,
/// id and attributes, and the validation errors a new write collected. Handlers receive it both when a new
/// event is written and when stored events are replayed.
/// </summary>
public sealed class Changeset<T>
    where T : class
{
    private readonly EventedType<T> _type;
    private Dictionary<string, List<string>>? _errors;

    internal Changeset(
        EventedType<T> type,
        T record,
        string action,
        int version,
        Guid eventId,
        Attrs attrs,
        bool isReplay
    )
    {
        _type = type;
        Record = record;
        Action = action;
        Version = version;
        EventId = eventId;
        Attrs = attrs;
        IsReplay = isReplay;
    }

    /// <summary>The record the event applies to; handlers may set its properties directly.</summary>
    public T Record { get; }

    /// <summary>The event's action: <c>insert</c>, <c>update</c>, <c>delete</c> or a custom action name.</summary>
    public string Action { get; }

    /// <summary>The payload version the event was written with (<c>__version__</c>).</summary>
    public int Version { get; }

    /// <summary>The id of the event being applied.</summary>
    public Guid EventId { get; }

    /// <summary>The event's attributes, keyed as stored.</summary>
    public Attrs Attrs { get; }

    /// <summary>
    /// True while stored events are replayed. Replay never rejects a stored event, so validation helpers
    /// do nothing then.
    /// </summary>
    public bool IsReplay { get; }

    /// <summary>
    /// Gives a child item created by this event the event's id, so an embedded list (chat messages, order lines)
    /// has ids that point at the events that created them, identical on every replay.
    /// </summary>
    public TItem PutEventId<TItem>(TItem item)
        where TItem : IEventItem
    {
        ArgumentNullException.ThrowIfNull(item);
        item.Id = EventId;
        return item;
    }

    /// <summary>True when no errors were added.</summary>
    public bool IsValid => _errors is null;

    /// <summary>Validation errors by attribute key.</summary>
    public IReadOnlyDictionary<string, IReadOnlyList<string>> Errors =>
        _errors?.ToDictionary(e => e.Key, e => (IReadOnlyList<string>)e.Value.AsReadOnly()) ?? [];

    /// <summary>
    /// Copies the listed payload keys that are present onto the record's properties through generated
    /// setters. A key whose value does not convert to the property's type is a validation error on a new
    /// write and an <see cref="EventReplayException"/> on replay.
    /// </summary>
    public Changeset<T> Cast(params ReadOnlySpan<string> keys)
    {
        if (Attrs.IsStored)
        {
            // A payload read from the database: convert straight from the parsed JSON, no nodes built.
            foreach (var key in keys)
            {
                if (!Attrs.TryGetStored(key, out var stored))
                    continue;
                Set(key, null, stored, fromStored: true);
            }
            return this;
        }
        foreach (var key in keys)
        {
            if (!Attrs.TryGetValue(key, out var value))
                continue;
            Set(key, value);
        }
        return this;
    }

    /// <summary>Sets one property by its stored key, converting <paramref name="value"/> to its type.</summary>
    public Changeset<T> Put(string key, JsonNode? value)
    {
        Set(key, value);
        return this;
    }

    /// <summary>
    /// Reads a typed handler parameter from the payload; called by the generated dispatcher. A missing or
    /// unconvertible value in a stored event becomes an <see cref="EventReplayException"/> naming the event.
    /// </summary>
    [System.ComponentModel.EditorBrowsable(System.ComponentModel.EditorBrowsableState.Never)]
    public TValue Param<TValue>(string key, Func<JsonNode?, TValue> convert)
    {
        try
        {
            return convert(Attrs.IsStored ? Attrs.StoredNode(key) : Attrs[key]);
        }
        catch (Exception e)
            when (e
                    is FormatException
                        or InvalidOperationException
                        or OverflowException
                        or System.Text.Json.JsonException
            )
        {
            // A new write is refused as any invalid value is; a stored event becomes a replay error naming it.
            if (!IsReplay)
                throw new ChangesetInvalidException(
                    _type.Name,
                    Action,
                    _type.Log.Table,
                    _type.IdOf(Record),
                    EventId,
                    new Dictionary<string, IReadOnlyList<string>> { [key] = [$"is invalid: {e.Message}"] }
                );
            throw new AttrConversionException(key, e);
        }
    }

    /// <summary>Adds an error for each listed key whose property is null, or an empty or blank string.</summary>
    public Changeset<T> ValidateRequired(params ReadOnlySpan<string> keys)
    {
        if (IsReplay)
            return this;
        foreach (var key in keys)
        {
            if (!_type.TryGetAttr(Record, key, out var value))
                throw UnknownKey(key);
            if (value is null || value is string s && string.IsNullOrWhiteSpace(s))
                AddError(key, "can't be blank");
        }
        return this;
    }

    /// <summary>Records a validation error; the write is refused and nothing is stored.</summary>
    public Changeset<T> AddError(string key, string message)
    {
        if (IsReplay)
            return this;
        _errors ??= new(StringComparer.Ordinal);
        if (!_errors.TryGetValue(key, out var list))
            _errors[key] = list = [];
        list.Add(message);
        return this;
    }

    private void Set(string key, JsonNode? value, JsonElement stored = default, bool fromStored = false)
    {
        bool known;
        try
        {
            known = fromStored ? _type.TrySetAttr(Record, key, stored) : _type.TrySetAttr(Record, key, value);
        }
        catch (Exception e)
            when (e
                    is FormatException
                        or InvalidOperationException
                        or OverflowException
                        or System.Text.Json.JsonException
            )
        {
            if (IsReplay)
                throw new AttrConversionException(key, e);
            AddError(key, $"is invalid: {e.Message}");
            return;
        }
        if (!known)
            throw UnknownKey(key);
    }

    private InvalidOperationException UnknownKey(string key) =>
        new(
            $"{_type.Name} has no property stored under the key '{key}'. "
                + "Keys are the snake_case names of its public settable properties."
        );
}

/// <summary>A stored value that does not convert to its property's type; replay turns it into <see
/// cref="EventReplayException"/>.</summary>
internal sealed class AttrConversionException(string key, Exception inner)
    : Exception($"attribute '{key}' {inner.Message}", inner)
{
    public string Key { get; } = key;
}

/// <summary>A child item of an embedded list whose id is the id of the event that created it.</summary>
public interface IEventItem
{
    /// <summary>The id of the creating event.</summary>
    Guid Id { get; set; }
}
