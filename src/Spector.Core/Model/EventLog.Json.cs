using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;

namespace Spector;

public sealed partial class EventLog
{
    /// <summary>
    /// The serializer options of this table's non-scalar values (lists, dictionaries, nested records, typed action
    /// parameters of such types): Spector's stored forms over the metadata given to <c>UseJson</c>. Generated code
    /// reads and writes through them, so a Native AOT app needs no reflection.
    /// </summary>
    public JsonSerializerOptions JsonOptions { get; internal set; } = StoredJsonOptions.Options;

    /// <summary>
    /// Gives this table the metadata of the app's types, e.g. a <see cref="JsonSerializerContext"/> that lists
    /// <c>List&lt;string&gt;</c> and the nested records its evented types store (required under Native AOT and
    /// trimming; elsewhere types it does not list fall back to reflection). Spector's own converters still decide
    /// the stored form of scalars (decimals as strings, UTC date-times), so stored history is the same either way.
    /// Set it once at start-up, before the first write or read.
    /// </summary>
    public void UseJson(IJsonTypeInfoResolver resolver) =>
        JsonOptions = StoredJsonOptions.Create(resolver ?? throw new ArgumentNullException(nameof(resolver)), []);

    /// <summary>
    /// As <see cref="UseJson(IJsonTypeInfoResolver)"/> from the app's options: their resolver, and their converters
    /// for types Spector has no stored form of its own for.
    /// </summary>
    public void UseJson(JsonSerializerOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var resolver =
            options.TypeInfoResolver
            ?? throw new ArgumentException(
                "The options have no TypeInfoResolver: set it to a JsonSerializerContext (e.g. MyJsonContext.Default).",
                nameof(options)
            );
        JsonOptions = StoredJsonOptions.Create(resolver, options.Converters);
    }

    /// <summary>
    /// A value as a payload attribute, written through this table's metadata, e.g.
    /// <c>["tags"] = AppEvents.Log.ToNode(tags)</c>: the form Native AOT apps use for lists and nested records.
    /// </summary>
    public JsonNode? ToNode<T>(T value) => AttrConvert.ToNode(value, JsonOptions);
}
