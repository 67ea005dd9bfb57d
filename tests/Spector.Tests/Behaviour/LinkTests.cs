using AIChat;
using BasicChat;
using DocumentLinks;
using Microsoft.Data.Sqlite;

namespace Spector.Tests;

/// <summary>
/// The original guides' flows (basic chat with edit history, branching AI chat, typed document links), run on the
/// samples' own models, plus the same-record rule and the hash over links.
/// </summary>
[TestFixture(Db.Sqlite)]
[TestFixture(Db.Postgres)]
public sealed class LinkTests(Db db) : DatabaseTest(db)
{
    [Test]
    public async Task Edit_history_after_several_edits_lists_every_wording_in_order()
    {
        var chat = await Chat.InsertAsync(new Attrs { ["title"] = "Plans" });
        chat = await chat.SayAsync("ada", "Lunch?");
        chat = await chat.SayAsync("bob", "Yse");
        var message = chat.Messages[^1].Id;
        chat = await chat.EditAsync(message, "Yes");
        chat = await chat.EditAsync(message, "Yes, at noon");
        chat = await chat.EditAsync(message, "Yes, at one");

        Assert.That(
            await ChatHistory.EditHistoryAsync(message),
            Is.EqualTo(new[] { "Yse", "Yes", "Yes, at noon", "Yes, at one" })
        );
        var edits = (await Chat.AllEventsAsync(chat.Id)).Where(e => e.Action == "edit").ToList();
        Assert.That(
            await ChatEvents.Log.LinkedEventsAsync(edits[0].Id, "edits"),
            Has.Count.EqualTo(1).And.One.Matches<StoredEvent>(e => e.Id == message)
        );
        Assert.That(
            (await ChatEvents.Log.LinkedEventsAsync(edits[2].Id, "edits")).Single().Id,
            Is.EqualTo(edits[1].Id)
        );
        Assert.That(
            (await ChatEvents.Log.LinksOfAsync(edits[1].Id)).Single(),
            Is.EqualTo(new EventLinkRow("edits", edits[0].Id))
        );
    }

    [Test]
    public async Task Replay_after_an_edit_gives_the_edited_message_not_a_new_one()
    {
        var chat = await Chat.InsertAsync(new Attrs { ["title"] = "Plans" });
        chat = await chat.SayAsync("ada", "Lunch?");
        chat = await chat.SayAsync("bob", "Yse");
        chat = await chat.EditAsync(chat.Messages[^1].Id, "Yes");
        chat = await chat.SayAsync("ada", "Great");

        var replayed = (await Chat.GetAsync(chat.Id))!;
        Assert.That(
            replayed.Messages.Select(m => (m.Author, m.Content)),
            Is.EqualTo(new[] { ("ada", "Lunch?"), ("bob", "Yes"), ("ada", "Great") })
        );
        Assert.That(replayed.Messages.Select(m => m.Id), Is.EqualTo(chat.Messages.Select(m => m.Id)));
        var current = await ChatHistory.CurrentVersionsAsync(chat.Id);
        Assert.That(
            current.Select(e => e.ReadAttrs()["content"]!.GetValue<string>()),
            Is.EqualTo(new[] { "Lunch?", "Yes", "Great" })
        );
    }

    [Test]
    public async Task Editing_a_message_of_another_chat_is_refused_and_nothing_is_stored()
    {
        var other = await Chat.InsertAsync(new Attrs { ["title"] = "Other" });
        other = await other.SayAsync("eve", "Mine");
        var chat = await Chat.InsertAsync(new Attrs { ["title"] = "Plans" });

        var error = Assert.ThrowsAsync<ChangesetInvalidException>(() =>
            chat.EditAsync(other.Messages[0].Id, "Hijacked")
        );
        Assert.That(error!.Errors, Does.ContainKey("message_id"));
        Assert.That(await CountAsync("basic_chat_edits"), Is.Zero);
        Assert.That(await Chat.AllEventsAsync(chat.Id), Has.Count.EqualTo(1));
    }

