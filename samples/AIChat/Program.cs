using System.Globalization;
using AIChat;
using Spector;

CultureInfo.DefaultThreadCurrentCulture = CultureInfo.InvariantCulture;
var file = Path.Combine(Path.GetTempPath(), "spector-ai-chat.db");
foreach (var suffix in new[] { "", "-wal", "-shm" })
    File.Delete(file + suffix);
ConversationEvents.UseSqlite($"Data Source={file}");
await ConversationEvents.MigrateAsync();

var chat = await Conversation.InsertAsync(
    new Attrs { ["role"] = "user", ["content"] = "Hello! Can you suggest a weekend trip?" }
);
var hello = chat.Messages[0].Id;
chat = await chat.AppendAsync(hello, "assistant", "How about two days of hiking in the Alps?");
var hiking = chat.Messages[^1].Id;
chat = await chat.AppendAsync(hiking, "user", "Great, which trail?");
var trail = chat.Messages[^1].Id;

// A second answer to the opening message starts a new branch; the first branch is untouched.
chat = await chat.AppendAsync(hello, "user", "Actually, let me rephrase that: somewhere warm, no hiking.");
var rephrased = chat.Messages[^1].Id;
chat = await chat.AppendAsync(rephrased, "assistant", "Then a beach weekend in Lisbon.");
var lisbon = chat.Messages[^1].Id;

Console.WriteLine("The whole conversation as a tree:");
Print(chat.Messages, null, 1);

foreach (var (name, leaf) in new[] { ("hiking", trail), ("beach", lisbon) })
{
    Console.WriteLine($"\nBranch ending at the {name} message, rebuilt from its ancestor links:");
    foreach (var m in await Branches.BranchAsync(chat.Id, leaf))
        Console.WriteLine($"  {m.Role, -9} {m.Content}");
}

var check = await ConversationEvents.Log.VerifyHashChainAsync();
Console.WriteLine(
    $"\nHash chain, links included: {(check.IsValid ? "intact" : "BROKEN")} ({check.EventsChecked} events)."
);

static void Print(List<ChatMessage> messages, Guid? parent, int depth)
{
    foreach (var m in messages.Where(m => m.ReplyTo == parent))
    {
        Console.WriteLine($"{new string(' ', depth * 2)}{m.Role, -9} {m.Content}");
        Print(messages, m.Id, depth + 1);
    }
}
