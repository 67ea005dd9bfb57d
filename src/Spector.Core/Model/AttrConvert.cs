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

    private static FormatException Null(string type) => new($"null is not a valid {type}");
}
