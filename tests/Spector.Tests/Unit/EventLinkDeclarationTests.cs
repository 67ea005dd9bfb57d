namespace Spector.Tests;

public sealed class EventLinkDeclarationTests
{
    [Test]
    public void A_link_name_declared_twice_is_refused_with_the_table_and_name()
    {
        var error = Assert.Throws<ArgumentException>(() =>
            _ = new EventLog(
                "chat",
                [],
                [],
                links:
                [
                    new EventLinkInfo("edits", "chat_edits", "previous_id"),
                    new EventLinkInfo("edits", "chat_edits_2", "previous_id"),
                ]
            )
        );

        Assert.That(error!.Message, Does.Contain("chat").And.Contain("'edits' twice"));
    }

    [Test]
    public void Link_identifiers_are_validated_at_run_time_too()
    {
        Assert.Throws<ArgumentException>(() =>
            _ = new EventLog("chat", [], [], links: [new EventLinkInfo("edits", "chat edits", "previous_id")])
        );
    }
}
