using System.Text.Json.Serialization;
using Spector;

namespace Spector.AotProbe;

[EventsTable("aot_events", Hashed = true)]
[EventSchema(typeof(Parcel), 0)]
[EventSchema(typeof(Courier), 1)]
public partial class AotEvents;

public sealed record Address(string Street, string City, int[] Floors);

[Evented(Actions = ["relabel"])]
public partial class Parcel
{
    public Guid Id { get; set; }
    public string Label { get; set; } = "";
    public List<string> Tags { get; set; } = [];
    public Address? Destination { get; set; }
    public Dictionary<string, decimal> Weights { get; set; } = [];

    static void Changeset(Changeset<Parcel> c) =>
        c.Cast("label", "tags", "destination", "weights").ValidateRequired("label");

    [OnAction("relabel")]
    static void Relabel(Changeset<Parcel> c, string label, List<string> tags)
    {
        c.Record.Label = label;
        c.Record.Tags = tags;
    }
}

/// <summary>A record with a row of its own: the record-table writes run under Native AOT too.</summary>
[Evented(Table = "couriers")]
public partial class Courier
{
    public Guid Id { get; set; }
    public string Name { get; set; } = "";
    public decimal Rate { get; set; }
    public DateTimeOffset? HiredAt { get; set; }

    static void Changeset(Changeset<Courier> c) => c.Cast("name", "rate", "hired_at").ValidateRequired("name");
}

/// <summary>Build-time JSON metadata of the non-scalar values the probe stores: what Native AOT needs.</summary>
[JsonSerializable(typeof(List<string>))]
[JsonSerializable(typeof(Address))]
[JsonSerializable(typeof(Dictionary<string, decimal>))]
internal sealed partial class ProbeJson : JsonSerializerContext;
