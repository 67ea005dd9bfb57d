using Spector;

namespace AuditTrailSample;

/// <summary>A small shop: products with their own table, orders embedded in the log.</summary>
[EventsTable("audit_shop_events")]
[EventSchema(typeof(Product), 0)]
[EventSchema(typeof(Order), 1)]
public partial class ShopEvents;

[Evented(Table = "shop_products", Actions = ["reprice"])]
public partial class Product
{
    public Guid Id { get; set; }
    public string Name { get; set; } = "";
    public decimal Price { get; set; }
    public int Stock { get; set; }

    static void Changeset(Changeset<Product> c) => c.Cast("name", "price", "stock").ValidateRequired("name");

    [OnAction("reprice")]
    static void Reprice(Changeset<Product> c, decimal price)
    {
        if (price <= 0)
            c.AddError("price", "must be positive");
        c.Record.Price = price;
    }
}

[Evented(Actions = ["ship"])]
public partial class Order
{
    public Guid Id { get; set; }
    public Guid ProductId { get; set; }
    public int Quantity { get; set; }
    public bool Shipped { get; set; }

    static void Changeset(Changeset<Order> c) =>
        c.Cast("product_id", "quantity").ValidateRequired("product_id", "quantity");

    [OnAction("ship")]
    static void Ship(Changeset<Order> c) => c.Record.Shipped = true;
}
