namespace Spector.Benchmarks.Model;

/// <summary>The audit benchmark's own table, so its million events leave the other benchmarks' tables alone.</summary>
[EventsTable("bench_audit_events")]
[EventSchema(typeof(AuditedItem), 0)]
public static partial class BenchAuditEvents;

/// <summary>An embedded record: the timeline reads events only.</summary>
[Evented(Version = 1)]
public partial class AuditedItem
{
    public Guid Id { get; set; }
    public string Name { get; set; } = "";

    static void Changeset(Changeset<AuditedItem> c) => c.Cast("name");
}
