using System.Diagnostics;
using System.Globalization;
using Spector;

namespace AuditTrailSample;

/// <summary>
/// Two people edit a shop inside traced requests; then the audit trail answers who did what, when and why.
/// The store is passed in, so the same tour runs on SQLite (Program.cs) and, in the tests, on PostgreSQL.
/// </summary>
public static class Demo
{
    private const string SourceName = "AuditTrailSample.Web";
    private static readonly ActivitySource Web = new(SourceName);
    private static readonly Actor Alice = new("user", "alice");
    private static readonly Actor Bob = new("user", "bob");

    public static async Task RunAsync(SpectorStore store, TextWriter output)
    {
        ShopEvents.Log.Use(store);
        await ShopEvents.Log.MigrateDownAsync();
        await ShopEvents.Log.MigrateUpAsync();
        // What an OpenTelemetry SDK (or ASP.NET Core's own listener) does: record the app's activities.
        using var listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name == SourceName,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
        };
        ActivitySource.AddActivityListener(listener);

        Product lamp;
        using (Request("POST /products", Alice, out _))
            lamp = await Product.InsertAsync(
                new Attrs
                {
                    ["name"] = "Desk lamp",
                    ["price"] = 40m,
                    ["stock"] = 10,
                }
            );
        await Task.Delay(5);
        var beforeSale = DateTimeOffset.UtcNow;
        await Task.Delay(5);
        using (Request("PUT /products/lamp/price", Bob, out _, reason: "summer sale"))
            lamp = await lamp.RepriceAsync(35m);

        // One request, and what it caused: the order, the stock it took, and the shipping that followed.
        StoredEvent placed;
        string orderTrace;
        using (Request("POST /orders", Alice, out orderTrace, correlationId: "checkout-1"))
        {
            var order = await Order.InsertAsync(new Attrs { ["product_id"] = lamp.Id, ["quantity"] = 2 });
            placed = (await Order.AllEventsAsync(order.Id)).Single();
            using (SpectorContext.CausedBy(placed))
                lamp = await lamp.UpdateAsync(new Attrs { ["stock"] = lamp.Stock - 2 });
            var took = (await Product.AllEventsAsync(lamp.Id))[^1];
            using (SpectorContext.CausedBy(took))
                await order.ShipAsync(new Attrs());
        }

        var audit = ShopEvents.Log.Audit;
        output.WriteLine("Timeline, newest first:");
        await foreach (var e in audit.TimelineAsync(new TimelineQuery()))
            output.WriteLine(
                $"  {e.InsertedAt:HH:mm:ss.fff}  {e.Actor?.ToString() ?? "-", -11} {e.Action, -8} "
                    + $"{ShopEvents.Log.SchemaName(e.Schema)?.Split('.')[^1], -8} {e.Reason ?? ""}"
            );

        output.WriteLine(
            $"\nBob's events: {string.Join(", ", await ActionsAsync(audit, new TimelineQuery { Actor = Bob }))}"
        );

        output.WriteLine("\nField history of the lamp:");
        foreach (var change in await Product.ChangesAsync(lamp.Id))
            output.WriteLine(
                $"  seq {change.Event.Seq} {change.Event.Action, -8} by {change.Event.Actor?.Id ?? "-", -6} "
                    + string.Join("; ", change.Changes.Select(f => f.ToString()))
            );

        var then = await Product.GetAsOfAsync(lamp.Id, beforeSale);
        output.WriteLine(
            $"\nThe lamp as of {beforeSale:HH:mm:ss.fff} (before the sale): price {then!.Price}, stock {then.Stock}"
        );
        output.WriteLine($"The lamp now: price {lamp.Price}, stock {lamp.Stock}");

        output.WriteLine($"\nCaused by order {placed.Id} (trace {orderTrace}):");
        await foreach (
            var e in audit.TimelineAsync(new TimelineQuery { CausedBy = placed.Id.ToString(), NewestFirst = false })
        )
            output.WriteLine(
                $"  {e.Action, -8} {ShopEvents.Log.SchemaName(e.Schema)?.Split('.')[^1], -8} trace {e.TraceId}"
            );

        var now = DateTimeOffset.UtcNow;
        var buckets = await audit.CountAsync(new BucketQuery(now.AddHours(-2), now, BucketSize.Hour));
        output.WriteLine("\nEvents per hour (UTC):");
        for (var i = 0; i < buckets.Starts.Count; i++)
        {
            var parts = buckets
                .Series.Where(series => series.Counts[i] > 0)
                .Select(series => $"{series.Action} {series.Counts[i]}");
            output.WriteLine(
                $"  {buckets.Starts[i]:HH:mm} {new string('#', (int)buckets.Total(i)), -10} "
                    + $"{buckets.Total(i), 2}  {string.Join(", ", parts)}"
            );
        }
    }

    /// <summary>Starts what a web request starts: a server activity, and the Spector scope of its user.</summary>
    private static IDisposable Request(
        string name,
        Actor user,
        out string traceId,
        string? reason = null,
        string? correlationId = null
    )
    {
        var activity = Web.StartActivity(name, ActivityKind.Server);
        traceId = activity?.TraceId.ToHexString() ?? "";
        var scope = SpectorContext.Begin(actor: user, reason: reason, correlationId: correlationId);
        return new Both(scope, activity);
    }

    private static async Task<List<string>> ActionsAsync(AuditTrail audit, TimelineQuery query)
    {
        var actions = new List<string>();
        await foreach (var e in audit.TimelineAsync(query))
            actions.Add(e.Action ?? e.ActionCode.ToString(CultureInfo.InvariantCulture));
        return actions;
    }

    private sealed class Both(IDisposable inner, IDisposable? outer) : IDisposable
    {
        public void Dispose()
        {
            inner.Dispose();
            outer?.Dispose();
        }
    }
}