    [Test]
    public async Task Branches_from_the_same_message_share_their_ancestors()
    {
        var chat = await Conversation.InsertAsync(new Attrs { ["role"] = "user", ["content"] = "Hello, I need help" });
        var hello = chat.Messages[0].Id;
        chat = await chat.AppendAsync(hello, "assistant", "Sure, with what?");
        var reply = chat.Messages[^1].Id;
        chat = await chat.AppendAsync(hello, "user", "Actually, let me rephrase that");
        var rephrase = chat.Messages[^1].Id;
        chat = await chat.AppendAsync(rephrase, "assistant", "Go ahead");
        var deep = chat.Messages[^1].Id;

        Assert.That(
            (await Branches.BranchAsync(chat.Id, reply)).Select(m => m.Content),
            Is.EqualTo(new[] { "Hello, I need help", "Sure, with what?" })
        );
        Assert.That(
            (await Branches.BranchAsync(chat.Id, rephrase)).Select(m => m.Content),
            Is.EqualTo(new[] { "Hello, I need help", "Actually, let me rephrase that" })
        );
        Assert.That(
            (await Branches.BranchAsync(chat.Id, deep)).Select(m => m.Content),
            Is.EqualTo(new[] { "Hello, I need help", "Actually, let me rephrase that", "Go ahead" })
        );
        // Closure links: the deepest message links to its parent and to the root; the root is everybody's ancestor.
        Assert.That(
            (await ConversationEvents.Log.LinkedEventsAsync(deep, "ancestors")).Select(e => e.Id),
            Is.EqualTo(new[] { hello, rephrase })
        );
        Assert.That(
            (await ConversationEvents.Log.LinkingEventsAsync(hello, "ancestors")).Select(e => e.Id),
            Is.EqualTo(new[] { reply, rephrase, deep })
        );
        // The whole tree replays in write order with each message's parent.
        var replayed = (await Conversation.GetAsync(chat.Id))!;
        Assert.That(replayed.Messages.Select(m => m.ReplyTo), Is.EqualTo(new Guid?[] { null, hello, hello, rephrase }));
    }

    [Test]
    public async Task Typed_links_record_what_each_revision_supersedes()
    {
        var doc = await Document.InsertAsync(new Attrs { ["title"] = "Spec", ["body"] = "v1" });
        var original = doc.Id;
        doc = await doc.ReviseAsync("v2");
        doc = await doc.CommentAsync(original, "the first draft was shorter");

        Assert.That(doc.Revision, Is.EqualTo(2));
        var superseding = await DocumentHistory.SupersededByAsync(original);
        Assert.That(superseding, Has.Count.EqualTo(1));
        Assert.That(superseding[0].Action, Is.EqualTo("revise"));
        Assert.That(
            (await DocumentEvents.Log.LinkedEventsAsync(superseding[0].Id, "links", (int)DocLink.Supersedes))
                .Single()
                .Id,
            Is.EqualTo(original)
        );
        Assert.That(
            await DocumentEvents.Log.LinksOfAsync(superseding[0].Id),
            Is.EqualTo(new[] { new EventLinkRow("links", original, (int)DocLink.Supersedes) })
        );
        // The same target through another type is a different link.
        Assert.That((await DocumentHistory.CommentsOnAsync(original)).Single().Action, Is.EqualTo("comment"));
        Assert.That(await DocumentEvents.Log.LinkingEventsAsync(original, "links"), Has.Count.EqualTo(2));
        Assert.That(
            (await DocumentHistory.RevisionsAsync(doc.Id)).Select(e => e.ReadAttrs()["body"]!.GetValue<string>()),
            Is.EqualTo(new[] { "v1", "v2" })
        );
    }

