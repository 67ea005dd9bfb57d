using System.Globalization;
using System.Numerics;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Spector;

/// <summary>
/// The one form in which a payload value is stored (README, "What is stored for each .NET type"): the same on
/// both databases, replayed bit for bit, and seen in full by the hash. Numbers a double cannot hold exactly are
/// written as strings (RFC 8785 hashes numbers as doubles), date-times as UTC instants. A value with no such
/// form is refused with a reason that names where it sits; nothing is written then.
/// </summary>
internal static class StoredJson
{
    /// <summary>Deepest nesting of a payload: System.Text.Json's reader default, which replay and verification
    /// use.</summary>
    public const int MaxDepth = 64;

    /// <summary>
    /// 2^53 - 1, the largest integer no other integer shares a double with (2^53 + 1 parses to 2^53): past it an
    /// integer is stored as a string of its digits.
    /// </summary>
    private const long MaxExactInteger = 9_007_199_254_740_991;

    /// <summary>Writes one top-level attribute value (depth 2 of the payload) in its stored form.</summary>
    public static void WriteAttr(Utf8JsonWriter writer, string key, JsonNode? value) =>
        Node(writer, value, key, depth: 2);

    /// <summary>The first attribute that cannot be stored, or null: checked before a write begins.</summary>
    public static UnstorableValueException? Check(Attrs? attrs)
    {
        if (attrs is null)
            return null;
        try
        {
            foreach (var (key, value) in attrs)
            {
                Text(key, key, "key");
                Node(null, value, key, depth: 2);
            }
            return null;
        }
        catch (UnstorableValueException e)
        {
            return e;
        }
    }

