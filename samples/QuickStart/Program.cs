using System.Globalization;
using QuickStart;
using Spector;

CultureInfo.DefaultThreadCurrentCulture = CultureInfo.InvariantCulture;

// An embedded SQLite file: no server, no setup. Start from an empty file each run.
var file = Path.Combine(Path.GetTempPath(), "spector-quickstart.db");
foreach (var suffix in new[] { "", "-wal", "-shm" })
    File.Delete(file + suffix);
AppEvents.UseSqlite($"Data Source={file}");
await AppEvents.MigrateAsync();
Console.WriteLine($"Spector QuickStart: events in {file}\n");

// Insert: appends event 1; the event's id becomes the account's id.
var account = await Account.InsertAsync(new Attrs { ["owner"] = "Ada", ["email"] = "ada@example.com" });
Console.WriteLine($"insert   -> {Describe(account)}");

// Updates: each replays the log, applies the change and appends the next event.
account = await account.UpdateAsync(new Attrs { ["deposit"] = 100m });
account = await account.UpdateAsync(new Attrs { ["withdraw"] = 30m, ["email"] = "ada@lovelace.example" });
Console.WriteLine($"update   -> {Describe(account)}");

// A change that would leave the record invalid is refused, and nothing is stored.
try
{
    await account.UpdateAsync(new Attrs { ["withdraw"] = 1000m });
}
catch (ChangesetInvalidException e)
{
    Console.WriteLine($"refused  -> {e.Errors.Keys.Single()}: {e.Errors.Values.Single()[0]}");
}

// Time travel: any earlier state is a replay of the log up to that event.
var afterDeposit = await Account.GetAtAsync(account.Id, seq: 2);
Console.WriteLine($"at seq 2 -> {Describe(afterDeposit!)}");

// Delete: appends a delete event and removes the row; the history stays.
await account.DeleteAsync();
Console.WriteLine(
    $"delete   -> GetAsync returns {(await Account.GetAsync(account.Id) is null ? "null" : "a record")}\n"
);

Console.WriteLine("The account's event log:");
var events = await Account.AllEventsAsync(account.Id);
Console.WriteLine($"{"seq", 3}  {"action", -7}  {"at (UTC)", -26}  payload (without reserved keys)");
foreach (var e in events)
{
    var attrs = e.ReadAttrs();
    var shown = string.Join(
        ", ",
        attrs
            .Where(a => !a.Key.StartsWith("__") && a.Key is not ("inserted_at" or "updated_at"))
            .Select(a => $"{a.Key}={a.Value?.ToJsonString()}")
    );
    Console.WriteLine($"{e.Seq, 3}  {e.Action, -7}  {e.InsertedAt:yyyy-MM-dd HH:mm:ss.ffffff}  {shown}");
}

static string Describe(Account a) => $"{a.Owner} <{a.Email}> balance {a.Balance:0.00}";
