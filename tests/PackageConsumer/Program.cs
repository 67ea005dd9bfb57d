using Spector;

var file = Path.Combine(Path.GetTempPath(), $"spector-consumer-{Guid.NewGuid():N}.db");
PackageEvents.UseSqlite($"Data Source={file}");
await PackageEvents.MigrateAsync();

var item = await Item.InsertAsync(new Attrs { ["name"] = "widget" });
item = await item.RestockAsync(5);
item = await item.UpdateAsync(new Attrs { ["name"] = "gadget" });
var replayed = await Item.GetAsync(item.Id) ?? throw new InvalidOperationException("replay found nothing");
var first = await Item.GetAtAsync(item.Id, 1) ?? throw new InvalidOperationException("no first state");

if (replayed.Name != "gadget" || replayed.Stock != 5 || first.Name != "widget" || first.Stock != 0)
    throw new InvalidOperationException(
        $"unexpected state: {replayed.Name} {replayed.Stock} / {first.Name} {first.Stock}"
    );
Console.WriteLine(
    $"consumer ok: {replayed.Name} stock {replayed.Stock}, {(await Item.AllEventsAsync(item.Id)).Count} events"
);

[EventsTable("events")]
[EventSchema(typeof(Item), 0)]
public partial class PackageEvents;

[Evented(Version = 1, Table = "items", Actions = ["restock"])]
public partial class Item
{
    public Guid Id { get; set; }
    public string Name { get; set; } = "";
    public int Stock { get; set; }

    static void Changeset(Changeset<Item> c) => c.Cast("name").ValidateRequired("name");

    [OnAction("restock")]
    static void Restock(Changeset<Item> c, int count) => c.Record.Stock += count;
}
