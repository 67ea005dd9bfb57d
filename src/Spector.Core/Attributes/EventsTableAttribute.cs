namespace Spector;

/// <summary>
/// Declares an event log table. Put it on a <c>partial</c> class and list the evented types it stores
/// with <see cref="EventSchemaAttribute"/>. The generator adds the table's runtime handle
/// (<c>Log</c>), store configuration (<c>UseSqlite</c>, <c>UsePostgres</c>) and migrations.
/// </summary>
[AttributeUsage(AttributeTargets.Class, Inherited = false)]
public sealed class EventsTableAttribute(string name) : Attribute
{
    /// <summary>The SQL table name of the event log.</summary>
    public string Name { get; } = name;

    /// <summary>
    /// Chains every event to the one before it with SHA-256 over an RFC 8785 envelope, so any change, removal
    /// or reordering of stored events is detected by <c>Log.VerifyHashChainAsync</c>.
    /// </summary>
    public bool Hashed { get; set; }

    /// <summary>
    /// What one hash chain covers on a <see cref="Hashed"/> table: the whole table (the default: one chain in
    /// position order, appends take turns on a chain lock) or each record (its events chain in sequence order
    /// from their own genesis, so writers to different records never wait for each other).
    /// </summary>
    public HashScope HashScope { get; set; }

    /// <summary>
    /// Spreads records over these events tables instead of one. Each shard gets its own link tables
    /// (<c>&lt;shard&gt;_&lt;link table&gt;</c>), positions and hash chain. Requires <see cref="ShardBy"/>.
    /// </summary>
    public string[]? Shards { get; set; }

    /// <summary>
    /// The name of a <c>static string Route(Guid recordId)</c> method of this class that returns the shard
    /// table storing a record. It must be deterministic: a record's events are always read from where it routes.
    /// </summary>
    public string? ShardBy { get; set; }
}

/// <summary>What one hash chain of a hashed events table covers.</summary>
public enum HashScope
{
    /// <summary>
    /// One chain over the whole table in position order. Every change, removal or reordering anywhere is
    /// caught and one head anchors the table; appends take turns on the chain lock, so they commit one at a time.
    /// </summary>
    Table,

    /// <summary>
    /// One chain per record in sequence order, each from 32 zero bytes. Appends need no table-wide lock (the
    /// record's sequence already orders them); a record's head anchors that record, and removing a whole
    /// record's events is caught only against an anchored head.
    /// </summary>
    Record,
}

/// <summary>
/// Gives an evented type a stable schema index in an events table. The index is what is stored in every
/// event row, so it must never be reused for another type.
/// </summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
public sealed class EventSchemaAttribute(Type type, int index) : Attribute
{
    /// <summary>The evented type.</summary>
    public Type Type { get; } = type;

    /// <summary>The stable index stored in the <c>schema</c> column.</summary>
    public int Index { get; } = index;
}