    /// <summary>
    /// An event's metadata in stored form: checked like a payload (no U+0000, no lone surrogates, finite numbers),
    /// and refused naming <c>metadata.key</c>.
    /// </summary>
    public static string Metadata(JsonObject metadata)
    {
        var buffer = new System.Buffers.ArrayBufferWriter<byte>(64);
        using (var writer = new Utf8JsonWriter(buffer, Payload.WriterOptions))
            Node(writer, metadata, "metadata", depth: 1);
        return System.Text.Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    /// <summary>A node in its stored form, parsed (for conversions of values a handler set itself).</summary>
    public static JsonElement ToElement(JsonNode node)
    {
        var buffer = new System.Buffers.ArrayBufferWriter<byte>(64);
        using (var writer = new Utf8JsonWriter(buffer, Payload.WriterOptions))
            Node(writer, node, "value", depth: 1);
        return JsonElement.Parse(buffer.WrittenSpan);
    }

    private static void Node(Utf8JsonWriter? writer, JsonNode? node, string path, int depth)
    {
        switch (node)
        {
            case null:
                writer?.WriteNullValue();
                return;
            case JsonObject obj:
                Nesting(path, depth);
                if (HasDuplicateKeys(obj, path))
                {
                    // A parsed object with a key twice: its element names the duplicate.
                    Element(writer, JsonElement.Parse(obj.ToJsonString()), path, depth);
                    return;
                }
                writer?.WriteStartObject();
                foreach (var (key, value) in obj)
                {
                    var at = path + "." + key;
                    Text(key, at, "key");
                    writer?.WritePropertyName(key);
                    Node(writer, value, at, depth + 1);
                }
                writer?.WriteEndObject();
                return;
            case JsonArray array:
                Nesting(path, depth);
                writer?.WriteStartArray();
                for (var i = 0; i < array.Count; i++)
                    Node(writer, array[i], $"{path}[{i}]", depth + 1);
                writer?.WriteEndArray();
                return;
            default:
                Value(writer, node.AsValue(), path, depth);
                return;
        }
    }

    // A JsonObject parsed from text with a key twice, or with a key that is a lone surrogate, throws when first
    // enumerated.
    private static bool HasDuplicateKeys(JsonObject obj, string path)
    {
        try
        {
            _ = obj.Count;
            return false;
        }
        catch (ArgumentException)
        {
            return true;
        }
        catch (InvalidOperationException)
        {
            throw new UnstorableValueException(
                path,
                "has a key with a lone UTF-16 surrogate, which is not Unicode text"
            );
        }
    }

    private static void Value(Utf8JsonWriter? writer, JsonValue value, string path, int depth)
    {
        if (!value.TryGetValue<object>(out var raw))
            raw = Serialize(value, null, path);
        switch (raw)
        {
            case JsonElement element:
                Element(writer, element, path, depth);
                break;
            case string text:
                String(writer, text, path);
                break;
            case char c:
                String(writer, c.ToString(), path);
                break;
            case bool b:
                writer?.WriteBooleanValue(b);
                break;
            case byte or sbyte or short or ushort or int or uint:
                writer?.WriteNumberValue(Convert.ToInt64(raw, CultureInfo.InvariantCulture));
                break;
            case long l when l is >= -MaxExactInteger and <= MaxExactInteger:
                writer?.WriteNumberValue(l);
                break;
            case long l:
                Integer(writer, l);
                break;
            case ulong u:
                Integer(writer, u);
                break;
            case Int128 i:
                Integer(writer, i);
                break;
            case UInt128 u:
                Integer(writer, u);
                break;
            case BigInteger i:
                Integer(writer, i);
                break;
            // Always a string: a double holds few decimals exactly, and never their scale (1.50 is not 1.5).
            case decimal m:
                writer?.WriteStringValue(m.ToString(CultureInfo.InvariantCulture));
                break;
            case double d:
                Double(writer, d, path);
                break;
            case float f:
                if (!float.IsFinite(f))
                    throw NotFinite(path, f.ToString(CultureInfo.InvariantCulture));
                writer?.WriteNumberValue(f == 0 ? 0 : f);
                break;
            case DateTime time:
                writer?.WriteStringValue(SqlValues.Utc(time));
                break;
            case DateTimeOffset time:
                writer?.WriteStringValue(time);
                break;
            case Guid id:
                writer?.WriteStringValue(id);
                break;
            case Enum e:
                if (!AttrConvert.IsDefined(e))
                    throw new UnstorableValueException(path, $"{e} is not a defined value of {e.GetType().Name}");
                writer?.WriteStringValue(e.ToString());
                break;
            default:
                Element(writer, Serialize(value, raw, path), path, depth);
                break;
        }
    }

    // A value inside a collection or object gets the stored form it would have at the top level: through Spector's
    // options where they have its type's metadata, else through the metadata the value was made with
    // (AttrConvert.ToNode with an events table's options, or the app's own JsonValue.Create).
    private static JsonElement Serialize(JsonValue node, object? value, string path)
    {
        try
        {
            if (value is not null && StoredJsonOptions.Options.TryGetTypeInfo(value.GetType(), out var typeInfo))
                return JsonSerializer.SerializeToElement(value, typeInfo);
            var buffer = new System.Buffers.ArrayBufferWriter<byte>(64);
            using (var writer = new Utf8JsonWriter(buffer))
                node.WriteTo(writer);
            return JsonElement.Parse(buffer.WrittenSpan);
        }
        catch (Exception e)
            when (e is JsonException or ArgumentException or NotSupportedException or InvalidOperationException)
        {
            throw new UnstorableValueException(path, $"cannot be stored as JSON: {e.Message}");
        }
    }

    private static void Element(Utf8JsonWriter? writer, JsonElement element, string path, int depth)
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.Object:
                Nesting(path, depth);
                var keys = new HashSet<string>(StringComparer.Ordinal);
                writer?.WriteStartObject();
                foreach (var member in element.EnumerateObject())
                {
                    var key = Read(path, () => member.Name);
                    var at = path + "." + key;
                    Text(key, at, "key");
                    if (!keys.Add(key))
                        throw new UnstorableValueException(path, $"has the key \"{key}\" twice");
                    writer?.WritePropertyName(key);
                    Element(writer, member.Value, at, depth + 1);
                }
                writer?.WriteEndObject();
                return;
            case JsonValueKind.Array:
                Nesting(path, depth);
                writer?.WriteStartArray();
                var index = 0;
                foreach (var item in element.EnumerateArray())
                    Element(writer, item, $"{path}[{index++}]", depth + 1);
                writer?.WriteEndArray();
                return;
            case JsonValueKind.String:
                String(writer, Read(path, () => element.GetString()!), path);
                return;
            case JsonValueKind.Number:
                Number(writer, element.GetRawText(), path);
                return;
            default:
                if (writer is not null)
                    element.WriteTo(writer);
                return;
        }
    }

    // JSON text may escape half of a surrogate pair ("\ud800"); reading it as .NET text then fails.
    private static string Read(string path, Func<string> read)
    {
        try
        {
            return read();
        }
        catch (InvalidOperationException)
        {
            throw new UnstorableValueException(path, "contains a lone UTF-16 surrogate, which is not Unicode text");
        }
    }

    /// <summary>
    /// A number written as JSON text: kept as a number when a double holds it exactly, else kept as its digits in a
    /// string.
    /// </summary>
    private static void Number(Utf8JsonWriter? writer, string text, string path)
    {
        var value = double.Parse(text, NumberStyles.Float, CultureInfo.InvariantCulture);
        if (double.IsFinite(value) && NumberText.SameValue(text, value))
            Double(writer, value, path);
        else
            writer?.WriteStringValue(text);
    }

    private static void Double(Utf8JsonWriter? writer, double value, string path)
    {
        if (!double.IsFinite(value))
            throw NotFinite(path, value.ToString(CultureInfo.InvariantCulture));
        // -0 is stored as 0: PostgreSQL's numbers and RFC 8785 have no negative zero.
        writer?.WriteNumberValue(value == 0 ? 0 : value);
    }

    private static void Integer(Utf8JsonWriter? writer, BigInteger value)
    {
        if (BigInteger.Abs(value) <= MaxExactInteger)
            writer?.WriteNumberValue((long)value);
        else
            writer?.WriteStringValue(value.ToString(CultureInfo.InvariantCulture));
    }

    // Checked first: with no writer (the pre-write check) a null-conditional call would skip its arguments.
    private static void String(Utf8JsonWriter? writer, string text, string path)
    {
        Text(text, path, "value");
        writer?.WriteStringValue(text);
    }

    private static string Text(string text, string path, string what)
    {
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            if (c == '\0')
                throw new UnstorableValueException(
                    path,
                    $"{what} contains the character U+0000, which PostgreSQL cannot store"
                );
            if (char.IsHighSurrogate(c) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]))
                i++;
            else if (char.IsSurrogate(c))
                throw new UnstorableValueException(
                    path,
                    $"{what} contains a lone UTF-16 surrogate (U+{(int)c:X4}), which is not Unicode text"
                );
        }
        return text;
    }

    private static void Nesting(string path, int depth)
    {
        if (depth > MaxDepth)
            throw new UnstorableValueException(
                path,
                $"nests deeper than {MaxDepth} levels, the most a payload may have"
            );
    }

    private static UnstorableValueException NotFinite(string path, string value) =>
        new(path, $"is {value}, which JSON cannot store (only finite numbers)");
}

