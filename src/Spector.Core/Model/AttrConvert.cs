#pragma warning disable CS1591 // one-line conversions called by generated code; the class summary covers them
using System.ComponentModel;
using System.Globalization;
using System.Numerics;
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
    // Nodes convert through their stored form, so a write reads exactly what its replay will read.
    public static string? ToNullableString(JsonNode? node) => ToNullableString(AsElement(node));

    public static string ToString(JsonNode? node) => ToString(AsElement(node));

    public static bool ToBoolean(JsonNode? node) => ToBoolean(AsElement(node));

    public static bool? ToNullableBoolean(JsonNode? node) => ToNullableBoolean(AsElement(node));

    public static short ToInt16(JsonNode? node) => ToInt16(AsElement(node));

    public static short? ToNullableInt16(JsonNode? node) => ToNullableInt16(AsElement(node));

    public static int ToInt32(JsonNode? node) => ToInt32(AsElement(node));

    public static int? ToNullableInt32(JsonNode? node) => ToNullableInt32(AsElement(node));

    public static long ToInt64(JsonNode? node) => ToInt64(AsElement(node));

    public static long? ToNullableInt64(JsonNode? node) => ToNullableInt64(AsElement(node));

    public static float ToSingle(JsonNode? node) => ToSingle(AsElement(node));

    public static float? ToNullableSingle(JsonNode? node) => ToNullableSingle(AsElement(node));

    public static double ToDouble(JsonNode? node) => ToDouble(AsElement(node));

    public static double? ToNullableDouble(JsonNode? node) => ToNullableDouble(AsElement(node));

    public static decimal ToDecimal(JsonNode? node) => ToDecimal(AsElement(node));

    public static decimal? ToNullableDecimal(JsonNode? node) => ToNullableDecimal(AsElement(node));

    public static Guid ToGuid(JsonNode? node) => ToGuid(AsElement(node));

    public static Guid? ToNullableGuid(JsonNode? node) => ToNullableGuid(AsElement(node));

    public static DateTimeOffset ToDateTimeOffset(JsonNode? node) => ToDateTimeOffset(AsElement(node));

    public static DateTimeOffset? ToNullableDateTimeOffset(JsonNode? node) => ToNullableDateTimeOffset(AsElement(node));

    /// <summary>Date-times are stored in UTC, so they come back with <see cref="DateTimeKind.Utc"/>.</summary>
    public static DateTime ToDateTime(JsonNode? node) => ToDateTime(AsElement(node));

    public static DateTime? ToNullableDateTime(JsonNode? node) => ToNullableDateTime(AsElement(node));

    /// <summary>Enums are stored by name; defined numbers are accepted too; undefined values are refused.</summary>
    public static TEnum ToEnum<TEnum>(JsonNode? node)
        where TEnum : struct, Enum => ToEnum<TEnum>(AsElement(node));

    public static TEnum? ToNullableEnum<TEnum>(JsonNode? node)
        where TEnum : struct, Enum => ToNullableEnum<TEnum>(AsElement(node));

    /// <summary>
    /// Fallback for property types with no dedicated conversion (collections, nested objects, ulong, Int128,
    /// BigInteger): uses System.Text.Json's serializer, which reflects over <typeparamref name="T"/>, and reads
    /// numbers stored as strings.
    /// </summary>
    public static T? ToObject<T>(JsonNode? node) => ToObject<T>(AsElement(node));

    /// <summary>
    /// As <see cref="ToObject{T}(JsonNode?)"/> with an events table's options (<see cref="EventLog.JsonOptions"/>):
    /// the metadata of <typeparamref name="T"/> comes from the context passed to <c>UseJson</c> of the table.
    /// </summary>
    public static T? ToObject<T>(JsonNode? node, JsonSerializerOptions options) =>
        ToObject<T>(AsElement(node), options);

    // Conversions from a value of a stored payload, read without building a node (replay's path).
    public static string? ToNullableString(JsonElement value) =>
        IsNull(value) ? null : Value(value, "String", JsonValueKind.String).GetString();

    public static string ToString(JsonElement value) => ToNullableString(value) ?? throw Null("String");

    public static bool ToBoolean(JsonElement value) => Value(value, "Boolean", JsonValueKind.True).GetBoolean();

    public static bool? ToNullableBoolean(JsonElement value) => IsNull(value) ? null : ToBoolean(value);

    public static short ToInt16(JsonElement value) =>
        Read(value, "Int16", static (JsonElement e, out short v) => e.TryGetInt16(out v));

    public static short? ToNullableInt16(JsonElement value) => IsNull(value) ? null : ToInt16(value);

    public static int ToInt32(JsonElement value) =>
        Read(value, "Int32", static (JsonElement e, out int v) => e.TryGetInt32(out v));

    public static int? ToNullableInt32(JsonElement value) => IsNull(value) ? null : ToInt32(value);

    /// <summary>Past 2^53 - 1 a long is stored as a string of its digits; both forms are read.</summary>
    public static long ToInt64(JsonElement value) =>
        IsText(value, "Int64")
            ? Parse(value, "Int64", static (string s, out long v) => long.TryParse(s, IntegerStyle, Invariant, out v))
            : Read(value, "Int64", static (JsonElement e, out long v) => e.TryGetInt64(out v));

    public static long? ToNullableInt64(JsonElement value) => IsNull(value) ? null : ToInt64(value);

    public static float ToSingle(JsonElement value) =>
        Read(value, "Single", static (JsonElement e, out float v) => e.TryGetSingle(out v) && float.IsFinite(v));

    public static float? ToNullableSingle(JsonElement value) => IsNull(value) ? null : ToSingle(value);

    // A number past the double's range (1e400) is refused, never read as infinity.
    public static double ToDouble(JsonElement value) =>
        IsText(value, "Double")
            ? throw new FormatException(
                $"{Shown(value)} is not a valid Double"
                    + (
                        double.TryParse(value.GetString(), NumberStyles.Float, Invariant, out _)
                            ? " (outside its range)"
                            : ""
                    )
            )
            : Read(
                value,
                "Double",
                static (JsonElement e, out double v) => e.TryGetDouble(out v) && double.IsFinite(v)
            );

    public static double? ToNullableDouble(JsonElement value) => IsNull(value) ? null : ToDouble(value);

    /// <summary>Decimals are stored as strings, which keep every digit and the scale; older numbers are read
    /// too.</summary>
    public static decimal ToDecimal(JsonElement value) =>
        IsText(value, "Decimal")
            ? Parse(
                value,
                "Decimal",
                static (string s, out decimal v) =>
                    decimal.TryParse(s, DecimalStyle, Invariant, out v) && NumberText.SameDigits(s, v)
            )
            : Read(
                value,
                "Decimal",
                static (JsonElement e, out decimal v) =>
                    e.TryGetDecimal(out v) && NumberText.SameDigits(e.GetRawText(), v)
            );

    public static decimal? ToNullableDecimal(JsonElement value) => IsNull(value) ? null : ToDecimal(value);

    public static Guid ToGuid(JsonElement value) =>
        Read(value, "Guid", static (JsonElement e, out Guid v) => e.TryGetGuid(out v), JsonValueKind.String);

    public static Guid? ToNullableGuid(JsonElement value) => IsNull(value) ? null : ToGuid(value);

    /// <summary>
    /// An instant with its offset. Text without an offset (written for a DateTime by older versions, or a SQLite
    /// record-table value) is UTC, never the process's local time, so replay is the same in every time zone.
    /// </summary>
    public static DateTimeOffset ToDateTimeOffset(JsonElement value)
    {
        var text = Value(value, "DateTimeOffset", JsonValueKind.String);
        // Read as a DateTime first: its kind says whether the text has an offset (Local) or not (Unspecified, Utc
        // for "Z"), and that read never depends on the local zone. Only text with an offset is read again with it.
        if (text.TryGetDateTime(out var time) && time.Kind != DateTimeKind.Local)
            return new DateTimeOffset(DateTime.SpecifyKind(time, DateTimeKind.Unspecified), TimeSpan.Zero);
        if (text.TryGetDateTimeOffset(out var instant))
            return instant;
        return Parse<DateTimeOffset>(text, "DateTimeOffset", TryParseSqliteTime);
    }

    public static DateTimeOffset? ToNullableDateTimeOffset(JsonElement value) =>
        IsNull(value) ? null : ToDateTimeOffset(value);

    public static DateTime ToDateTime(JsonElement value) => ToDateTimeOffset(value).UtcDateTime;

    public static DateTime? ToNullableDateTime(JsonElement value) => IsNull(value) ? null : ToDateTime(value);

    public static TEnum ToEnum<TEnum>(JsonElement value)
        where TEnum : struct, Enum
    {
        var name = typeof(TEnum).Name;
        TEnum result;
        if (Value(value, name, JsonValueKind.String, orNumber: true).ValueKind == JsonValueKind.Number)
        {
            result = (TEnum)Enum.ToObject(typeof(TEnum), ToInt64(value));
        }
        else
        {
            var text = value.GetString()!;
            // Only the names the writer produces: no numbers in strings, no case or spacing variants.
            if (!Enum.TryParse(text, ignoreCase: false, out result) || result.ToString() != text)
                throw new FormatException($"\"{text}\" is not a value of {name}");
        }
        return IsDefined(result)
            ? result
            : throw new FormatException($"{value.GetRawText()} is not a defined value of {name}");
    }

    public static TEnum? ToNullableEnum<TEnum>(JsonElement value)
        where TEnum : struct, Enum => IsNull(value) ? null : ToEnum<TEnum>(value);

    public static T? ToObject<T>(JsonElement value) => ToObject<T>(value, StoredJsonOptions.Options);

    public static T? ToObject<T>(JsonElement value, JsonSerializerOptions options)
    {
        if (IsNull(value))
            return default;
        var typeInfo = StoredJsonOptions.TypeInfo<T>(options);
        try
        {
            return value.Deserialize(typeInfo);
        }
        catch (JsonException e)
        {
            throw new FormatException($"{Shown(value)} is not a valid {typeof(T).Name}", e);
        }
    }

    /// <summary>One value as <typeparamref name="T"/>, through the conversion replay uses where there is one.</summary>
    internal static T To<T>(JsonNode node) =>
        typeof(T) switch
        {
            var t when t == typeof(decimal) => (T)(object)ToDecimal(node),
            var t when t == typeof(long) => (T)(object)ToInt64(node),
            var t when t == typeof(double) => (T)(object)ToDouble(node),
            var t when t == typeof(DateTime) => (T)(object)ToDateTime(node),
            var t when t == typeof(DateTimeOffset) => (T)(object)ToDateTimeOffset(node),
            var t when t == typeof(ulong) || t == typeof(Int128) || t == typeof(UInt128) || t == typeof(BigInteger) =>
                ToObject<T>(node)!,
            _ => node.GetValue<T>(),
        };

    /// <summary>A defined value of its enum, or for a [Flags] enum a combination of defined flags.</summary>
    public static bool IsDefined(Enum value)
    {
        var type = value.GetType();
        if (Enum.IsDefined(type, value))
            return true;
        if (!type.IsDefined(typeof(FlagsAttribute), inherit: false))
            return false;
        var all = 0UL;
        foreach (var defined in Enum.GetValuesAsUnderlyingType(type))
            all |= Bits(defined);
        return (Bits(value) & ~all) == 0;

        static ulong Bits(object e) =>
            Convert.GetTypeCode(e) switch
            {
                TypeCode.UInt64 or TypeCode.UInt32 or TypeCode.UInt16 or TypeCode.Byte => Convert.ToUInt64(
                    e,
                    Invariant
                ),
                _ => unchecked((ulong)Convert.ToInt64(e, Invariant)),
            };
    }

    private static bool IsDefined<TEnum>(TEnum value)
        where TEnum : struct, Enum => Enum.IsDefined(value) || IsDefined((Enum)(object)value);

    /// <summary>Compares two values of a type with no dedicated conversion by their JSON form (used by savepoint
    /// checks, not replay).</summary>
    public static bool SameJson<T>(T a, T b) => SameJson(a, b, StoredJsonOptions.Options);

    /// <summary>As <see cref="SameJson{T}(T, T)"/> with an events table's options.</summary>
    public static bool SameJson<T>(T a, T b, JsonSerializerOptions options)
    {
        var typeInfo = StoredJsonOptions.TypeInfo<T>(options);
        return JsonSerializer.Serialize(a, typeInfo) == JsonSerializer.Serialize(b, typeInfo);
    }

    /// <summary>
    /// A typed action's parameter as a payload value: kept as the value itself, so the payload writer gives it (and
    /// everything nested in it) its stored form, and refuses it naming the parameter when it has none.
    /// </summary>
    public static JsonNode? ToNode<T>(T value) => ToNode(value, StoredJsonOptions.Options);

    /// <summary>As <see cref="ToNode{T}(T)"/> with an events table's options, whose metadata writes it.</summary>
    public static JsonNode? ToNode<T>(T value, JsonSerializerOptions options) =>
        value switch
        {
            null => null,
            JsonNode node => node.DeepClone(),
            JsonElement element => JsonValue.Create(element),
            _ => JsonValue.Create(value, StoredJsonOptions.TypeInfo<T>(options)),
        };

    /// <summary>Formats a UTC instant the way Spector stores timestamps in payloads (microsecond precision).</summary>
    public static string FormatTimestamp(DateTimeOffset value) =>
        value.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.ffffff'Z'", CultureInfo.InvariantCulture);

    private static readonly CultureInfo Invariant = CultureInfo.InvariantCulture;
    private const NumberStyles IntegerStyle = NumberStyles.AllowLeadingSign;
    private const NumberStyles DecimalStyle = NumberStyles.AllowLeadingSign | NumberStyles.AllowDecimalPoint;

    private static readonly JsonElement JsonNull = JsonElement.Parse("null");

    private static JsonElement AsElement(JsonNode? node) =>
        node switch
        {
            null => JsonNull,
            JsonValue value when value.TryGetValue<JsonElement>(out var element) => element,
            _ => StoredJson.ToElement(node),
        };

    private static bool IsNull(JsonElement value) => value.ValueKind == JsonValueKind.Null;

    private delegate bool TryRead<TValue>(JsonElement element, out TValue value);

    private delegate bool TryParseText<TValue>(string text, out TValue value);

    // A value of the right JSON kind that does not fit (12.5 as an Int32, 1e400 as a Double) is refused.
    private static TValue Read<TValue>(
        JsonElement value,
        string type,
        TryRead<TValue> tryRead,
        JsonValueKind kind = JsonValueKind.Number
    ) =>
        tryRead(Value(value, type, kind), out var result)
            ? result
            : throw new FormatException($"{Shown(value)} is not a valid {type}");

    private static TValue Parse<TValue>(JsonElement value, string type, TryParseText<TValue> tryParse) =>
        tryParse(value.GetString()!, out var result)
            ? result
            : throw new FormatException($"{Shown(value)} is not a valid {type}");

    // Numbers past the double's exact range are stored as strings: both kinds are accepted where that applies.
    private static bool IsText(JsonElement value, string type) =>
        Value(value, type, JsonValueKind.Number, orString: true).ValueKind == JsonValueKind.String;

    private static JsonElement Value(
        JsonElement value,
        string type,
        JsonValueKind kind,
        bool orString = false,
        bool orNumber = false
    )
    {
        var found = value.ValueKind;
        if (found == JsonValueKind.Null)
            throw Null(type);
        var fits =
            found == kind
            || kind == JsonValueKind.True && found == JsonValueKind.False
            || orString && found == JsonValueKind.String
            || orNumber && found == JsonValueKind.Number;
        return fits ? value : throw new FormatException($"expected a {type} value, found {Kind(found)}");
    }

    private static string Kind(JsonValueKind kind) =>
        kind switch
        {
            JsonValueKind.Object => "a JSON object",
            JsonValueKind.Array => "a JSON array",
            JsonValueKind.String => "a string",
            JsonValueKind.Number => "a number",
            _ => "a boolean",
        };

    private static string Shown(JsonElement value)
    {
        var text = value.GetRawText();
        return text.Length <= 40 ? text : text[..37] + "...";
    }

    private static readonly string[] SqliteTimeFormats =
    [
        "yyyy-MM-dd HH:mm:ss.FFFFFFFzzz",
        "yyyy-MM-dd HH:mm:ss.FFFFFFF",
        "yyyy-MM-dd HH:mm:ssK",
        "yyyy-MM-dd",
    ];

    // Microsoft.Data.Sqlite writes record-table times as "2026-11-30 15:52:16.184428+00:00".
    private static bool TryParseSqliteTime(string text, out DateTimeOffset value) =>
        DateTimeOffset.TryParseExact(text, SqliteTimeFormats, Invariant, DateTimeStyles.AssumeUniversal, out value);

    private static FormatException Null(string type) => new($"null is not a valid {type}");
}
