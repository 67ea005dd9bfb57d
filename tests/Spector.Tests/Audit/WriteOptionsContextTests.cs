using System.Text.Json.Nodes;

namespace Spector.Tests;

/// <summary>A context given with one write (<see cref="WriteOptions.Context"/>), without a scope or a
/// session.</summary>
[TestFixture(Db.Sqlite)]
[TestFixture(Db.Postgres)]
public sealed class WriteOptionsContextTests(Db db) : DatabaseTest(db)
{
    private static readonly Actor Ann = new("user", "ann");
    private static readonly Actor Bob = new("user", "bob");
    private static readonly Actor Cid = new("service", "cid");

    [Test]
    public async Task Every_kind_of_write_stores_the_context_given_with_it_and_only_that_write()
    {
        var memo = await Memo.InsertAsync(
            new Attrs { ["title"] = "m" },
            new WriteOptions
            {
                Context = new EventContext { Actor = Ann, Reason = "created" },
            }
        );
        memo = await memo.UpdateAsync(new Attrs { ["title"] = "plain" });
        memo = await memo.RepriceAsync(
            9.5m,
            new WriteOptions
            {
                Context = new EventContext { Actor = Bob, CorrelationId = "req-2" },
            }
        );
        await memo.DeleteAsync(
            new WriteOptions
            {
                Context = new EventContext { Actor = Cid, CausationId = "msg-3" },
            }
        );

        var events = await Memo.AllEventsAsync(memo.Id);
        Assert.That(events.Select(e => e.Action), Is.EqualTo(new[] { "insert", "update", "reprice", "delete" }));
        Assert.That((events[0].Actor, events[0].Reason), Is.EqualTo((Ann, "created")));
        Assert.That(
            (events[1].Actor, events[1].Reason, events[1].CorrelationId),
            Is.EqualTo(((Actor?)null, (string?)null, (string?)null))
        );
        Assert.That((events[2].Actor, events[2].CorrelationId), Is.EqualTo((Bob, "req-2")));
        Assert.That((events[3].Actor, events[3].CausationId), Is.EqualTo((Cid, "msg-3")));
        Assert.That(await CountAsync("events", "\"actor_id\" IS NOT NULL"), Is.EqualTo(3));
    }

    [Test]
    public async Task The_call_lies_over_the_session_and_the_scope_field_by_field_and_the_hook_still_has_the_last_word()
    {
        using var scope = SpectorContext.Begin(
            actor: Ann,
            reason: "scope",
            correlationId: "op-1",
            metadata: new JsonObject { ["tenant"] = "t1", ["ui"] = "web" }
        );
        var memo = await Memo.InsertAsync(new Attrs { ["title"] = "m" });
        await using (var connection = await OpenAsync())
        {
            var session = new SpectorSession(connection)
            {
                Context = new EventContext { Actor = Bob, CausationId = "session" },
            };
            memo = await memo.UpdateAsync(
                session,
                new Attrs { ["title"] = "t2" },
                new WriteOptions
                {
                    Context = new EventContext
                    {
                        Actor = Cid,
                        Reason = "call",
                        Metadata = new JsonObject { ["ui"] = "cli" },
                    },
                }
            );
        }
        memo = await memo.UpdateAsync(
            new Attrs { ["title"] = "t3", ["signed_by"] = "notary-7" },
            new WriteOptions
            {
                Context = new EventContext { Actor = Bob, Reason = "call" },
            }
        );

        var events = await Memo.AllEventsAsync(memo.Id);
        Assert.That(
            (events[1].Actor, events[1].Reason, events[1].CorrelationId, events[1].CausationId),
            Is.EqualTo((Cid, "call", "op-1", "session"))
        );
        var metadata = JsonNode.Parse(events[1].MetadataJson!)!.AsObject();
        Assert.That(
            metadata.ToDictionary(p => p.Key, p => p.Value!.GetValue<string>()),
            Is.EquivalentTo(new Dictionary<string, string> { ["tenant"] = "t1", ["ui"] = "cli" })
        );
        // PrepareEvent signs over what the call said.
        Assert.That(
            (events[2].Actor, events[2].Reason),
            Is.EqualTo((new Actor("signer", "notary-7"), "call (signed)"))
        );
    }

    [Test]
    public async Task A_keyed_write_stores_its_context_and_a_retry_with_another_context_stores_nothing()
    {
        var memo = await Memo.InsertAsync(new Attrs { ["title"] = "m" });
        var first = await memo.UpdateAsync(
            new Attrs { ["title"] = "once" },
            new WriteOptions
            {
                IdempotencyKey = "k-1",
                Context = new EventContext { Actor = Ann },
            }
        );
        var retry = await memo.UpdateAsync(
            new Attrs { ["title"] = "once" },
            new WriteOptions
            {
                IdempotencyKey = "k-1",
                Context = new EventContext { Actor = Bob },
            }
        );

        Assert.That(retry.Title, Is.EqualTo(first.Title));
        var events = await Memo.AllEventsAsync(memo.Id);
        Assert.That(events, Has.Count.EqualTo(2));
        Assert.That(events[1].Actor, Is.EqualTo(Ann));
    }

    [Test]
    public async Task A_per_call_context_on_a_hashed_table_is_covered_by_the_chain()
    {
        var account = await LedgerAccount.InsertAsync(new Attrs { ["owner"] = "o" });
        await account.PostAsync(
            5m,
            "in",
            new WriteOptions
            {
                Context = new EventContext { Actor = Ann, Reason = "deposit" },
            }
        );
        await account.PostAsync(
            6m,
            "in",
            new WriteOptions
            {
                IdempotencyKey = "p-2",
                Context = new EventContext { Actor = Bob },
            }
        );
        var events = await LedgerAccount.AllEventsAsync(account.Id);
        Assert.That(events.Select(e => e.Actor), Is.EqualTo(new[] { null, Ann, Bob }));
        var verified = await LedgerEvents.Log.VerifyHashChainAsync();
        Assert.That((verified.EventsChecked, verified.IsValid), Is.EqualTo((3L, true)));

        await DropAppendOnlyTriggersAsync("ledger");
        await ExecuteRawAsync(
            "UPDATE \"ledger\" SET \"reason\" = 'refund' WHERE \"position\" = @position",
            new { position = events[1].Position }
        );
        Assert.That(
            (await LedgerEvents.Log.VerifyHashChainAsync()).FirstBreak?.Position,
            Is.EqualTo(events[1].Position)
        );
    }

    [Test]
    public void Context_that_cannot_be_stored_is_refused_when_the_options_are_made()
    {
        Assert.That(
            () =>
                new WriteOptions
                {
                    Context = new EventContext { CorrelationId = new string('c', EventContext.MaxIdLength + 1) },
                },
            Throws.InstanceOf<ArgumentException>()
        );
    }
}
