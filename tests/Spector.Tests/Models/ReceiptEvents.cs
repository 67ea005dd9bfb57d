using System.Text.Json.Nodes;

namespace Spector.Tests;

/// <summary>A hashed table with per-record chains: each receipt's events chain on their own, with no table-wide
/// lock.</summary>
[EventsTable("receipts", Hashed = true, HashScope = HashScope.Record)]
[EventSchema(typeof(Receipt), 0)]
public partial class ReceiptEvents;

/// <summary>Savepoints every 4 events, so savepoints are chained too.</summary>
[Evented(Table = "receipt_rows", Actions = ["refund"], SavepointEvery = 4)]
public partial class Receipt
{
    public Guid Id { get; set; }
    public string Customer { get; set; } = "";
    public decimal Total { get; set; }
    public decimal Refunded { get; set; }

    [System.ComponentModel.DataAnnotations.Schema.NotMapped]
    public List<decimal> Lines { get; set; } = [];

    static void Changeset(Changeset<Receipt> c) =>
        c.Cast("customer", "total", "refunded", "lines").ValidateRequired("customer");

    [OnAction("refund")]
    static void Refund(Changeset<Receipt> c, decimal amount) => c.Record.Refunded += amount;

    static Attrs Savepoint(Receipt r, int version) =>
        new()
        {
            ["customer"] = r.Customer,
            ["total"] = r.Total,
            ["refunded"] = r.Refunded,
            ["lines"] = JsonValue.Create(r.Lines),
        };
}
