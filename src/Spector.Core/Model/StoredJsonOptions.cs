using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;

namespace Spector;

/// <summary>
/// The serializer options for values nested in collections, dictionaries and objects: each type gets the stored form
/// it has as a top-level attribute (<see cref="StoredJson"/>), and reads back through the same conversion replay uses.
/// </summary>
internal static class StoredJsonOptions
{
    /// <summary>
    /// The options of an events table given no metadata of its own: Spector's scalar types, and every other type
    /// by reflection where the app allows it (not under Native AOT or trimming). Read-only, so shared safely.
    /// </summary>
    public static readonly JsonSerializerOptions Options = Create(null, []);

    private const long MaxExactInteger = 9_007_199_254_740_991;

    /// <summary>
    /// The stored forms over <paramref name="resolver"/>'s metadata (a user's <see cref="JsonSerializerContext"/>):
    /// its types first, then the scalar types Spector reads itself, then reflection where the app allows it.
    /// </summary>
    public static JsonSerializerOptions Create(IJsonTypeInfoResolver? resolver, IList<JsonConverter> converters)
    {
        var options = new JsonSerializerOptions
        {
            NumberHandling = JsonNumberHandling.AllowReadingFromString,
            TypeInfoResolver = Resolver(resolver),
            Converters =
            {
                new Stored<decimal>(
                    AttrConvert.ToDecimal,
                    (w, v) => w.WriteStringValue(v.ToString(CultureInfo.InvariantCulture))
                ),
                new Stored<DateTime>(AttrConvert.ToDateTime, (w, v) => w.WriteStringValue(SqlValues.Utc(v))),
                new Stored<long>(AttrConvert.ToInt64, (w, v) => Integer(w, v)),
                new Stored<ulong>(e => (ulong)BigInteger(e), (w, v) => Integer(w, v)),
                new Stored<Int128>(e => (Int128)BigInteger(e), (w, v) => Integer(w, v)),
                new Stored<UInt128>(e => (UInt128)BigInteger(e), (w, v) => Integer(w, v)),
                new Stored<BigInteger>(BigInteger, Integer),
                new Stored<double>(AttrConvert.ToDouble, (w, v) => w.WriteNumberValue(Finite(v))),
                new Stored<float>(AttrConvert.ToSingle, (w, v) => w.WriteNumberValue(Finite(v))),
                new StoredString(),
            },
        };
        // Enums by name. Under Native AOT this converter cannot be made; a context's UseStringEnumConverter
        // gives its enums the same stored form (docs/aot.md).
        if (RuntimeFeature.IsDynamicCodeSupported)
            options.Converters.Add(new JsonStringEnumConverter());
        foreach (var converter in converters)
            options.Converters.Add(converter);
        options.MakeReadOnly();
        return options;
    }

    /// <summary>The app's metadata first, then the scalars Spector reads itself, then reflection where
    /// allowed.</summary>
    public static IJsonTypeInfoResolver Resolver(IJsonTypeInfoResolver? app)
    {
        var resolvers = new List<IJsonTypeInfoResolver>(3);
        if (app is not null)
            resolvers.Add(app);
        resolvers.Add(SpectorJsonContext.Default);
        if (Reflection() is { } reflection)
            resolvers.Add(reflection);
        return JsonTypeInfoResolver.Combine(resolvers.ToArray());
    }

    /// <summary>
    /// The metadata of <typeparamref name="T"/>, or an error that says how to provide it when the app has turned
    /// reflection-based serialization off (Native AOT, trimming) and no context lists the type.
    /// </summary>
    public static JsonTypeInfo<T> TypeInfo<T>(JsonSerializerOptions options) =>
        (JsonTypeInfo<T>)TypeInfo(options, typeof(T));

