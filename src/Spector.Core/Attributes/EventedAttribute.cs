namespace Spector;

/// <summary>
/// Marks a <c>partial</c> class whose state lives in an event log. The generator emits typed
/// <c>InsertAsync</c>, <c>UpdateAsync</c>, <c>DeleteAsync</c>, <c>GetAsync</c> and <c>AllEventsAsync</c>
/// methods and the replay dispatcher that feeds stored events through the class's
/// <c>static void Changeset(Changeset&lt;T&gt; c)</c> handler.
/// </summary>
[AttributeUsage(AttributeTargets.Class, Inherited = false)]
public sealed class EventedAttribute : Attribute
{
    /// <summary>Payload version stamped into every new event as <c>__version__</c>.</summary>
    public int Version { get; set; }

    /// <summary>
    /// Custom actions besides insert, update and delete. Each gets a stable stored code (see
    /// <see cref="ActionCodes"/>) and a generated <c>&lt;Action&gt;Async</c> method.
    /// </summary>
    public string[] Actions { get; set; } = [];

    /// <summary>
    /// With a <c>Savepoint</c> hook: append a savepoint automatically after every this many events, so replay
    /// (and so every write) reads at most this many events. 0, the default, means only explicit savepoints.
    /// </summary>
    public int SavepointEvery { get; set; }

    /// <summary>
    /// The record's own table, written in the same transaction as each event. When omitted the record is
    /// embedded: its state lives only in the event log.
    /// </summary>
    public string? Table { get; set; }
}
