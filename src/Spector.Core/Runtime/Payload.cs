using System.Buffers;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace Spector;

/// <summary>Builds the stored payload of a new event: the caller's attributes plus Spector's reserved keys.</summary>
internal static class Payload
{
    public const string VersionKey = "__version__";
    public const string EventIdKey = "__event_id__";
    public const string InsertedAtKey = "inserted_at";
    public const string UpdatedAtKey = "updated_at";

    // Non-ASCII text is stored as is, not as \u escapes: the payload stays readable in the database.
    internal static readonly JsonWriterOptions WriterOptions = new()
    {
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    /// <summary>
    /// Returns the payload JSON, each value in its stored form (<see cref="StoredJson"/>); a value with none throws
    /// <see cref="UnstorableValueException"/>. Insert puts <c>inserted_at</c> and <c>updated_at</c> only when absent
    /// (so
    /// imports keep original times); other actions always overwrite <c>updated_at</c>.
    /// </summary>
    public static string Build(Attrs? attrs, int version, Guid eventId, DateTimeOffset now, int action)
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        using (var writer = new Utf8JsonWriter(buffer, WriterOptions))
        {
            writer.WriteStartObject();
            writer.WriteNumber(VersionKey, version);
            writer.WriteString(EventIdKey, eventId);
            var stamp = AttrConvert.FormatTimestamp(now);
            if (action == EventActions.Insert)
            {
                if (attrs?.ContainsKey(InsertedAtKey) != true)
                    writer.WriteString(InsertedAtKey, stamp);
                if (attrs?.ContainsKey(UpdatedAtKey) != true)
                    writer.WriteString(UpdatedAtKey, stamp);
            }
            else if (action is not (EventActions.Delete or EventActions.Savepoint))
            {
                writer.WriteString(UpdatedAtKey, stamp);
            }
            if (attrs is not null)
            {
                foreach (var (key, value) in attrs)
                {
                    if (action is not (EventActions.Insert or EventActions.Savepoint) && key == UpdatedAtKey)
                        continue;
                    writer.WritePropertyName(key);
                    StoredJson.WriteAttr(writer, key, value);
                }
            }
            writer.WriteEndObject();
        }
        return System.Text.Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    /// <summary>
    /// True when a stored payload holds exactly the attributes <paramref name="attrs"/> would store under
    /// <paramref name="action"/> (the stamping rule of <see cref="Build"/>), compared in RFC 8785 form: Spector's
    /// reserved keys and the timestamps it stamped are not the caller's and do not count.
    /// </summary>
    public static bool SameAttrs(Attrs? attrs, string storedPayload, int action)
    {
        var given = Callers(Build(attrs, 0, Guid.Empty, DateTimeOffset.UnixEpoch, action));
        var stored = Callers(storedPayload);
        return Jcs.Canonicalize(given).AsSpan().SequenceEqual(Jcs.Canonicalize(stored));

        string Callers(string payload)
        {
            var node = System.Text.Json.Nodes.JsonNode.Parse(payload)!.AsObject();
            foreach (var key in node.Select(p => p.Key).Where(Stamped).ToList())
                node.Remove(key);
            return node.ToJsonString();
        }

        bool Stamped(string key) =>
            key.StartsWith("__", StringComparison.Ordinal)
            || (
                action == EventActions.Insert
                    ? key is InsertedAtKey or UpdatedAtKey && attrs?.ContainsKey(key) != true
                    : key == UpdatedAtKey && action is not EventActions.Savepoint
            );
    }

    /// <summary>The first reserved key the caller tried to set, or null. Keys starting with "__" belong to
    /// Spector.</summary>
    public static string? ReservedKeyIn(Attrs? attrs)
    {
        if (attrs is null)
            return null;
        foreach (var (key, _) in attrs)
            if (key.StartsWith("__", StringComparison.Ordinal))
                return key;
        return null;
    }

    /// <summary>The payload's <c>__version__</c>; payloads written without one count as version 0.</summary>
    public static int VersionOf(Attrs attrs)
    {
        if (attrs.IsStored)
            return attrs.TryGetStored(VersionKey, out var stored) && stored.ValueKind != JsonValueKind.Null
                ? stored.GetInt32()
                : 0;
        return attrs.TryGetValue(VersionKey, out var node) && node is not null ? node.GetValue<int>() : 0;
    }
}

/// <summary>Event time: UTC, truncated to the microsecond both databases store.</summary>
internal static class Clock
{
    public static DateTimeOffset UtcNow()
    {
        var ticks = DateTimeOffset.UtcNow.UtcTicks;
        return new DateTimeOffset(ticks - ticks % 10, TimeSpan.Zero);
    }
}
