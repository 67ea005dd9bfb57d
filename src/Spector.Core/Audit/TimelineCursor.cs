using System.Buffers.Binary;
using System.Globalization;
using System.Text;

namespace Spector;

/// <summary>
/// A point of a timeline: the last event shown. An unsharded log orders by <see cref="Position"/> alone; a
/// sharded one by (<see cref="At"/>, <see cref="Shard"/>, <see cref="Position"/>), since positions of different
/// shards are not comparable.
/// </summary>
internal readonly record struct TimelineKey(long Position, DateTimeOffset At, int Shard)
{
    public static TimelineKey Of(EventLog log, StoredEvent e) =>
        new(e.Position, e.InsertedAt, log.IsSharded ? IndexOf(log, log.ShardFor(e.ParentId)) : 0);

    private static int IndexOf(EventLog log, EventShard shard)
    {
        for (var i = 0; i < log.Shards.Count; i++)
            if (ReferenceEquals(log.Shards[i], shard))
                return i;
        throw new InvalidOperationException($"{shard.Table} is no shard of events table {log.Table}.");
    }

    /// <summary>Compares in the oldest-first order of a sharded log's timeline.</summary>
    public int CompareByTime(TimelineKey other)
    {
        var byTime = At.UtcTicks.CompareTo(other.At.UtcTicks);
        if (byTime != 0)
            return byTime;
        var byShard = Shard.CompareTo(other.Shard);
        return byShard != 0 ? byShard : Position.CompareTo(other.Position);
    }
}

/// <summary>
/// The opaque cursor of a timeline: the position of the last event shown and a fingerprint of the query that
/// produced it, so a cursor cannot silently page another query. Base64url text, so it travels in URLs.
/// </summary>
internal static class TimelineCursor
{
    private const byte Version = 1;

    /// <summary>The cursor after <paramref name="key"/>: 23 characters on an unsharded log (its position), 36 on a
    /// sharded one (time, shard and position).</summary>
    public static string Encode(TimelineQuery query, EventLog log, TimelineKey key)
    {
        var sharded = log.IsSharded;
        Span<byte> bytes = stackalloc byte[sharded ? ShardedLength : UnshardedLength];
        bytes[0] = sharded ? ShardedVersion : Version;
        BinaryPrimitives.WriteInt64BigEndian(bytes[1..], key.Position);
        BinaryPrimitives.WriteUInt64BigEndian(bytes[9..], Fingerprint(query, Tables(log)));
        if (sharded)
        {
            BinaryPrimitives.WriteInt64BigEndian(bytes[17..], key.At.UtcTicks);
            BinaryPrimitives.WriteUInt16BigEndian(bytes[25..], (ushort)key.Shard);
        }
        return Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');
    }

    /// <exception cref="ArgumentException">The text is no cursor, or a cursor of another query or table.</exception>
    public static TimelineKey Decode(string cursor, TimelineQuery query, EventLog log)
    {
        var sharded = log.IsSharded;
        var length = sharded ? ShardedLength : UnshardedLength;
        var text = cursor.Replace('-', '+').Replace('_', '/');
        text += new string('=', (4 - text.Length % 4) % 4);
        var bytes = new byte[length];
        var read =
            cursor.Length == (length * 4 + 2) / 3
            && Convert.TryFromBase64String(text, bytes, out var written)
            && written == length;
        if (!read || bytes[0] != (sharded ? ShardedVersion : Version))
            throw new ArgumentException(
                $"'{Shorten(cursor)}' is not a timeline cursor of events table {log.Table}.",
                nameof(cursor)
            );
        if (BinaryPrimitives.ReadUInt64BigEndian(bytes.AsSpan(9)) != Fingerprint(query, Tables(log)))
            throw new ArgumentException(
                $"The cursor was issued for another timeline query or table than this one on {log.Table}: "
                    + "page a query with its own cursors.",
                nameof(cursor)
            );
        var position = BinaryPrimitives.ReadInt64BigEndian(bytes.AsSpan(1));
        if (!sharded)
            return new TimelineKey(position, default, 0);
        var ticks = BinaryPrimitives.ReadInt64BigEndian(bytes.AsSpan(17));
        var shard = BinaryPrimitives.ReadUInt16BigEndian(bytes.AsSpan(25));
        // The fingerprint makes a forged cursor unlikely; a damaged one must still not reach the database.
        if (
            ticks < DateTimeOffset.MinValue.UtcTicks
            || ticks > DateTimeOffset.MaxValue.UtcTicks
            || shard >= log.Shards.Count
        )
            throw new ArgumentException(
                $"'{Shorten(cursor)}' is not a timeline cursor of events table {log.Table}.",
                nameof(cursor)
            );
        return new TimelineKey(position, new DateTimeOffset(ticks, TimeSpan.Zero), shard);
    }

    private const byte ShardedVersion = 2;
    private const int UnshardedLength = 17;
    private const int ShardedLength = 27;

    /// <summary>An unsharded log's table name (as cursors issued before shards were paged), or every shard's.</summary>
    private static string Tables(EventLog log) =>
        log.IsSharded ? log.Table + ":" + string.Join(",", log.Shards.Select(s => s.Table)) : log.Shards[0].Table;

    /// <summary>FNV-1a over the query's filters and the table: stable across processes and versions.</summary>
    private static ulong Fingerprint(TimelineQuery q, string table)
    {
        var text = string.Join(
            "\u001f",
            table,
            q.Actor?.Type,
            q.Actor?.Id,
            q.CorrelationId,
            q.CausedBy,
            q.TraceId,
            q.RecordId?.ToString("D"),
            q.Schema?.ToString(CultureInfo.InvariantCulture),
            q.Action,
            q.From?.UtcTicks.ToString(CultureInfo.InvariantCulture),
            q.To?.UtcTicks.ToString(CultureInfo.InvariantCulture),
            q.NewestFirst ? "n" : "o"
        );
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
