using System.Globalization;
using BasicChat;
using Spector;

CultureInfo.DefaultThreadCurrentCulture = CultureInfo.InvariantCulture;
var file = Path.Combine(Path.GetTempPath(), "spector-basic-chat.db");
foreach (var suffix in new[] { "", "-wal", "-shm" })
    File.Delete(file + suffix);
ChatEvents.UseSqlite($"Data Source={file}");
await ChatEvents.MigrateAsync();

var chat = await Chat.InsertAsync(new Attrs { ["title"] = "Weekend plans" });
chat = await chat.SayAsync("ada", "Hiking on Saturday?");
chat = await chat.SayAsync("bob", "Sure, 9 o'clock at the statoin");
var typo = chat.Messages[^1];
chat = await chat.EditAsync(typo.Id, "Sure, 9 o'clock at the station");
chat = await chat.EditAsync(typo.Id, "Sure, 10 o'clock at the station");
chat = await chat.SayAsync("ada", "10 works. Bring water!");

Console.WriteLine(
    $"Chat \"{chat.Title}\" as it reads now (replayed from {(await Chat.AllEventsAsync(chat.Id)).Count} events):"
);
var replayed = await Chat.GetAsync(chat.Id);
foreach (var m in replayed!.Messages)
    Console.WriteLine($"  {m.Author, -4} {m.Content}{(m.VersionEventId != m.Id ? "  (edited)" : "")}");

Console.WriteLine($"\nEdit history of bob's message {typo.Id}:");
var versions = await ChatHistory.EditHistoryAsync(typo.Id);
for (var i = 0; i < versions.Count; i++)
    Console.WriteLine($"  v{i + 1}: {versions[i]}");

Console.WriteLine("\nBefore the edits (state at event 3):");
foreach (var m in (await Chat.GetAtAsync(chat.Id, 3))!.Messages)
    Console.WriteLine($"  {m.Author, -4} {m.Content}");
