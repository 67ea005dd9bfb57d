using System.Data.Common;
using System.Globalization;
using Npgsql;
using Spector;
using Spector.ReplayProbe;

// write <sqlite|postgres> <connection>            appends the probe's events, prints their record ids
// read <sqlite|postgres> <connection> <ids...>     replays them, prints each date-time as replay and the record table
// see it
var (mode, database, connection) = (args[0], args[1], args[2]);
var store =
    database == "postgres"
        ? SpectorStore.Postgres(NpgsqlDataSource.Create(connection))
        : SpectorStore.Sqlite(connection);
ProbeEvents.Log.Use(store);
PlainEvents.Log.Use(store);
Console.WriteLine($"environment {TimeZoneInfo.Local.Id} {CultureInfo.CurrentCulture.Name}");

if (mode == "write")
{
    await ProbeEvents.Log.MigrateUpAsync();
    await PlainEvents.Log.MigrateUpAsync();
    var placed = await Shipment.InsertAsync(
        new Attrs
        {
            ["label"] = "written",
            // Unspecified, and inside New York's spring-forward gap; Local, ambiguous in New York's fall-back hour.
            ["placed_at"] = new DateTime(2026, 3, 8, 2, 30, 0, DateTimeKind.Unspecified),
            ["due_at"] = new DateTime(2026, 11, 1, 1, 30, 0, DateTimeKind.Local),
            ["confirmed_at"] = new DateTimeOffset(2026, 3, 8, 2, 30, 0, TimeSpan.FromHours(-5)),
            ["amount"] = 1234.5m,
        }
    );
    await placed.ShipAsync(new DateTime(2026, 6, 1, 12, 0, 0, DateTimeKind.Unspecified));
    // A date-time as versions before 0.x stored an Unspecified one: no offset.
    var old = Guid.CreateVersion7();
    await using (var db = await store.OpenConnectionAsync())
    await using (var insert = db.CreateCommand())
    {
        var postgres = database == "postgres";
        insert.CommandText = $"""
            INSERT INTO "probe_plain" ("id", "parent_id", "seq", "schema", "action", "payload", "inserted_at")
            VALUES (@id, @id, 1, 0, 1, {(postgres ? "CAST(@payload AS jsonb)" : "@payload")}, @at)
            """;
        Add(insert, "id", old);
        Add(insert, "payload", $$"""{"__version__":0,"__event_id__":"{{old}}","at":"2026-03-08T02:30:00"}""");
        Add(insert, "at", postgres ? DateTimeOffset.UnixEpoch : 0L);
        await insert.ExecuteNonQueryAsync();
    }
    Console.WriteLine($"ids {placed.Id} {old}");
    return;
}

var ids = args[3..].Select(Guid.Parse).ToArray();
var parcel = await Parcel.GetAsync(ids[1]) ?? throw new InvalidOperationException($"no parcel {ids[1]}");
Console.WriteLine($"old {ids[1]} at={Show(parcel.At)}");
foreach (var id in ids[..1])
{
    var shipment = await Shipment.GetAsync(id) ?? throw new InvalidOperationException($"no shipment {id}");
    var amount = shipment.Amount.ToString(CultureInfo.InvariantCulture);
    Console.WriteLine(
        $"replay {id} placed_at={Show(shipment.PlacedAt)} due_at={Show(shipment.DueAt)} "
            + $"confirmed_at={shipment.ConfirmedAt.UtcDateTime:O} shipped_at={Show(shipment.ShippedAt)} amount={amount}"
    );
    await using var db = await store.OpenConnectionAsync();
    await using var command = db.CreateCommand();
    command.CommandText =
        """SELECT "placed_at", "due_at", "confirmed_at", "shipped_at" FROM "shipments" WHERE "id" = @id""";
    Add(command, "id", id);
    await using var reader = await command.ExecuteReaderAsync();
    if (!await reader.ReadAsync())
        throw new InvalidOperationException($"no row for {id}");
    Console.WriteLine(
        $"table {id} placed_at={Column(reader, 0)} due_at={Column(reader, 1)} confirmed_at={Column(reader, 2)} "
            + $"shipped_at={Column(reader, 3)}"
    );
}

// Culture-free text: the instant in UTC, and the kind replay hands out.
static string Show(DateTime? value) => value is { } v ? $"{v.ToUniversalTime():O}/{v.Kind}" : "null";

// The record table's value as an instant: PostgreSQL's timestamptz is one; SQLite's text is the UTC instant Spector
// wrote.
static string Column(DbDataReader reader, int ordinal) =>
    reader.IsDBNull(ordinal)
        ? "null"
        : reader.GetValue(ordinal) switch
        {
            DateTime d => d.ToUniversalTime().ToString("O", CultureInfo.InvariantCulture),
            DateTimeOffset d => d.UtcDateTime.ToString("O", CultureInfo.InvariantCulture),
            string s => DateTimeOffset
                .Parse(s, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal)
                .UtcDateTime.ToString("O", CultureInfo.InvariantCulture),
            var other => other.ToString()!,
        };

static void Add(DbCommand command, string name, object value)
{
    var parameter = command.CreateParameter();
    parameter.ParameterName = name;
    parameter.Value = value;
    command.Parameters.Add(parameter);
}
