using Spector;

namespace Spector.ReplayProbe;

[EventsTable("probe_events", Hashed = true)]
[EventSchema(typeof(Shipment), 0)]
public partial class ProbeEvents;

[Evented(Table = "shipments", Actions = ["ship"])]
public partial class Shipment
{
    public Guid Id { get; set; }
    public string Label { get; set; } = "";
    public DateTime PlacedAt { get; set; }
    public DateTime? DueAt { get; set; }
    public DateTimeOffset ConfirmedAt { get; set; }
    public DateTime? ShippedAt { get; set; }
    public decimal Amount { get; set; }

    static void Changeset(Changeset<Shipment> c) => c.Cast("label", "placed_at", "due_at", "confirmed_at", "amount");

    [OnAction("ship")]
    static void Ship(Changeset<Shipment> c, DateTime shippedAt) => c.Record.ShippedAt = shippedAt;
}

/// <summary>An unhashed table the probe also writes rows to by hand, in the form older versions stored.</summary>
[EventsTable("probe_plain")]
[EventSchema(typeof(Parcel), 0)]
public partial class PlainEvents;

[Evented]
public partial class Parcel
{
    public Guid Id { get; set; }
    public DateTime At { get; set; }

    static void Changeset(Changeset<Parcel> c) => c.Cast("at");
}