/// <summary>A value with no stored form; <see cref="Field"/> is the top-level attribute key.</summary>
internal sealed class UnstorableValueException(string path, string reason) : Exception(reason)
{
    /// <summary>Where the value sits, e.g. <c>meta.tags[2]</c>.</summary>
    public string Path { get; } = path;

    /// <summary>The attribute key holding the value.</summary>
    public string Field => Path.Split('.', '[')[0];

    /// <summary>The reason, naming the nested position when the value is not the attribute itself.</summary>
    public string Reason => Path == Field ? Message : $"{Message} (at {Path})";
}

/// <summary>Compares the decimal value of JSON number text with a double, digit by digit.</summary>
internal static class NumberText
{
    /// <summary>True when <paramref name="text"/> denotes exactly the value <paramref name="value"/> prints
    /// as.</summary>
    public static bool SameValue(string text, double value) =>
        Normalize(text) is { } written && written == Normalize(value.ToString("R", CultureInfo.InvariantCulture));

    /// <summary>True when a decimal read from <paramref name="text"/> kept every digit (28 at most fit).</summary>
    public static bool SameDigits(string text, decimal value) =>
        Normalize(text) is { } written && written == Normalize(value.ToString(CultureInfo.InvariantCulture));

    // "-0012.3400e2" -> "-1234e0": sign, significant digits, exponent; null when the exponent does not fit.
    private static string? Normalize(string text)
    {
        var i = 0;
        var negative = text[0] == '-';
        if (negative)
            i++;
        var digits = new System.Text.StringBuilder(text.Length);
        long exponent = 0;
        var afterPoint = false;
        for (; i < text.Length && text[i] is not ('e' or 'E'); i++)
        {
            if (text[i] == '.')
                afterPoint = true;
            else
            {
                digits.Append(text[i]);
                if (afterPoint)
                    exponent--;
            }
        }
        if (i < text.Length)
        {
            var exponentText = text.AsSpan(i + 1);
            if (
                !long.TryParse(
                    exponentText,
                    NumberStyles.AllowLeadingSign,
                    CultureInfo.InvariantCulture,
                    out var written
                )
            )
                return null;
            exponent += written;
        }
        var significant = digits.ToString().TrimStart('0');
        var trimmed = significant.TrimEnd('0');
        if (trimmed.Length == 0)
            return "0";
        exponent += significant.Length - trimmed.Length;
        return (negative ? "-" : "") + trimmed + "e" + exponent.ToString(CultureInfo.InvariantCulture);
    }
}
