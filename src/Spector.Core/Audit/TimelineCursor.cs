using System.Buffers.Binary;
using System.Globalization;
using System.Text;

namespace Spector;

/// <summary>
/// The opaque cursor of a timeline: the position of the last event shown and a fingerprint of the query that
/// produced it, so a cursor cannot silently page another query. Base64url text, so it travels in URLs.
/// </summary>
internal static class TimelineCursor
{
    private const byte Version = 1;

    public static string Encode(TimelineQuery query, string table, long position)
    {
        Span<byte> bytes = stackalloc byte[17];
        bytes[0] = Version;
        BinaryPrimitives.WriteInt64BigEndian(bytes[1..], position);
        BinaryPrimitives.WriteUInt64BigEndian(bytes[9..], Fingerprint(query, table));
        return Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');
    }

    /// <exception cref="ArgumentException">The text is no cursor, or a cursor of another query or table.</exception>
    public static long Decode(string cursor, TimelineQuery query, string table)
    {
        var text = cursor.Replace('-', '+').Replace('_', '/');
        text += new string('=', (4 - text.Length % 4) % 4);
        var bytes = new byte[17];
        var read = cursor.Length == 23 && Convert.TryFromBase64String(text, bytes, out var written) && written == 17;
        if (!read || bytes[0] != Version)
            throw new ArgumentException($"'{Shorten(cursor)}' is not a timeline cursor of events table {table}.",
                nameof(cursor));
        if (BinaryPrimitives.ReadUInt64BigEndian(bytes.AsSpan(9)) != Fingerprint(query, table))
            throw new ArgumentException(
                $"The cursor was issued for another timeline query or table than this one on {table}: " +
                "page a query with its own cursors.",
                nameof(cursor));
        return BinaryPrimitives.ReadInt64BigEndian(bytes.AsSpan(1));
    }

    /// <summary>FNV-1a over the query's filters and the table: stable across processes and versions.</summary>
    private static ulong Fingerprint(TimelineQuery q, string table)
    {
        var text = string.Join("\u001f", table, q.Actor?.Type, q.Actor?.Id, q.CorrelationId, q.CausedBy, q.TraceId,
            q.RecordId?.ToString("D"), q.Schema?.ToString(CultureInfo.InvariantCulture), q.Action,
            q.From?.UtcTicks.ToString(CultureInfo.InvariantCulture),
            q.To?.UtcTicks.ToString(CultureInfo.InvariantCulture),
            q.NewestFirst ? "n" : "o");
        var hash = 14695981039346656037UL;
        foreach (var b in Encoding.UTF8.GetBytes(text))
        {
            hash ^= b;
            hash *= 1099511628211UL;
        }
        return hash;
    }

    private static string Shorten(string text) => text.Length <= 40 ? text : text[..40] + "...";
}
