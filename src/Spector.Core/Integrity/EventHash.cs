using System.Buffers;
using System.Buffers.Text;
using System.Globalization;
using System.Security.Cryptography;

namespace Spector;

/// <summary>
/// The hash chain: <c>hash_n = SHA-256(hash_{n-1} || JCS(envelope_n))</c> with <c>hash_0</c> = 32 zero bytes.
/// The envelope covers every stored field of the event and no names, so renaming a type or aliasing an
/// action never breaks old hashes:
/// <code>{"action":2,"id":"…","inserted_at":1763836800000000,"links":[],"metadata":null,"parent_id":"…",
/// "payload":{…},"schema":0,"seq":2,"v":1}</code>
/// Ids are lowercase hyphenated UUIDs, <c>inserted_at</c> is microseconds since the Unix epoch. An event stored
/// with a context (<see cref="StoredContext"/>: actor, correlation, causation, reason, trace, span) is hashed with
/// envelope version 2, which adds <c>"context":{…}</c> holding the non-null columns by name; every other event
/// keeps version 1, so events written before the context columns existed verify unchanged.
/// </summary>
public static class EventHash
{
    /// <summary>The envelope format version of events stored without a context.</summary>
    public const int EnvelopeVersion = 1;

    /// <summary>The envelope format version of events stored with a context.</summary>
    public const int ContextEnvelopeVersion = 2;

    /// <summary>The hash before the first event.</summary>
    public static ReadOnlySpan<byte> Genesis => new byte[32];

    /// <summary>Computes one link of the chain.</summary>
    public static byte[] Compute(
        ReadOnlySpan<byte> previous,
        Guid id,
        Guid parentId,
        long seq,
        int schema,
        int action,
        DateTimeOffset insertedAt,
        string payload,
        string? metadata,
        IReadOnlyList<EventLinkRow>? links = null,
        StoredContext context = default
    ) =>
        Compute(
            previous,
            id,
            parentId,
            seq,
            schema,
            action,
            insertedAt,
            payload,
            metadata,
            links,
            context,
            checkNumbers: false,
            out _
        );

    /// <summary>
    /// Computes one link of the chain; with <paramref name="checkNumbers"/>, as verification does, also returns the
    /// first number of the payload or metadata not spelled as Spector writes it (it hashes like the original yet is
    /// not what was written), found in the same parse that canonicalizes them.
    /// </summary>
    internal static byte[] Compute(
        ReadOnlySpan<byte> previous,
        Guid id,
        Guid parentId,
        long seq,
        int schema,
        int action,
        DateTimeOffset insertedAt,
        string payload,
        string? metadata,
        IReadOnlyList<EventLinkRow>? links,
        StoredContext context,
        bool checkNumbers,
        out string? nonCanonicalNumber
    )
    {
        using var buffer = new PooledBufferWriter(512);
        buffer.Write(previous);
        nonCanonicalNumber = null;
        WriteEnvelope(
            buffer,
            id,
            parentId,
            seq,
            schema,
            action,
            insertedAt,
            payload,
            metadata,
            links,
            context,
            checkNumbers,
            ref nonCanonicalNumber
        );
        return SHA256.HashData(buffer.WrittenSpan);
    }

