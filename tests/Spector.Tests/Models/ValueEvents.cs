using System.ComponentModel.DataAnnotations.Schema;
using System.Numerics;

namespace Spector.Tests;

/// <summary>A hashed table whose record carries one property of every kind of value Spector stores.</summary>
[EventsTable("value_events", Hashed = true)]
[EventSchema(typeof(Sample), 0)]
public partial class ValueEvents;

[Flags]
public enum Access
{
    None = 0,
    Read = 1,
    Write = 2,
}

[Evented(Table = "samples", Actions = ["adjust", "reprice"])]
public partial class Sample
{
    public Guid Id { get; set; }
    public string Text { get; set; } = "";
    public decimal Amount { get; set; }
    public long Count { get; set; }
    public int Small { get; set; }
    public double Ratio { get; set; }
    public float Single { get; set; }
    public bool Flag { get; set; }
    public DateTime At { get; set; }
    public DateTime? Until { get; set; }
    public DateTimeOffset When { get; set; }
    public Guid Ref { get; set; }
    public Plan Plan { get; set; }
    public Access Access { get; set; }

    [NotMapped]
    public ulong Huge { get; set; }

    [NotMapped]
    public Int128 Wide { get; set; }

    [NotMapped]
    public BigInteger Big { get; set; }

    [NotMapped]
    public List<decimal> Prices { get; set; } = [];

    public static readonly string[] Keys =
    [
        "text",
        "amount",
        "count",
        "small",
        "ratio",
        "single",
        "flag",
        "at",
        "until",
        "when",
        "ref",
        "plan",
        "access",
        "huge",
        "wide",
        "big",
        "prices",
    ];

    static void Changeset(Changeset<Sample> c) => c.Cast(Keys);

    /// <summary>A typed action: its parameters are stored as the attributes are.</summary>
    [OnAction("adjust")]
    static void Adjust(Changeset<Sample> c, decimal amount, long count, DateTime at, Plan plan)
    {
        c.Record.Amount = amount;
        c.Record.Count = count;
        c.Record.At = at;
        c.Record.Plan = plan;
    }

    /// <summary>Parameters of types with no scalar conversion: stored in their nested forms.</summary>
    [OnAction("reprice")]
    static void Reprice(Changeset<Sample> c, BigInteger big, List<decimal> prices, char mark)
    {
        c.Record.Big = big;
        c.Record.Prices = prices;
        c.Record.Text = mark.ToString();
    }
}
