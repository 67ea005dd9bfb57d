using System.Globalization;
using System.Numerics;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Spector;

/// <summary>
/// The serializer options for values nested in collections, dictionaries and objects: each type gets the stored form
/// it has as a top-level attribute (<see cref="StoredJson"/>), and reads back through the same conversion replay uses.
/// </summary>
internal static class StoredJsonOptions
{
    /// <summary>Read-only, so shared safely.</summary>
    public static readonly JsonSerializerOptions Options = Create();

    private const long MaxExactInteger = 9_007_199_254_740_991;

    private static JsonSerializerOptions Create()
    {
        var options = new JsonSerializerOptions
        {
            NumberHandling = JsonNumberHandling.AllowReadingFromString,
            Converters =
            {
                new Stored<decimal>(AttrConvert.ToDecimal,
                    (w, v) => w.WriteStringValue(v.ToString(CultureInfo.InvariantCulture))),
                new Stored<DateTime>(AttrConvert.ToDateTime, (w, v) => w.WriteStringValue(SqlValues.Utc(v))),
                new Stored<long>(AttrConvert.ToInt64, (w, v) => Integer(w, v)),
                new Stored<ulong>(e => (ulong)BigInteger(e), (w, v) => Integer(w, v)),
                new Stored<Int128>(e => (Int128)BigInteger(e), (w, v) => Integer(w, v)),
                new Stored<UInt128>(e => (UInt128)BigInteger(e), (w, v) => Integer(w, v)),
                new Stored<BigInteger>(BigInteger, Integer),
                new Stored<double>(AttrConvert.ToDouble, (w, v) => w.WriteNumberValue(Finite(v))),
                new Stored<float>(AttrConvert.ToSingle, (w, v) => w.WriteNumberValue(Finite(v))),
                new Stored<string>(e => e.GetString()!, (w, v) => w.WriteStringValue(UnicodeText(v))),
                new JsonStringEnumConverter(),
            },
        };
        options.MakeReadOnly(populateMissingResolver: true);
        return options;
    }

    private static BigInteger BigInteger(JsonElement element)
    {
        var text = element.ValueKind == JsonValueKind.String ? element.GetString()! : element.GetRawText();
        return System.Numerics.BigInteger.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture,
            out var value) ? value
            : throw new FormatException($"{text} is not an integer");
    }

    private static void Integer(Utf8JsonWriter writer, BigInteger value)
    {
        if (System.Numerics.BigInteger.Abs(value) <= MaxExactInteger) writer.WriteNumberValue((long)value);
        else writer.WriteStringValue(value.ToString(CultureInfo.InvariantCulture));
    }

    // -0 is stored as 0, as at the top level: PostgreSQL's numbers and RFC 8785 have no negative zero.
    private static T Finite<T>(T value) where T : IFloatingPointIeee754<T> =>
        T.IsFinite(value)
            ? T.IsZero(value) ? T.Zero : value
            : throw new JsonException($"is {value}, which JSON cannot store (only finite numbers)");

    // The writer would replace half of a surrogate pair with U+FFFD: a silent change, so it is refused instead.
    private static string UnicodeText(string text)
    {
        for (var i = 0; i < text.Length; i++)
        {
            if (char.IsHighSurrogate(text[i]) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1])) i++;
            else if (char.IsSurrogate(text[i]))
                throw new JsonException($"contains a lone UTF-16 surrogate (U+{(int)text[i]:X4}), which is not Unicode text");
        }
        return text;
    }

    /// <summary>One type's stored form: written as the top level writes it, read by replay's conversion.</summary>
    private sealed class Stored<T>(Func<JsonElement, T> read, Action<Utf8JsonWriter, T> write)
        : JsonConverter<T>
    {
        public override T Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
        {
            var element = JsonElement.ParseValue(ref reader);
            try
            {
                return read(element);
            }
            catch (Exception e) when (e is FormatException or OverflowException)
            {
                throw new JsonException(e.Message, e);
            }
        }

        public override void Write(Utf8JsonWriter writer, T value, JsonSerializerOptions options) =>
            write(writer, value);
    }
}
