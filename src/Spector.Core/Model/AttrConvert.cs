#pragma warning disable CS1591 // one-line conversions called by generated code; the class summary covers them
using System.ComponentModel;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Spector;

/// <summary>
/// Conversions from stored payload values to property types, called by generated setters so replay binds
/// payloads without reflection. Payloads always arrive parsed from stored JSON text, so each conversion
/// handles exactly the JSON shapes the writer produces.
/// </summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public static class AttrConvert
{
    public static string? ToNullableString(JsonNode? node) => node is null ? null : Value(node, "String").GetValue<string>();
    public static string ToString(JsonNode? node) => ToNullableString(node) ?? throw Null("String");

    public static bool ToBoolean(JsonNode? node) => Value(node, "Boolean").GetValue<bool>();
    public static bool? ToNullableBoolean(JsonNode? node) => node is null ? null : ToBoolean(node);

    public static short ToInt16(JsonNode? node) => Value(node, "Int16").GetValue<short>();
    public static short? ToNullableInt16(JsonNode? node) => node is null ? null : ToInt16(node);

    public static int ToInt32(JsonNode? node) => Value(node, "Int32").GetValue<int>();
    public static int? ToNullableInt32(JsonNode? node) => node is null ? null : ToInt32(node);

    public static long ToInt64(JsonNode? node) => Value(node, "Int64").GetValue<long>();
    public static long? ToNullableInt64(JsonNode? node) => node is null ? null : ToInt64(node);

    public static float ToSingle(JsonNode? node) => Value(node, "Single").GetValue<float>();
    public static float? ToNullableSingle(JsonNode? node) => node is null ? null : ToSingle(node);

    public static double ToDouble(JsonNode? node) => Value(node, "Double").GetValue<double>();
    public static double? ToNullableDouble(JsonNode? node) => node is null ? null : ToDouble(node);

    public static decimal ToDecimal(JsonNode? node) => Value(node, "Decimal").GetValue<decimal>();
    public static decimal? ToNullableDecimal(JsonNode? node) => node is null ? null : ToDecimal(node);

    public static Guid ToGuid(JsonNode? node) => Value(node, "Guid").GetValue<Guid>();
    public static Guid? ToNullableGuid(JsonNode? node) => node is null ? null : ToGuid(node);

    public static DateTimeOffset ToDateTimeOffset(JsonNode? node) => Value(node, "DateTimeOffset").GetValue<DateTimeOffset>();
    public static DateTimeOffset? ToNullableDateTimeOffset(JsonNode? node) => node is null ? null : ToDateTimeOffset(node);

    /// <summary>Date-times are stored in UTC, so they come back with <see cref="DateTimeKind.Utc"/>.</summary>
    public static DateTime ToDateTime(JsonNode? node) => ToDateTimeOffset(node).UtcDateTime;
    public static DateTime? ToNullableDateTime(JsonNode? node) => node is null ? null : ToDateTime(node);

    /// <summary>Enums are stored by name; numbers are accepted too.</summary>
    public static TEnum ToEnum<TEnum>(JsonNode? node) where TEnum : struct, Enum
    {
        var value = Value(node, typeof(TEnum).Name);
        if (value.GetValueKind() == JsonValueKind.Number)
            return (TEnum)Enum.ToObject(typeof(TEnum), value.GetValue<long>());
        var text = value.GetValue<string>();
        return Enum.TryParse<TEnum>(text, ignoreCase: false, out var parsed)
            ? parsed
            : throw new FormatException($"'{text}' is not a value of {typeof(TEnum).Name}.");
    }

    public static TEnum? ToNullableEnum<TEnum>(JsonNode? node) where TEnum : struct, Enum =>
        node is null ? null : ToEnum<TEnum>(node);

    /// <summary>
    /// Fallback for property types with no dedicated conversion (collections, nested objects): uses
    /// System.Text.Json's serializer, which reflects over <typeparamref name="T"/>.
    /// </summary>
    public static T? ToObject<T>(JsonNode? node) => node is null ? default : node.Deserialize<T>();

    // The same conversions from a value of a stored payload, read without building a node. They accept and
    // refuse exactly what the node conversions do, with the same exception types (AttrConvertTests).
    public static string? ToNullableString(JsonElement value) => IsNull(value) ? null : Value(value, "String").GetString();
    public static string ToString(JsonElement value) => ToNullableString(value) ?? throw Null("String");

    public static bool ToBoolean(JsonElement value) => Value(value, "Boolean").GetBoolean();
    public static bool? ToNullableBoolean(JsonElement value) => IsNull(value) ? null : ToBoolean(value);

    public static short ToInt16(JsonElement value) => Read(value, "Int16", static (JsonElement e, out short v) => e.TryGetInt16(out v));
    public static short? ToNullableInt16(JsonElement value) => IsNull(value) ? null : ToInt16(value);

    public static int ToInt32(JsonElement value) => Read(value, "Int32", static (JsonElement e, out int v) => e.TryGetInt32(out v));
    public static int? ToNullableInt32(JsonElement value) => IsNull(value) ? null : ToInt32(value);

    public static long ToInt64(JsonElement value) => Read(value, "Int64", static (JsonElement e, out long v) => e.TryGetInt64(out v));
    public static long? ToNullableInt64(JsonElement value) => IsNull(value) ? null : ToInt64(value);

    public static float ToSingle(JsonElement value) => Read(value, "Single", static (JsonElement e, out float v) => e.TryGetSingle(out v));
    public static float? ToNullableSingle(JsonElement value) => IsNull(value) ? null : ToSingle(value);

    public static double ToDouble(JsonElement value) => Read(value, "Double", static (JsonElement e, out double v) => e.TryGetDouble(out v));
    public static double? ToNullableDouble(JsonElement value) => IsNull(value) ? null : ToDouble(value);

    public static decimal ToDecimal(JsonElement value) => Read(value, "Decimal", static (JsonElement e, out decimal v) => e.TryGetDecimal(out v));
    public static decimal? ToNullableDecimal(JsonElement value) => IsNull(value) ? null : ToDecimal(value);

    public static Guid ToGuid(JsonElement value) => Read(value, "Guid", static (JsonElement e, out Guid v) => e.TryGetGuid(out v));
    public static Guid? ToNullableGuid(JsonElement value) => IsNull(value) ? null : ToGuid(value);

    public static DateTimeOffset ToDateTimeOffset(JsonElement value) =>
        Read(value, "DateTimeOffset", static (JsonElement e, out DateTimeOffset v) => e.TryGetDateTimeOffset(out v));
    public static DateTimeOffset? ToNullableDateTimeOffset(JsonElement value) => IsNull(value) ? null : ToDateTimeOffset(value);

    public static DateTime ToDateTime(JsonElement value) => ToDateTimeOffset(value).UtcDateTime;
    public static DateTime? ToNullableDateTime(JsonElement value) => IsNull(value) ? null : ToDateTime(value);

    public static TEnum ToEnum<TEnum>(JsonElement value) where TEnum : struct, Enum
    {
        if (Value(value, typeof(TEnum).Name).ValueKind == JsonValueKind.Number)
            return (TEnum)Enum.ToObject(typeof(TEnum), ToInt64(value));
        var text = value.GetString()!;
        return Enum.TryParse<TEnum>(text, ignoreCase: false, out var parsed)
            ? parsed
            : throw new FormatException($"'{text}' is not a value of {typeof(TEnum).Name}.");
    }

    public static TEnum? ToNullableEnum<TEnum>(JsonElement value) where TEnum : struct, Enum =>
        IsNull(value) ? null : ToEnum<TEnum>(value);

    public static T? ToObject<T>(JsonElement value) => IsNull(value) ? default : value.Deserialize<T>();

    /// <summary>Compares two values of a type with no dedicated conversion by their JSON form (used by savepoint checks, not replay).</summary>
    public static bool SameJson<T>(T a, T b) => JsonSerializer.Serialize(a) == JsonSerializer.Serialize(b);

    /// <summary>Formats a UTC instant the way Spector stores timestamps in payloads (microsecond precision).</summary>
    public static string FormatTimestamp(DateTimeOffset value) =>
        value.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.ffffff'Z'", CultureInfo.InvariantCulture);

    private static JsonValue Value(JsonNode? node, string type) => node switch
    {
        null => throw Null(type),
        JsonValue value => value,
        _ => throw new FormatException($"expected a {type} value, found a JSON {node.GetValueKind()}"),
    };

    private static bool IsNull(JsonElement value) => value.ValueKind == JsonValueKind.Null;

    private delegate bool TryRead<TValue>(JsonElement element, out TValue value);

    // A value of the right JSON kind that does not fit (12.5 as an Int32, "x" as a Guid) is refused as the node does.
    private static TValue Read<TValue>(JsonElement value, string type, TryRead<TValue> tryRead) =>
        tryRead(Value(value, type), out var result)
            ? result
            : throw new InvalidOperationException($"An element of type '{value.ValueKind}' cannot be converted to a '{typeof(TValue)}'.");

    private static JsonElement Value(JsonElement value, string type) => value.ValueKind switch
    {
        JsonValueKind.Null => throw Null(type),
        JsonValueKind.Object or JsonValueKind.Array => throw new FormatException($"expected a {type} value, found a JSON {value.ValueKind}"),
        _ => value,
    };

    private static FormatException Null(string type) => new($"null is not a valid {type}");
}
