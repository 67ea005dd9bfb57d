namespace Spector.Generators.Tests;

/// <summary>Consumer source used by several tests.</summary>
internal static class Sources
{
    public const string EventsTable = """
        using Spector;

        namespace Shop;

        [EventsTable("events")]
        [EventSchema(typeof(Order), 0)]
        [EventSchema(typeof(Cart), 1)]
        [ActionAlias("pay", "settle")]
        [EventLink("amends", "order_amends", "amended_id")]
        [EventLink("refs", "order_refs", "ref_id", Typed = true)]
        public partial class ShopEvents;
        """;

    public const string Order = """
        using System;
        using System.ComponentModel.DataAnnotations.Schema;
        using Spector;

        namespace Shop;

        public enum OrderState { Open, Paid }

        [Evented(Version = 2, Table = "orders", Actions = ["pay", "cancel"])]
        public partial class Order
        {
            public Guid Id { get; set; }
            public string Customer { get; set; } = "";
            public string? Note { get; set; }
            public decimal Total { get; set; }
            public int? Items { get; set; }
            public OrderState State { get; set; }
            [Column("paid")] public DateTimeOffset? PaidAt { get; set; }
            [NotMapped] public string[] Lines { get; set; } = [];
            public DateTimeOffset InsertedAt { get; set; }

            static void Changeset(Changeset<Order> c) =>
                c.Cast("customer", "note", "total", "items", "state", "paid_at", "lines", "inserted_at");

            [OnAction("pay")]
            static void Pay(Changeset<Order> c, decimal amount, OrderState state, string[] receipt) =>
                c.Record.Total -= amount;

            [OnAction("pay"), VersionIn(0, 1)]
            static void PayBeforeV2(Changeset<Order> c) => c.Record.State = OrderState.Paid;

            [VersionIs(0)]
            static void FromV0(Changeset<Order> c) { c.Attrs.Rename("client", "customer"); Changeset(c); }
        }
        """;

    public const string Cart = """
        using System;
        using System.Collections.Generic;
        using Spector;

        namespace Shop;

        [Evented]
        public partial class Cart
        {
            public Guid Id { get; set; }
            public List<string> Skus { get; set; } = new();

            static void Changeset(Changeset<Cart> c) => c.Cast("skus");
        }
        """;
}