    [Test]
    public async Task A_link_to_an_event_of_another_record_is_refused_by_the_database_and_nothing_is_stored()
    {
        var mine = await Document.InsertAsync(new Attrs { ["title"] = "Mine", ["body"] = "a" });
        var theirs = await Document.InsertAsync(new Attrs { ["title"] = "Theirs", ["body"] = "b" });

        var error = Assert.ThrowsAsync<InvalidLinkException>(() => mine.CommentAsync(theirs.Id, "cross-record"));
        Assert.That(
            error!.Message,
            Does.Contain(mine.Id.ToString()).And.Contain(theirs.Id.ToString()).And.Contain("same record")
        );
        Assert.That(error.Link, Is.EqualTo(new EventLinkRow("links", theirs.Id, (int)DocLink.Reference)));
        Assert.That(await Document.AllEventsAsync(mine.Id), Has.Count.EqualTo(1));
        Assert.That(await CountAsync("document_links"), Is.Zero);
        Assert.That((await Document.GetAsync(mine.Id))!.Comments, Is.Zero);

        Assert.ThrowsAsync<InvalidLinkException>(() => mine.CommentAsync(Guid.CreateVersion7(), "to nowhere"));
        Assert.That(await CountAsync("document_events"), Is.EqualTo(2));
    }

    [Test]
    public async Task The_trigger_refuses_a_cross_record_link_written_around_Spector()
    {
        var a = await Document.InsertAsync(new Attrs { ["title"] = "A" });
        var b = await Document.InsertAsync(new Attrs { ["title"] = "B" });

        var sql = "INSERT INTO \"document_links\" (\"event_id\", \"linked_id\", \"type\") VALUES (@a, @b, 2)";
        if (Database == Db.Postgres)
            Assert.That(
                Assert.CatchAsync(() => ExecuteRawAsync(sql, new { a = a.Id, b = b.Id })),
                Is.InstanceOf<Npgsql.PostgresException>().With.Property("SqlState").EqualTo("SPE02")
            );
        else
            Assert.That(
                Assert.CatchAsync(() => ExecuteRawAsync(sql, new { a = a.Id, b = b.Id })),
                Is.InstanceOf<SqliteException>().With.Property("SqliteExtendedErrorCode").EqualTo(1811)
            );
    }

    [Test]
    public async Task Links_are_covered_by_the_hash_chain()
    {
        var chat = await Conversation.InsertAsync(new Attrs { ["role"] = "user", ["content"] = "Hi" });
        chat = await chat.AppendAsync(chat.Messages[0].Id, "assistant", "Hello");
        chat = await chat.AppendAsync(chat.Messages[1].Id, "user", "Bye");
        var good = await ConversationEvents.Log.VerifyHashChainAsync();
        Assert.That(good.IsValid, Is.True);
        Assert.That(good.EventsChecked, Is.EqualTo(3));

        // Removing one ancestor link of the last message breaks the chain at that message.
        await ExecuteRawAsync(
            "DELETE FROM \"ai_chat_ancestors\" WHERE \"event_id\" = @e AND \"ancestor_id\" = @root",
            new { e = chat.Messages[2].Id, root = chat.Messages[0].Id }
        );
        var broken = await ConversationEvents.Log.VerifyHashChainAsync();
        Assert.That(broken.FirstBreak!.Kind, Is.EqualTo(ChainBreakKind.HashMismatch));
        Assert.That(broken.FirstBreak.EventId, Is.EqualTo(chat.Messages[2].Id));
    }

    [Test]
    public void Typed_and_untyped_links_are_used_as_declared()
    {
        Assert.ThrowsAsync<ArgumentException>(() => DocumentEvents.Log.LinkingEventsAsync(Guid.NewGuid(), "nope"));
        Assert.ThrowsAsync<ArgumentException>(() =>
            ChatEvents.Log.LinkingEventsAsync(Guid.NewGuid(), "edits", type: 1)
        );
    }
}
