using Dapper;
using Spector;

namespace Followers;

[EventsTable("shop_events")]
[EventSchema(typeof(Order), 0)]
public partial class ShopEvents;

/// <summary>An order; its day is a plain date text so the projection groups it the same in every time zone.</summary>
[Evented(Table = "orders")]
public partial class Order
{
    public Guid Id { get; set; }
    public string Customer { get; set; } = "";
    public string Day { get; set; } = "";
    public long AmountCents { get; set; }

    static void Changeset(Changeset<Order> c) =>
        c.Cast("customer", "day", "amount_cents").ValidateRequired("customer", "day");
}

/// <summary>
/// Orders and their total per customer per day, across every order record. Only inserts count, so each order
/// event adds exactly one to its row: a lost event or a double delivery shows in the figures.
/// </summary>
public sealed class OrdersPerCustomerDay() : Projection("orders_per_customer_day", ShopEvents.Log)
{
    public const string Table = "orders_per_customer_day";

    public override IReadOnlyCollection<string> Actions => ["insert"];

    public override IReadOnlyList<string> CreateSql(SqlDialect dialect) =>
        [
            $"""
                CREATE TABLE IF NOT EXISTS "{Table}" (
                    "customer" text NOT NULL,
                    "day" text NOT NULL,
                    "orders" bigint NOT NULL,
                    "total_cents" bigint NOT NULL,
                    PRIMARY KEY ("customer", "day")
                )
                """,
        ];

    public override IReadOnlyList<string> ClearSql(SqlDialect dialect) => [$"""DELETE FROM "{Table}" """];

    public override Task ApplyAsync(FollowedEvent followed, SpectorSession session, CancellationToken cancellationToken)
    {
        var attrs = followed.Event.ReadAttrs();
        return session.Connection.ExecuteAsync(
            new CommandDefinition(
                $"""
                INSERT INTO "{Table}" ("customer", "day", "orders", "total_cents") VALUES (@customer, @day, 1, @amount)
                ON CONFLICT ("customer", "day") DO UPDATE SET "orders" = "{Table}"."orders" + 1,
                    "total_cents" = "{Table}"."total_cents" + excluded."total_cents"
                """,
                new
                {
                    customer = attrs["customer"]!.GetValue<string>(),
                    day = attrs["day"]!.GetValue<string>(),
                    amount = attrs["amount_cents"]?.GetValue<long>() ?? 0,
                },
                session.Transaction,
                cancellationToken: cancellationToken
            )
        );
    }

    /// <summary>The projection's rows, by customer and day.</summary>
    public static async Task<List<(string Customer, string Day, long Orders, long TotalCents)>> ReadAsync(
        SpectorStore store
    )
    {
        await using var connection = await store.OpenConnectionAsync();
        return (
            await connection.QueryAsync<(string, string, long, long)>(
                $"""SELECT "customer", "day", "orders", "total_cents" FROM "{Table}" ORDER BY "customer", "day" """
            )
        ).ToList();
    }
}
