using System.Buffers;
using System.Globalization;
using System.Security.Cryptography;
using System.Text.Json;

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
        var buffer = new ArrayBufferWriter<byte>(512);
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
        var buffer = new ArrayBufferWriter<byte>(512);
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
        ArrayBufferWriter<byte> output,
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
        Raw(output, "{\"action\":" + action.ToString(CultureInfo.InvariantCulture));
        if (!context.IsEmpty)
        {
            Raw(output, ",\"context\":{");
            var firstMember = true;
            foreach (var (name, value) in context.EnvelopeMembers())
            {
                Raw(output, firstMember ? "\"" : ",\"");
                firstMember = false;
                Raw(output, name + "\":");
                Jcs.WriteString(output, value);
            }
            Raw(output, "}");
        }
        Raw(output, ",\"id\":\"" + id.ToString("D") + "\"");
        Raw(output, ",\"inserted_at\":" + Micros(insertedAt).ToString(CultureInfo.InvariantCulture));
        Raw(output, ",\"links\":[");
        var first = true;
        foreach (var link in Sorted(links))
        {
            if (!first)
                Raw(output, ",");
            first = false;
            Raw(output, "[");
            Jcs.WriteString(output, link.Name);
            Raw(output, ",\"" + link.Target.ToString("D") + "\"");
            if (link.Type is { } type)
                Raw(output, "," + type.ToString(CultureInfo.InvariantCulture));
            Raw(output, "]");
        }
        Raw(output, "]");
        Raw(output, ",\"metadata\":");
        if (metadata is null)
            Raw(output, "null");
        else
            Canonical(output, metadata, checkNumbers, ref nonCanonicalNumber);
        Raw(output, ",\"parent_id\":\"" + parentId.ToString("D") + "\"");
        Raw(output, ",\"payload\":");
        Canonical(output, payload, checkNumbers, ref nonCanonicalNumber);
        Raw(output, ",\"schema\":" + schema.ToString(CultureInfo.InvariantCulture));
        Raw(output, ",\"seq\":" + seq.ToString(CultureInfo.InvariantCulture));
        var version = context.IsEmpty ? EnvelopeVersion : ContextEnvelopeVersion;
        Raw(output, ",\"v\":" + version.ToString(CultureInfo.InvariantCulture) + "}");
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
        ArrayBufferWriter<byte> output,
        string json,
        bool checkNumbers,
        ref string? nonCanonicalNumber
    )
    {
        using var document = JsonDocument.Parse(json);
        if (!checkNumbers)
            Jcs.Write(output, document.RootElement);
        else if (Jcs.WriteCheckingNumbers(output, document.RootElement) is { } found)
            nonCanonicalNumber ??= found;
    }

    private static void Raw(ArrayBufferWriter<byte> output, string ascii)
    {
        var span = output.GetSpan(ascii.Length);
        for (var i = 0; i < ascii.Length; i++)
            span[i] = (byte)ascii[i];
        output.Advance(ascii.Length);
    }
}
