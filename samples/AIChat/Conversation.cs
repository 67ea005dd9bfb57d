using Spector;

namespace AIChat;

/// <summary>
/// The conversation log, hash-chained. Every message links to all of its ancestors (a closure table), so one
/// indexed query returns a whole branch however deep it is.
/// </summary>
[EventsTable("ai_chat_events", Hashed = true)]
[EventSchema(typeof(Conversation), 0)]
[EventLink("ancestors", "ai_chat_ancestors", "ancestor_id")]
public partial class ConversationEvents;

/// <summary>One message; its id is the id of the event that added it.</summary>
public sealed class ChatMessage : IEventItem
{
    public Guid Id { get; set; }
    public string Role { get; set; } = "";
    public string Content { get; set; } = "";

    /// <summary>The message this one answers; null for the opening message.</summary>
    public Guid? ReplyTo { get; set; }
}

/// <summary>
/// A branching conversation kept only in the log. Inserting opens it with a first message; <c>append</c> adds a
/// message in reply to any earlier one, so several answers to one message start separate branches.
/// </summary>
[Evented(Actions = ["append"])]
public partial class Conversation
{
    public Guid Id { get; set; }

    /// <summary>Every message of every branch, in the order they were written.</summary>
    public List<ChatMessage> Messages { get; set; } = [];

    static void Changeset(Changeset<Conversation> c)
    {
        if (c.Action != "insert")
            return;
        var role = c.Attrs["role"]?.GetValue<string>();
        var content = c.Attrs["content"]?.GetValue<string>();
        if (string.IsNullOrWhiteSpace(role))
            c.AddError("role", "can't be blank");
        if (string.IsNullOrWhiteSpace(content))
            c.AddError("content", "can't be blank");
        c.Record.Messages.Add(c.PutEventId(new ChatMessage { Role = role ?? "", Content = content ?? "" }));
    }

    [OnAction("append")]
    static void Append(Changeset<Conversation> c, Guid to, string role, string content)
    {
        if (!c.Record.Messages.Exists(m => m.Id == to))
            c.AddError("to", $"no message {to} in this conversation");
        if (string.IsNullOrWhiteSpace(content))
            c.AddError("content", "can't be blank");
        c.Record.Messages.Add(
            c.PutEventId(
                new ChatMessage
                {
                    Role = role,
                    Content = content,
                    ReplyTo = to,
                }
            )
        );
    }

    /// <summary>Links a reply to the message it answers and to every ancestor of that message.</summary>
    static void PrepareEvent(EventDraft draft, IReadOnlyList<StoredEvent> previous)
    {
        if (draft.Action != "append")
            return;
        // The parent of each earlier message, read from the log itself (the whole history, not just what
        // follows a savepoint), so an ancestor can never be missed.
        var parentOf = previous
            .Where(e => e.Action == "append")
            .ToDictionary(e => e.Id, e => e.ReadAttrs()["to"]!.GetValue<Guid>());
        for (
            Guid? ancestor = draft.Attrs["to"]!.GetValue<Guid>();
            ancestor is { } id;
            ancestor = parentOf.TryGetValue(id, out var up) ? up : null
        )
            draft.Link("ancestors", id);
    }
}

/// <summary>Reads one branch of a conversation.</summary>
public static class Branches
{
    /// <summary>The messages from the opening message down to <paramref name="messageId"/>, oldest first.</summary>
    public static async Task<IReadOnlyList<ChatMessage>> BranchAsync(
        Guid conversationId,
        Guid messageId,
        CancellationToken ct = default
    )
    {
        var conversation =
            await Conversation.GetAsync(conversationId, ct)
            ?? throw new ArgumentException($"No conversation {conversationId}.", nameof(conversationId));
        var ancestors = await ConversationEvents.Log.LinkedEventsAsync(messageId, "ancestors", cancellationToken: ct);
        var onBranch = ancestors.Select(e => e.Id).Append(messageId).ToHashSet();
        return conversation.Messages.Where(m => onBranch.Contains(m.Id)).ToList();
    }
}
