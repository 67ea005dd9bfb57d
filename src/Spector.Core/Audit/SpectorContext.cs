using System.Text.Json.Nodes;

namespace Spector;

/// <summary>
/// The ambient <see cref="EventContext"/> of the current async flow. Every event written inside a scope (inserts,
/// updates, actions, deletes, savepoints, bring-up) stores its context:
/// <code>using var scope = SpectorContext.Begin(actor: new Actor("user", "42"), reason: "support ticket 7");</code>
/// Scopes nest: an inner scope keeps what it does not set from the outer one, and disposing it restores the outer.
/// The context flows with <c>await</c> (it is an <see cref="AsyncLocal{T}"/>), never across unrelated requests.
/// </summary>
public static class SpectorContext
{
    private static readonly AsyncLocal<EventContext?> Ambient = new();

    /// <summary>The context of the innermost open scope, or null outside every scope.</summary>
    public static EventContext? Current => Ambient.Value;

    /// <summary>Opens a scope over the current one with the fields given here; dispose it to close it.</summary>
    /// <exception cref="ArgumentException">An id is empty, too long or not storable text.</exception>
    public static SpectorContextScope Begin(Actor? actor = null, string? reason = null, string? correlationId = null,
        string? causationId = null, JsonObject? metadata = null) =>
        Begin(new EventContext
        {
            Actor = actor, Reason = reason, CorrelationId = correlationId, CausationId = causationId,
            Metadata = (JsonObject?)metadata?.DeepClone(),
        });

    /// <summary>Opens a scope over the current one with every field <paramref name="context"/> sets.</summary>
    public static SpectorContextScope Begin(EventContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var previous = Ambient.Value;
        Ambient.Value = (previous ?? EventContext.Empty).Overlay(context);
        return new SpectorContextScope(previous);
    }

    /// <summary>
    /// Opens a scope for work caused by <paramref name="cause"/>: its id becomes the causation id and its
    /// correlation id (when it has one) is kept, so the new events join its operation and its causation chain.
    /// </summary>
    public static SpectorContextScope CausedBy(StoredEvent cause)
    {
        ArgumentNullException.ThrowIfNull(cause);
        return Begin(new EventContext { CausationId = cause.Id.ToString("D"), CorrelationId = cause.CorrelationId });
    }

    internal static void Restore(EventContext? previous) => Ambient.Value = previous;
}

/// <summary>An open <see cref="SpectorContext"/> scope; disposing it restores the enclosing context.</summary>
public sealed class SpectorContextScope : IDisposable
{
    private readonly EventContext? _previous;
    private bool _disposed;

    internal SpectorContextScope(EventContext? previous) => _previous = previous;

    /// <summary>Restores the context that was current when the scope opened.</summary>
    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        SpectorContext.Restore(_previous);
    }
}