    /// <summary>The canonical envelope bytes (what follows the previous hash in the hashed input).</summary>
    public static byte[] Envelope(
        Guid id,
        Guid parentId,
        long seq,
        int schema,
        int action,
        DateTimeOffset insertedAt,
        string payload,
        string? metadata,
        IReadOnlyList<EventLinkRow>? links = null,
        StoredContext context = default
    )
    {
        using var buffer = new PooledBufferWriter(512);
        string? ignored = null;
        WriteEnvelope(
            buffer,
            id,
            parentId,
            seq,
            schema,
            action,
            insertedAt,
            payload,
            metadata,
            links,
            context,
            checkNumbers: false,
            ref ignored
        );
        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>Microseconds since the Unix epoch, as stored and hashed.</summary>
    public static long Micros(DateTimeOffset value) => (value.UtcTicks - DateTimeOffset.UnixEpoch.UtcTicks) / 10;

    // Members in RFC 8785 order (sorted by name); each value is written canonically.
    private static void WriteEnvelope(
        PooledBufferWriter output,
        Guid id,
        Guid parentId,
        long seq,
        int schema,
        int action,
        DateTimeOffset insertedAt,
        string payload,
        string? metadata,
        IReadOnlyList<EventLinkRow>? links,
        StoredContext context,
        bool checkNumbers,
        ref string? nonCanonicalNumber
    )
    {
        output.Write("{\"action\":"u8);
        Jcs.WriteInteger(output, action);
        if (!context.IsEmpty)
        {
            output.Write(",\"context\":{"u8);
            var firstMember = true;
            foreach (var (name, value) in context.EnvelopeMembers())
            {
                output.Write(firstMember ? "\""u8 : ",\""u8);
                firstMember = false;
                Jcs.Raw(output, name);
                output.Write("\":"u8);
                Jcs.WriteString(output, value);
            }
            output.Write("}"u8);
        }
        output.Write(",\"id\":"u8);
        Uuid(output, id);
        output.Write(",\"inserted_at\":"u8);
        Jcs.WriteInteger(output, Micros(insertedAt));
        output.Write(",\"links\":["u8);
        var first = true;
        foreach (var link in Sorted(links))
        {
            output.Write(first ? "["u8 : ",["u8);
            first = false;
            Jcs.WriteString(output, link.Name);
            output.Write(","u8);
            Uuid(output, link.Target);
            if (link.Type is { } type)
            {
                output.Write(","u8);
                Jcs.WriteInteger(output, type);
            }
            output.Write("]"u8);
        }
        output.Write("],\"metadata\":"u8);
        if (metadata is null)
            output.Write("null"u8);
        else
            Canonical(output, metadata, checkNumbers, ref nonCanonicalNumber);
        output.Write(",\"parent_id\":"u8);
        Uuid(output, parentId);
        output.Write(",\"payload\":"u8);
        Canonical(output, payload, checkNumbers, ref nonCanonicalNumber);
        output.Write(",\"schema\":"u8);
        Jcs.WriteInteger(output, schema);
        output.Write(",\"seq\":"u8);
        Jcs.WriteInteger(output, seq);
        output.Write(",\"v\":"u8);
        Jcs.WriteInteger(output, context.IsEmpty ? EnvelopeVersion : ContextEnvelopeVersion);
        output.Write("}"u8);
    }

    /// <summary>Links in the envelope's order: by name, then target id text, then type (ordinal).</summary>
    public static IEnumerable<EventLinkRow> Sorted(IReadOnlyList<EventLinkRow>? links) =>
        links is null or { Count: 0 }
            ? []
            : links
                .OrderBy(l => l.Name, StringComparer.Ordinal)
                .ThenBy(l => l.Target.ToString("D"), StringComparer.Ordinal)
                .ThenBy(l => l.Type);

    /// <summary>Parses the links text of the chain query.</summary>
    internal static IReadOnlyList<EventLinkRow> ParseLinks(string? text)
    {
        if (string.IsNullOrEmpty(text))
            return [];
        return text.Split(',')
            .Select(item =>
            {
                var parts = item.Split(' ');
                return new EventLinkRow(
                    parts[0],
                    Guid.Parse(parts[1]),
                    parts.Length > 2 ? int.Parse(parts[2], CultureInfo.InvariantCulture) : null
                );
            })
            .ToList();
    }

    private static void Canonical(
        PooledBufferWriter output,
        string json,
        bool checkNumbers,
        ref string? nonCanonicalNumber
    )
    {
        string? found = null;
        Jcs.WriteText(output, json, checkNumbers, ref found);
        nonCanonicalNumber ??= found;
    }

    // Lowercase and hyphenated, as Guid.ToString("D") writes it.
    private static void Uuid(PooledBufferWriter output, Guid value)
    {
        var span = output.GetSpan(38);
        span[0] = (byte)'"';
        Utf8Formatter.TryFormat(value, span[1..], out var written, 'D');
        span[written + 1] = (byte)'"';
        output.Advance(written + 2);
    }
}
