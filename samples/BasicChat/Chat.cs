using Spector;

namespace BasicChat;

/// <summary>The chat log. Each edit links to the version of the message it replaces.</summary>
[EventsTable("basic_chat_events")]
[EventSchema(typeof(Chat), 0)]
[EventLink("edits", "basic_chat_edits", "previous_id")]
public partial class ChatEvents;

/// <summary>One message as it reads now. Its id is the id of the event that said it.</summary>
public sealed class Message : IEventItem
{
    public Guid Id { get; set; }
    public string Author { get; set; } = "";
    public string Content { get; set; } = "";

    /// <summary>The event holding the current wording: the message's own event, or its latest edit.</summary>
    public Guid VersionEventId { get; set; }
}

/// <summary>
/// An embedded record: a conversation lives only in the log. Saying appends a message; editing replaces a
/// message's text and links the edit to the version it replaces, so every earlier wording stays readable.
/// </summary>
[Evented(Actions = ["say", "edit"])]
public partial class Chat
{
    public Guid Id { get; set; }
    public string Title { get; set; } = "";
    public List<Message> Messages { get; set; } = [];

    static void Changeset(Changeset<Chat> c) => c.Cast("title").ValidateRequired("title");

    [OnAction("say")]
    static void Say(Changeset<Chat> c, string author, string content)
    {
        if (string.IsNullOrWhiteSpace(content))
            c.AddError("content", "can't be blank");
        c.Record.Messages.Add(
            c.PutEventId(
                new Message
                {
                    Author = author,
                    Content = content,
                    VersionEventId = c.EventId,
                }
            )
        );
    }

    // Typed parameters are bound from the stored payload on replay too, so replay after an edit is exact
    // (the original guide matched atom keys only, and its edits turned into new messages on replay).
    [OnAction("edit")]
    static void Edit(Changeset<Chat> c, Guid messageId, string content)
    {
        var message = c.Record.Messages.Find(m => m.Id == messageId);
        if (message is null)
        {
            c.AddError("message_id", $"no message {messageId} in this chat");
            return;
        }
        message.Content = content;
        message.VersionEventId = c.EventId;
    }

    /// <summary>Links an edit to the event holding the wording it replaces.</summary>
    static void PrepareEvent(EventDraft draft, IReadOnlyList<StoredEvent> previous)
    {
        if (draft.Action != "edit")
            return;
        var messageId = draft.Attrs["message_id"]!.GetValue<Guid>();
        var replaced =
            previous.LastOrDefault(e =>
                e.Id == messageId || e.Action == "edit" && e.ReadAttrs()["message_id"]?.GetValue<Guid>() == messageId
            ) ?? throw new InvalidOperationException($"message {messageId} was never said");
        draft.Link("edits", replaced.Id);
    }
}

/// <summary>Queries over the links.</summary>
public static class ChatHistory
{
    /// <summary>Every wording of a message, oldest first: its own event, then each edit that replaced the one
    /// before.</summary>
    public static async Task<IReadOnlyList<string>> EditHistoryAsync(Guid messageId, CancellationToken ct = default)
    {
        var history = new List<string>();
        var version = (await ChatEvents.Log.PreviousEventsAsync(messageId, ct)).Last();
        while (true)
        {
            history.Add(version.ReadAttrs()["content"]!.GetValue<string>());
            var next = await ChatEvents.Log.LinkingEventsAsync(version.Id, "edits", cancellationToken: ct);
            if (next.Count == 0)
                return history;
            version = next.Single();
        }
    }

    /// <summary>The current messages straight from the log: every said or edited version that no later edit
    /// replaced.</summary>
    public static async Task<IReadOnlyList<StoredEvent>> CurrentVersionsAsync(
        Guid chatId,
        CancellationToken ct = default
    )
    {
        var current = new List<StoredEvent>();
        foreach (var e in await Chat.AllEventsAsync(chatId, ct))
            if (
                e.Action is "say" or "edit"
                && (await ChatEvents.Log.LinkingEventsAsync(e.Id, "edits", cancellationToken: ct)).Count == 0
            )
                current.Add(e);
        return current;
    }
}