    /// <summary>As <see cref="TypeInfo{T}"/> for a type known at run time (a value's own type).</summary>
    public static JsonTypeInfo TypeInfo(JsonSerializerOptions options, Type type)
    {
        try
        {
            return options.GetTypeInfo(type);
        }
        catch (NotSupportedException e)
        {
            throw new NotSupportedException(
                $"Spector has no JSON metadata for {type}: reflection-based serialization is disabled in this app "
                    + "(Native AOT or trimming). List the type in a JsonSerializerContext "
                    + "([JsonSerializable(typeof(...))]) "
                    + "and pass it to its events table: Log.UseJson(MyJsonContext.Default). See docs/aot.md.",
                e
            );
        }
    }

    /// <summary>
    /// A value as JSON text for messages: through <paramref name="options"/>' metadata, without the stored forms
    /// (a decimal shows as 171, not "171"). Made for mismatches only, so the options are not cached.
    /// </summary>
    public static string Show(object? value, JsonSerializerOptions options)
    {
        if (value is null)
            return "null";
        var plain = new JsonSerializerOptions { TypeInfoResolver = options.TypeInfoResolver };
        return JsonSerializer.Serialize(value, TypeInfo(plain, value.GetType()));
    }

    // The trimmer removes this branch where the app sets JsonSerializerIsReflectionEnabledByDefault to false, as
    // PublishAot and PublishTrimmed do; elsewhere reflection is what the app asked for.
    [UnconditionalSuppressMessage("Trimming", "IL2026", Justification = "Guarded by the reflection feature switch.")]
    [UnconditionalSuppressMessage("AOT", "IL3050", Justification = "Guarded by the reflection feature switch.")]
    private static IJsonTypeInfoResolver? Reflection() =>
        JsonSerializer.IsReflectionEnabledByDefault ? new DefaultJsonTypeInfoResolver() : null;

    private static BigInteger BigInteger(JsonElement element)
    {
        var text = element.ValueKind == JsonValueKind.String ? element.GetString()! : element.GetRawText();
        return System.Numerics.BigInteger.TryParse(
            text,
            NumberStyles.AllowLeadingSign,
            CultureInfo.InvariantCulture,
            out var value
        )
            ? value
            : throw new FormatException($"{text} is not an integer");
    }

    private static void Integer(Utf8JsonWriter writer, BigInteger value)
    {
        if (System.Numerics.BigInteger.Abs(value) <= MaxExactInteger)
            writer.WriteNumberValue((long)value);
        else
            writer.WriteStringValue(value.ToString(CultureInfo.InvariantCulture));
    }

    // -0 is stored as 0, as at the top level: PostgreSQL's numbers and RFC 8785 have no negative zero.
    private static T Finite<T>(T value)
        where T : IFloatingPointIeee754<T> =>
        T.IsFinite(value)
            ? T.IsZero(value)
                ? T.Zero
                : value
            : throw new JsonException($"is {value}, which JSON cannot store (only finite numbers)");

    // The writer would replace half of a surrogate pair with U+FFFD: a silent change, so it is refused instead.
    private static string UnicodeText(string text)
    {
        for (var i = 0; i < text.Length; i++)
        {
            if (char.IsHighSurrogate(text[i]) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]))
                i++;
            else if (char.IsSurrogate(text[i]))
                throw new JsonException(
                    $"contains a lone UTF-16 surrogate (U+{(int)text[i]:X4}), which is not Unicode text"
                );
        }
        return text;
    }

    /// <summary>Strings, as values and as dictionary keys: Unicode text only.</summary>
    private sealed class StoredString : JsonConverter<string>
    {
        public override string Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
            reader.GetString()!;

        public override void Write(Utf8JsonWriter writer, string value, JsonSerializerOptions options) =>
            writer.WriteStringValue(UnicodeText(value));

        public override string ReadAsPropertyName(
            ref Utf8JsonReader reader,
            Type typeToConvert,
            JsonSerializerOptions options
        ) => reader.GetString()!;

        public override void WriteAsPropertyName(Utf8JsonWriter writer, string value, JsonSerializerOptions options) =>
            writer.WritePropertyName(UnicodeText(value));
    }

    /// <summary>One type's stored form: written as the top level writes it, read by replay's conversion.</summary>
    private sealed class Stored<T>(Func<JsonElement, T> read, Action<Utf8JsonWriter, T> write) : JsonConverter<T>
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
