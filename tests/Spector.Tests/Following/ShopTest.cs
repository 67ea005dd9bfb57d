using Dapper;
using Followers;

namespace Spector.Tests;

/// <summary>Base of the tests on the Followers sample's shop: its log and projection reset with the rest.</summary>
public abstract class ShopTest(Db db) : DatabaseTest(db)
{
    [SetUp]
    public async Task ResetShopAsync()
    {
        ShopEvents.Log.Use(Log.Store);
        await ExecuteRawAsync($"DROP TABLE IF EXISTS \"{OrdersPerCustomerDay.Table}\"");
        await ExecuteRawAsync("DROP TABLE IF EXISTS \"spector_followers\"");
        await ExecuteRawAsync("DROP TABLE IF EXISTS \"spector_follower_positions\"");
        if (Database == Db.Postgres)
            await ShopEvents.Log.MigrateDownAsync();
        await ShopEvents.Log.MigrateUpAsync();
    }

    protected static readonly string[] Customers = ["ada", "bob", "cyd", "dee"];
    protected static readonly string[] Days = ["2026-11-29", "2026-11-30", "2026-12-01"];

    protected static Task<Order> PlaceAsync(Random random, SpectorSession? session = null)
    {
        var attrs = new Attrs
        {
            ["customer"] = Customers[random.Next(Customers.Length)],
            ["day"] = Days[random.Next(Days.Length)],
            ["amount_cents"] = random.Next(1, 10_000),
        };
        return session is null ? Order.InsertAsync(attrs) : Order.InsertAsync(session, attrs);
    }

    /// <summary>The projection as it should be: computed from the record table, which the write path keeps
    /// exact.</summary>
    protected async Task<List<(string Customer, string Day, long Orders, long TotalCents)>> ExpectedAsync()
    {
        await using var connection = await OpenAsync();
        return (
            await connection.QueryAsync<(string, string, long, long)>(
                "SELECT \"customer\", \"day\", COUNT(*), SUM(\"amount_cents\") FROM \"orders\" "
                    + "GROUP BY \"customer\", \"day\" ORDER BY \"customer\", \"day\""
            )
        ).ToList();
    }

    protected Task<List<(string Customer, string Day, long Orders, long TotalCents)>> ProjectedAsync() =>
        OrdersPerCustomerDay.ReadAsync(Log.Store);
}
