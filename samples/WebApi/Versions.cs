using System.Globalization;
using Spector;

namespace WebApi;

/// <summary>HTTP's optimistic concurrency and the caller's identity, as Spector write options.</summary>
internal static class Versions
{
    /// <summary>The header naming who makes the request; a real app takes the authenticated user instead.</summary>
    public const string ActorHeader = "X-Actor";

    public static string ETag(long seq) => $"\"{seq.ToString(CultureInfo.InvariantCulture)}\"";

    /// <summary>
    /// If-Match becomes <see cref="WriteOptions.ExpectedSeq"/>; the actor header becomes the event's actor (the audit
    /// trail's context, stored in its own column).
    /// </summary>
    public static WriteOptions WriteOptions(HttpRequest request)
    {
        long? expected = null;
        if (request.Headers.IfMatch is { Count: > 0 } ifMatch)
        {
            var tag = ifMatch.ToString().Trim();
            var quoted = tag.Length >= 3 && tag[0] == '"' && tag[^1] == '"';
            if (
                !quoted
                || !long.TryParse(
                    tag.AsSpan(1, tag.Length - 2),
                    NumberStyles.None,
                    CultureInfo.InvariantCulture,
                    out var seq
                )
                || seq < 1
            )
                throw new BadHttpRequestException($"If-Match must be one ETag of this API (\"<seq>\"), not {tag}.");
            expected = seq;
        }
        var actor = request.Headers[ActorHeader].ToString();
        return new WriteOptions
        {
            ExpectedSeq = expected,
            Context = actor.Length == 0 ? null : new EventContext { Actor = ActorFrom(actor) },
        };
    }

    // The header is the client's text: one Spector cannot store (too long, control characters) is the client's
    // mistake, a 400, not a server error.
    private static Actor ActorFrom(string header)
    {
        try
        {
            return new Actor("user", header);
        }
        catch (ArgumentException e)
        {
            throw new BadHttpRequestException($"{ActorHeader}: {e.Message}");
        }
    }
}
