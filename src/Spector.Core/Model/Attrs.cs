using System.Collections;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Spector;

/// <summary>
/// The attributes of one event, keyed by their stored (snake_case) names. Build one with a collection
/// initializer: <c>new Attrs { ["name"] = "Ann", ["email"] = "ann@example.com" }</c>. Values are JSON
/// nodes, so strings, numbers, booleans, <see cref="Guid"/> and date values convert implicitly.
/// </summary>
public sealed class Attrs : IEnumerable<KeyValuePair<string, JsonNode?>>
{
    private static readonly JsonNodeOptions KeysAreOrdinal = new() { PropertyNameCaseInsensitive = false };

    // Attributes read from a stored payload keep the parsed element and build the JSON object only when
    // something asks for nodes: replay's Cast reads the element directly, which is most of replay's cost saved.
    private readonly JsonElement _stored;
    private JsonObject? _object;

    /// <summary>An empty set of attributes.</summary>
    public Attrs() => _object = new JsonObject(KeysAreOrdinal);

    private Attrs(JsonElement stored) => _stored = stored;

    private JsonObject Values => _object ??= JsonObject.Create(_stored, KeysAreOrdinal)!;

    /// <summary>True while the attributes are still the parsed payload, untouched by the node API.</summary>
    internal bool IsStored => _object is null;

    /// <summary>Reads a key of a still-stored payload without building nodes; call only when <see
    /// cref="IsStored"/>.</summary>
    internal bool TryGetStored(string key, out JsonElement value) => _stored.TryGetProperty(key, out value);

    /// <summary>One value of a still-stored payload as a node (null when absent or JSON null), leaving the rest
    /// unbuilt.</summary>
    internal JsonNode? StoredNode(string key) =>
        !_stored.TryGetProperty(key, out var value)
            ? null
            : value.ValueKind switch
            {
                JsonValueKind.Null => null,
                JsonValueKind.Object => JsonObject.Create(value, KeysAreOrdinal),
                JsonValueKind.Array => JsonArray.Create(value, KeysAreOrdinal),
                _ => JsonValue.Create(value, KeysAreOrdinal),
            };

    /// <summary>Gets or sets the value stored under <paramref name="key"/> (null when absent).</summary>
    public JsonNode? this[string key]
    {
        get => Values.TryGetPropertyValue(key, out var value) ? value : null;
        set => Values[key] = value;
    }

    /// <summary>Number of keys.</summary>
    public int Count => Values.Count;

    /// <summary>True when <paramref name="key"/> is present, even with a null value.</summary>
    public bool ContainsKey(string key) => IsStored ? _stored.TryGetProperty(key, out _) : Values.ContainsKey(key);

    /// <summary>Looks a key up; a present key with a JSON null yields true and a null value.</summary>
    public bool TryGetValue(string key, out JsonNode? value) => Values.TryGetPropertyValue(key, out value);

    /// <summary>Removes a key; returns whether it was present.</summary>
    public bool Remove(string key) => Values.Remove(key);

    /// <summary>
    /// Reads a key as <typeparamref name="T"/>, or <paramref name="fallback"/> when absent or null. Reads the stored
    /// forms: decimals and big integers stored as strings, date-times as UTC instants.
    /// </summary>
    public T Get<T>(string key, T fallback = default!) =>
        Values.TryGetPropertyValue(key, out var node) && node is not null ? AttrConvert.To<T>(node) : fallback;

    /// <summary>Upcasting helper: moves the value of <paramref name="from"/> to <paramref name="to"/> when
    /// present.</summary>
    public Attrs Rename(string from, string to)
    {
        if (Values.TryGetPropertyValue(from, out var node))
        {
            Values.Remove(from);
            Values[to] = node;
        }
        return this;
    }

    /// <summary>
    /// Upcasting helper: moves a value between nesting levels. Paths are dot-separated keys, so
    /// <c>Move("city", "address.city")</c> nests a flat key and <c>Move("address.city", "city")</c> flattens it;
    /// missing intermediate objects are created. Nothing happens when <paramref name="from"/> is absent.
    /// </summary>
    public Attrs Move(string from, string to)
    {
        var (sourceParent, sourceKey) = Walk(from, create: false);
        if (sourceParent is null || !sourceParent.TryGetPropertyValue(sourceKey, out var node))
            return this;
        sourceParent.Remove(sourceKey);
        var (targetParent, targetKey) = Walk(to, create: true);
        targetParent![targetKey] = node;
        return this;
    }

    private (JsonObject? Parent, string Key) Walk(string path, bool create)
    {
        var parts = path.Split('.');
        var current = Values;
        for (var i = 0; i < parts.Length - 1; i++)
        {
            if (current.TryGetPropertyValue(parts[i], out var next) && next is JsonObject child)
            {
                current = child;
            }
            else if (create)
            {
                var created = new JsonObject(KeysAreOrdinal);
                current[parts[i]] = created;
                current = created;
            }
            else
            {
                return (null, parts[^1]);
            }
        }
        return (current, parts[^1]);
    }

    /// <summary>Upcasting helper: sets <paramref name="key"/> only when it is absent.</summary>
    public Attrs Default(string key, JsonNode? value)
    {
        if (!Values.ContainsKey(key))
            Values[key] = value;
        return this;
    }

    /// <summary>Writes the attributes as one JSON object.</summary>
    public void WriteTo(Utf8JsonWriter writer) => Values.WriteTo(writer);

    /// <summary>The attributes as compact JSON text.</summary>
    public override string ToString() => Values.ToJsonString();

    /// <summary>Reads attributes from a stored JSON object.</summary>
    public static Attrs Parse(string json)
    {
        var element = JsonElement.Parse(json);
        return element.ValueKind == JsonValueKind.Object
            ? new Attrs(element)
            : throw new JsonException($"An event payload must be a JSON object, found {element.ValueKind}.");
    }

    /// <inheritdoc />
    public IEnumerator<KeyValuePair<string, JsonNode?>> GetEnumerator() => Values.GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    /// <summary>Collection-initializer support: <c>new Attrs { { "name", "Ann" } }</c>.</summary>
    public void Add(string key, JsonNode? value) => Values.Add(key, value);
}
