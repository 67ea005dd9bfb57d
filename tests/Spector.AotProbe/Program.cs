using System.Globalization;
using System.Text.Json.Nodes;
using Npgsql;
using Spector;
using Spector.AotProbe;

// <sqlite|postgres> <connection> [--no-context]: writes, replays and verifies records with non-scalar values,
// printing what replay gives back; AotPublishTests runs the natively compiled binary and reads these lines.
var (database, connection) = (args[0], args[1]);
var store =
    database == "postgres"
        ? SpectorStore.Postgres(NpgsqlDataSource.Create(connection))
        : SpectorStore.Sqlite(connection);
AotEvents.Log.Use(store);
await AotEvents.Log.MigrateUpAsync();

if (args is [_, _, "--no-context"])
{
    // No metadata for List<string>: the write is refused with the remedy, and nothing is stored.
    try
    {
        await Parcel.InsertAsync(new Attrs { ["label"] = "first", ["tags"] = new JsonArray("fragile", "blue") });
        Console.WriteLine("refused=no");
    }
    catch (NotSupportedException e)
    {
        Console.WriteLine($"refused={e.Message}");
    }
    await using var db = await store.OpenConnectionAsync();
    await using var count = db.CreateCommand();
    count.CommandText = "SELECT COUNT(*) FROM aot_events";
    Console.WriteLine($"stored={await count.ExecuteScalarAsync()}");
    return;
}
AotEvents.Log.UseJson(ProbeJson.Default);

var log = AotEvents.Log;
var parcel = await Parcel.InsertAsync(
    new Attrs
    {
        ["label"] = "first",
        ["tags"] = log.ToNode(new List<string> { "fragile", "blue" }),
        ["destination"] = log.ToNode(new Address("Main St 1", "Springfield", [1, 2])),
        ["weights"] = log.ToNode(new Dictionary<string, decimal> { ["box"] = 1.25m, ["lid"] = 0.1m }),
    }
);
await parcel.RelabelAsync("second", ["fragile", "red", "ü€"]);
var replayed = await Parcel.GetAsync(parcel.Id) ?? throw new InvalidOperationException("parcel missing");
Console.WriteLine($"label={replayed.Label}");
Console.WriteLine($"tags={string.Join(",", replayed.Tags)}");
Console.WriteLine($"destination={replayed.Destination!.Street}|{replayed.Destination.City}");
Console.WriteLine($"floors={string.Join(",", replayed.Destination.Floors)}");
var weights = replayed
    .Weights.OrderBy(w => w.Key, StringComparer.Ordinal)
    .Select(w => $"{w.Key}:{w.Value.ToString(CultureInfo.InvariantCulture)}");
Console.WriteLine($"weights={string.Join(",", weights)}");
var events = await Parcel.AllEventsAsync(parcel.Id);

// The stored form of the nested decimals, read from the payload: JSON strings, as a JIT-compiled app stores them.
var stored = events[0]
    .Payload.GetProperty("weights")
    .EnumerateObject()
    .Select(p => $"{p.Name}:{p.Value.ValueKind}:{p.Value}");
Console.WriteLine($"events={events.Count} stored_weights={string.Join(",", stored)}");

try
{
    await parcel.UpdateAsync(new Attrs { ["label"] = "" });
    Console.WriteLine("invalid=accepted");
}
catch (ChangesetInvalidException e)
{
    Console.WriteLine($"invalid={string.Join(",", e.Errors.Keys)}");
}

var courier = await Courier.InsertAsync(
    new Attrs
    {
        ["name"] = "Ana",
        ["rate"] = 12.50m,
        ["hired_at"] = DateTimeOffset.UnixEpoch,
    }
);
await courier.UpdateAsync(new Attrs { ["rate"] = 13.75m });
var hired = await Courier.GetAsync(courier.Id) ?? throw new InvalidOperationException("courier missing");
Console.WriteLine($"courier={hired.Name}|{hired.Rate.ToString(CultureInfo.InvariantCulture)}|{hired.HiredAt:O}");
await courier.DeleteAsync();
Console.WriteLine($"courier_deleted={await Courier.GetAsync(courier.Id) is null}");

var chain = await AotEvents.Log.VerifyHashChainAsync();
Console.WriteLine($"chain={chain.IsValid}");
