using System.Buffers;
using System.Buffers.Text;
using System.Text;
using System.Text.Json;

namespace Spector;

/// <summary>
/// RFC 8785 straight from UTF-8 JSON text, read once with <see cref="Utf8JsonReader"/>: no document is built and
/// text that is already canonical (unescaped strings, integers a double holds) is copied as it stands. Hashing
/// canonicalizes every payload it writes or verifies; the <see cref="JsonElement"/> overloads read the element's
/// text the same way.
/// </summary>
public static partial class Jcs
{
    // Strict: a string with a lone surrogate is refused, as JsonDocument.Parse(string) refuses it.
    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, true);

    /// <summary>Appends the canonical form of the JSON text <paramref name="json"/>, as
    /// <see cref="WriteUtf8"/> does.</summary>
    internal static void WriteText(
        IBufferWriter<byte> output,
        string json,
        bool checkSpelling,
        ref string? nonCanonical
    )
    {
        var rented = ArrayPool<byte>.Shared.Rent(StrictUtf8.GetMaxByteCount(json.Length));
        try
        {
            var length = StrictUtf8.GetBytes(json, rented);
            WriteUtf8(output, rented.AsSpan(0, length), default, checkSpelling, ref nonCanonical);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(rented);
        }
    }

    /// <summary>
    /// Appends the canonical form of the UTF-8 JSON text <paramref name="json"/>: one value, nothing after it, read
    /// with <paramref name="options"/> (the default: no comments, nested at most 64 deep). With
    /// <paramref name="checkSpelling"/> (verification's check, made in the same pass), also sets
    /// <paramref name="nonCanonical"/> to the first number, in text order, not spelled in the shortest form of its
    /// double (<see cref="NumberText.SameValue"/>) or spelled as a negative zero. RFC 8785 hashes
    /// "16777217.0000000001" like "16777217", so a digit re-spelled outside Spector would otherwise go unseen.
    /// Digits and exponent are compared, not formatting: PostgreSQL's jsonb re-spells 1E+20 as
    /// 100000000000000000000.
    /// </summary>
    internal static void WriteUtf8(
        IBufferWriter<byte> output,
        ReadOnlySpan<byte> json,
        JsonReaderOptions options,
        bool checkSpelling,
        ref string? nonCanonical
    )
    {
        var reader = new Utf8JsonReader(json, options);
        reader.Read();
        WriteToken(ref reader, output, checkSpelling, ref nonCanonical);
        // Anything but whitespace after the value makes the reader throw, as a document parse does.
        if (reader.Read())
            throw new JsonException("JSON text holds more than one value.");
    }

    private static void WriteToken(
        ref Utf8JsonReader reader,
        IBufferWriter<byte> output,
        bool checkSpelling,
        ref string? nonCanonical
    )
    {
        switch (reader.TokenType)
        {
            case JsonTokenType.StartObject:
                WriteObject(ref reader, output, checkSpelling, ref nonCanonical);
                break;
            case JsonTokenType.StartArray:
                output.Write("["u8);
                var first = true;
                while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
                {
                    if (!first)
                        output.Write(","u8);
                    first = false;
                    WriteToken(ref reader, output, checkSpelling, ref nonCanonical);
                }
                output.Write("]"u8);
                break;
            case JsonTokenType.String:
                // Unescaped JSON text holds no quote, backslash or control character: it is canonical as it is.
                if (reader.ValueIsEscaped)
                    WriteString(output, reader.GetString()!);
                else
                    Quoted(output, reader.ValueSpan);
                break;
            case JsonTokenType.Number:
                WriteNumber(ref reader, output, checkSpelling, ref nonCanonical);
                break;
            case JsonTokenType.True:
                output.Write("true"u8);
                break;
            case JsonTokenType.False:
                output.Write("false"u8);
                break;
            case JsonTokenType.Null:
                output.Write("null"u8);
                break;
            default:
                throw new JsonException($"Cannot canonicalize a JSON {reader.TokenType}.");
        }
    }

    private static void WriteNumber(
        ref Utf8JsonReader reader,
        IBufferWriter<byte> output,
        bool checkSpelling,
        ref string? nonCanonical
    )
    {
        if (reader.TryGetInt64(out var integer) && integer is >= -MaxExactInteger and <= MaxExactInteger)
        {
            // The reader refuses leading zeros, so only "-0" is spelled otherwise than its digits.
            if (checkSpelling && nonCanonical is null && integer == 0 && reader.ValueSpan[0] == (byte)'-')
                nonCanonical = Encoding.UTF8.GetString(reader.ValueSpan);
            WriteInteger(output, integer);
            return;
        }
        if (!reader.TryGetDouble(out var number) || !double.IsFinite(number))
            throw NotADouble(Encoding.UTF8.GetString(reader.ValueSpan));
        // A negative zero is refused too: Spector stores -0 as 0, yet "-0" replays as a double's negative zero
        // while RFC 8785 hashes it as 0.
        if (checkSpelling && nonCanonical is null && Encoding.UTF8.GetString(reader.ValueSpan) is var text)
            if (!NumberText.SameValue(text, number) || (number == 0 && text[0] == '-'))
                nonCanonical = text;
        Raw(output, FormatNumber(number));
    }

    /// <summary>An integer as RFC 8785 writes one a double holds exactly: its plain digits.</summary>
    internal static void WriteInteger(IBufferWriter<byte> output, long value)
    {
        Utf8Formatter.TryFormat(value, output.GetSpan(20), out var written);
        output.Advance(written);
    }

    /// <summary>One member of an object: where its unescaped name and its canonical value sit in the
    /// scratch buffers.</summary>
    private readonly record struct Member(int NameStart, int NameLength, int ValueStart, int ValueLength, int Index);

    private static void WriteObject(
        ref Utf8JsonReader reader,
        IBufferWriter<byte> output,
        bool checkSpelling,
        ref string? nonCanonical
    )
    {
        // Scratch from the shared pools: hashing canonicalizes an object or two in every chained write.
        using var names = new PooledBufferWriter(128);
        using var values = new PooledBufferWriter(256);
        var members = ArrayPool<Member>.Shared.Rent(8);
        var count = 0;
        try
        {
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                var nameStart = names.WrittenCount;
                if (reader.ValueIsEscaped)
                {
                    var name = reader.GetString()!;
                    var span = names.GetSpan(StrictUtf8.GetMaxByteCount(name.Length));
                    names.Advance(StrictUtf8.GetBytes(name, span));
                }
                else
                {
                    names.Write(reader.ValueSpan);
                }
                var nameLength = names.WrittenCount - nameStart;
                reader.Read();
                var valueStart = values.WrittenCount;
                WriteToken(ref reader, values, checkSpelling, ref nonCanonical);
                if (count == members.Length)
                    members = Grown(members);
                members[count] = new Member(nameStart, nameLength, valueStart, values.WrittenCount - valueStart, count);
                count++;
            }
            var nameBytes = names.WrittenSpan;
            var sorted = members.AsSpan(0, count);
            sorted.Sort(new MemberOrder(names.WrittenMemory));
            output.Write("{"u8);
            for (var i = 0; i < sorted.Length; i++)
            {
                var member = sorted[i];
                if (i > 0)
                    output.Write(","u8);
                WriteUtf8String(output, nameBytes.Slice(member.NameStart, member.NameLength));
                output.Write(":"u8);
                output.Write(values.WrittenSpan.Slice(member.ValueStart, member.ValueLength));
            }
            output.Write("}"u8);
        }
        finally
        {
            ArrayPool<Member>.Shared.Return(members);
        }
    }

    private static Member[] Grown(Member[] members)
    {
        var larger = ArrayPool<Member>.Shared.Rent(members.Length * 2);
        members.CopyTo(larger, 0);
        ArrayPool<Member>.Shared.Return(members);
        return larger;
    }

    /// <summary>Members by name as RFC 8785 orders names; a name given twice keeps its input order (the sort itself
    /// is not stable).</summary>
    private readonly struct MemberOrder(ReadOnlyMemory<byte> names) : IComparer<Member>
    {
        public int Compare(Member a, Member b)
        {
            var span = names.Span;
            var byName = CompareUtf16(span.Slice(a.NameStart, a.NameLength), span.Slice(b.NameStart, b.NameLength));
            return byName != 0 ? byName : a.Index.CompareTo(b.Index);
        }
    }

    /// <summary>
    /// Orders two UTF-8 names as RFC 8785 orders them, by UTF-16 code units. Byte order is code point order, which
    /// is UTF-16 order unless a name holds a character outside the Basic Multilingual Plane (a four-byte sequence,
    /// led by 0xF0-0xF4): a surrogate sorts before U+E000-U+FFFF.
    /// </summary>
    private static int CompareUtf16(ReadOnlySpan<byte> a, ReadOnlySpan<byte> b)
    {
        if (a.IndexOfAnyInRange((byte)0xF0, (byte)0xFF) < 0 && b.IndexOfAnyInRange((byte)0xF0, (byte)0xFF) < 0)
            return a.SequenceCompareTo(b);
        return string.CompareOrdinal(Encoding.UTF8.GetString(a), Encoding.UTF8.GetString(b));
    }

    /// <summary>A string given as unescaped UTF-8, escaped as <see cref="WriteString"/> escapes it.</summary>
    private static void WriteUtf8String(IBufferWriter<byte> output, ReadOnlySpan<byte> text)
    {
        // In UTF-8 these bytes never occur inside a multi-byte sequence.
        if (text.IndexOfAnyInRange((byte)0, (byte)0x1F) < 0 && text.IndexOfAny((byte)'"', (byte)'\\') < 0)
            Quoted(output, text);
        else
            WriteString(output, Encoding.UTF8.GetString(text));
    }

    private static void Quoted(IBufferWriter<byte> output, ReadOnlySpan<byte> text)
    {
        var span = output.GetSpan(text.Length + 2);
        span[0] = (byte)'"';
        text.CopyTo(span[1..]);
        span[text.Length + 1] = (byte)'"';
        output.Advance(text.Length + 2);
    }

    private static JsonException NotADouble(string text) =>
        new($"The number {text} is outside the range of an IEEE 754 double, which RFC 8785 requires.");
}
