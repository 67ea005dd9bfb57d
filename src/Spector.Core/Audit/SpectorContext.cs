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
    private static readonly AsyncLocal<SpectorContextScope?> Ambient = new();

    /// <summary>
    /// The context of the innermost open scope, or null outside every scope. A copy: changing its metadata changes
    /// nothing the scope stores.
    /// </summary>
    public static EventContext? Current =>
        Shared is { Metadata: { } metadata } context
            ? context with
            {
                Metadata = metadata,
            } // the init clones it
            : Shared;

    private static EventContext? Shared => SpectorContextScope.Live(Ambient.Value)?.Context;

    /// <summary>Opens a scope over the current one with the fields given here; dispose it to close it.</summary>
    /// <exception cref="ArgumentException">An id is empty, too long or not storable text.</exception>
    public static SpectorContextScope Begin(
        Actor? actor = null,
        string? reason = null,
        string? correlationId = null,
        string? causationId = null,
        JsonObject? metadata = null
    ) =>
        Begin(
            new EventContext
            {
                Actor = actor,
                Reason = reason,
                CorrelationId = correlationId,
                CausationId = causationId,
                Metadata = metadata,
            }
        );

    /// <summary>Opens a scope over the current one with every field <paramref name="context"/> sets.</summary>
    public static SpectorContextScope Begin(EventContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var outer = SpectorContextScope.Live(Ambient.Value);
        var scope = new SpectorContextScope((outer?.Context ?? EventContext.Empty).Overlay(context), outer);
        Ambient.Value = scope;
        return scope;
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

    internal static void Unwind(SpectorContextScope closed)
    {
        if (ReferenceEquals(Ambient.Value, closed))
            Ambient.Value = SpectorContextScope.Live(closed.Outer);
    }
}

/// <summary>
/// An open <see cref="SpectorContext"/> scope. Disposing it ends it everywhere: in the flow that opened it, in
/// work that flow started, and when disposed out of order or from another flow (a DI container's scope end): an
/// inner scope still open keeps what it took from it until it closes too, then the nearest scope still open is
/// current again.
/// </summary>
public sealed class SpectorContextScope : IDisposable
{
    private volatile bool _disposed;

    internal SpectorContextScope(EventContext context, SpectorContextScope? outer)
    {
        Context = context;
        Outer = outer;
    }

    internal EventContext Context { get; }

    internal SpectorContextScope? Outer { get; }

    /// <summary><paramref name="scope"/>, or its nearest enclosing scope not yet disposed.</summary>
    internal static SpectorContextScope? Live(SpectorContextScope? scope)
    {
        while (scope is { _disposed: true })
            scope = scope.Outer;
        return scope;
    }

    /// <summary>Ends the scope; the nearest enclosing scope still open (or none) is current again.</summary>
    public void Dispose()
    {
        _disposed = true;
        SpectorContext.Unwind(this);
    }
}
