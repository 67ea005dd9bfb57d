using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Nodes;
using Dapper;

namespace Spector.Tests;

/// <summary>The context of a write (actor, correlation, causation, reason, trace) is stored with every kind of
/// event.</summary>
[TestFixture(Db.Sqlite)]
[TestFixture(Db.Postgres)]
public sealed class EventContextTests(Db db) : DatabaseTest(db)
{
    private static readonly Actor Ann = new("user", "ann");
    private static readonly Actor Bob = new("user", "bob");

    [Test]
    public async Task A_scope_stores_its_context_in_columns_for_tabled_and_embedded_records_and_ends_with_its_disposal()
    {
        User user;
        Note note;
        using (
            SpectorContext.Begin(
                actor: Ann,
                reason: "support ticket 7\nsecond line",
                correlationId: "req-1",
                causationId: "msg-9"
            )
        )
        {
            user = await User.InsertAsync(new Attrs { ["name"] = "Zoë", ["email"] = "z@example.com" });
            note = await Note.InsertAsync(new Attrs { ["title"] = "n" });
        }
        await user.UpdateAsync(new Attrs { ["age"] = 3 });

        var events = await User.AllEventsAsync(user.Id);
        Assert.That(events[0].Actor, Is.EqualTo(Ann));
        Assert.That(
            (events[0].Reason, events[0].CorrelationId, events[0].CausationId),
            Is.EqualTo(("support ticket 7\nsecond line", "req-1", "msg-9"))
        );
        Assert.That((await Note.AllEventsAsync(note.Id))[0].Actor, Is.EqualTo(Ann));
        // After the scope: nothing stored, and envelope-free columns really are null.
        Assert.That(events[1].Actor, Is.Null);
        Assert.That(events[1].CorrelationId, Is.Null);
        Assert.That(SpectorContext.Current, Is.Null);
        // Dedicated columns, not a copy inside the metadata JSON.
        Assert.That(
            await CountAsync(
                "events",
                "\"actor_type\" = 'user' AND \"actor_id\" = 'ann' AND \"correlation_id\" = 'req-1'"
            ),
            Is.EqualTo(2)
        );
        Assert.That(events[0].MetadataJson, Is.Null);
    }

    [Test]
    public async Task Nested_scopes_override_field_by_field_merge_metadata_and_restore_the_outer_scope()
    {
        var memo = await Memo.InsertAsync(new Attrs { ["title"] = "m" });
        using (
            SpectorContext.Begin(
                actor: Ann,
                correlationId: "op-1",
                metadata: new JsonObject { ["tenant"] = "t1", ["ui"] = "web" }
            )
        )
        {
            using (SpectorContext.Begin(actor: Bob, reason: "inner", metadata: new JsonObject { ["ui"] = "cli" }))
                memo = await memo.UpdateAsync(new Attrs { ["title"] = "inner" });
            memo = await memo.UpdateAsync(new Attrs { ["title"] = "outer" });
        }

        var events = await Memo.AllEventsAsync(memo.Id);
        Assert.That((events[1].Actor, events[1].CorrelationId, events[1].Reason), Is.EqualTo((Bob, "op-1", "inner")));
        var inner = JsonNode.Parse(events[1].MetadataJson!)!.AsObject();
        Assert.That(
            inner.ToDictionary(p => p.Key, p => p.Value!.GetValue<string>()),
            Is.EquivalentTo(new Dictionary<string, string> { ["tenant"] = "t1", ["ui"] = "cli" })
        );
        Assert.That(
            (events[2].Actor, events[2].CorrelationId, events[2].Reason),
            Is.EqualTo((Ann, "op-1", (string?)null))
        );
        Assert.That(JsonNode.Parse(events[2].MetadataJson!)!["ui"]!.GetValue<string>(), Is.EqualTo("web"));
    }

    [Test]
    public async Task A_disposed_scope_is_in_force_nowhere_whatever_the_order_or_flow_it_is_disposed_in()
    {
        var memo = await Memo.InsertAsync(new Attrs { ["title"] = "m" });
        var outer = SpectorContext.Begin(actor: new Actor("user", "ann"));
        var inner = SpectorContext.Begin(actor: new Actor("user", "bob"));
        outer.Dispose();
        Assert.That(SpectorContext.Current!.Actor!.Id, Is.EqualTo("bob"), "the inner scope is still open");
        inner.Dispose();
        Assert.That(SpectorContext.Current, Is.Null, "out of order: neither is in force");
        memo = await memo.UpdateAsync(new Attrs { ["title"] = "after both" });

        var elsewhere = SpectorContext.Begin(actor: new Actor("user", "carl"));
        await Task.Run(elsewhere.Dispose); // a DI container's scope end, a callback
        Assert.That(SpectorContext.Current, Is.Null, "disposed from another flow");
        memo = await memo.UpdateAsync(new Attrs { ["title"] = "after elsewhere" });

        Task background;
        var gate = new TaskCompletionSource();
        using (SpectorContext.Begin(actor: new Actor("user", "dora")))
        {
            background = Task.Run(async () =>
            {
                await gate.Task;
                await memo.UpdateAsync(new Attrs { ["title"] = "work the scope started, run after it ended" });
            });
            using (SpectorContext.Begin(reason: "nested")) { }
            Assert.That(SpectorContext.Current!.Actor!.Id, Is.EqualTo("dora"), "an inner scope restores the outer");
        }
        gate.SetResult();
        await background;

        var events = await Memo.AllEventsAsync(memo.Id);
        Assert.That(events.Skip(1).Select(e => e.Actor), Is.All.Null);
        Assert.That(events, Has.Count.EqualTo(4));
    }

    [Test]
    public async Task A_scope_keeps_its_own_copy_of_its_metadata_and_refuses_unstorable_metadata_when_opened()
    {
        var bag = new JsonObject { ["k"] = "before" };
        var memo = await Memo.InsertAsync(new Attrs { ["title"] = "m" });
        using (SpectorContext.Begin(new EventContext { Metadata = bag }))
        {
            bag["k"] = "after";
            SpectorContext.Current!.Metadata!.Add("added", "via Current");
            await memo.UpdateAsync(new Attrs { ["title"] = "n" });
        }
        var stored = (await Memo.AllEventsAsync(memo.Id))[^1];
        Assert.That(stored.Metadata!.Value.GetProperty("k").GetString(), Is.EqualTo("before"));
        Assert.That(stored.Metadata!.Value.TryGetProperty("added", out _), Is.False);

        Assert.That(
            () => SpectorContext.Begin(metadata: new JsonObject { ["k"] = "a\0b" }),
            Throws.ArgumentException.With.Message.Contains("metadata.k").And.Message.Contains("U+0000")
        );
        Assert.That(() => new EventContext { Metadata = new JsonObject { ["\ud800"] = 1 } }, Throws.ArgumentException);
        Assert.That(
            () => new WriteOptions { Context = new EventContext { Metadata = new JsonObject { ["n"] = double.NaN } } },
            Throws.ArgumentException
        );
        Assert.That(SpectorContext.Current, Is.Null);
        Assert.That((await Memo.AllEventsAsync(memo.Id)), Has.Count.EqualTo(2), "nothing written");
    }

    [Test]
    public async Task Concurrent_flows_each_keep_their_own_context()
    {
        var memo = await Memo.InsertAsync(new Attrs { ["title"] = "m" });
        async Task WriteAsAsync(string who, int times)
        {
            using var scope = SpectorContext.Begin(actor: new Actor("user", who), correlationId: "op-" + who);
            for (var i = 0; i < times; i++)
            {
                await Task.Yield();
                await memo.UpdateAsync(new Attrs { ["title"] = who + i });
            }
        }

        await Task.WhenAll(WriteAsAsync("ann", 8), WriteAsAsync("bob", 8));

        var events = (await Memo.AllEventsAsync(memo.Id)).Skip(1).ToList();
        Assert.That(events, Has.Count.EqualTo(16));
        foreach (var e in events)
            Assert.That("op-" + e.Actor!.Id, Is.EqualTo(e.CorrelationId));
        Assert.That(
            events.Select(e => e.ReadAttrs().Get<string>("title")[..3]),
            Is.EquivalentTo(events.Select(e => e.Actor!.Id))
        );
    }

    [Test]
    public async Task Deletes_savepoints_and_bring_up_carry_the_context()
    {
        using var scope = SpectorContext.Begin(actor: Ann, correlationId: "maintenance");
        var wallet = await Wallet.InsertAsync(new Attrs { ["owner"] = "Ann" });
        for (var i = 0; i < 9; i++)
            wallet = await wallet.DepositAsync(1m, "d"); // the 10th event brings a savepoint
        wallet = await wallet.SavepointAsync();
        var memo = await Memo.InsertAsync(new Attrs { ["title"] = "m" });
        await memo.DeleteAsync();
        await ExecuteRawAsync(
            "INSERT INTO \"users\" (\"id\", \"name\", \"email\", \"age\", \"visits\", \"balance\", \"score\", "
                + "\"active\", \"plan\", \"inserted_at\", \"updated_at\") "
                + "VALUES (@id, 'Old', 'old@example.com', 0, 0, 0, 0, @active, 'Free', @at, @at)",
            new
            {
                id = Guid.NewGuid(),
                active = false,
                at = Database == Db.Postgres ? (object)DateTimeOffset.UtcNow : "2020-01-01T00:00:00Z",
            }
        );
        var broughtUp = await User.BringUpAsync();

        var walletEvents = await Wallet.AllEventsAsync(wallet.Id);
        Assert.That(walletEvents.Count(e => e.Action == "savepoint"), Is.EqualTo(2));
        Assert.That(walletEvents.Where(e => e.Action == "savepoint").Select(e => e.Actor), Is.All.EqualTo(Ann));
        Assert.That((await Memo.AllEventsAsync(memo.Id)).Last().Action, Is.EqualTo("delete"));
        Assert.That((await Memo.AllEventsAsync(memo.Id)).Last().Actor, Is.EqualTo(Ann));
        var imported = (await User.AllEventsAsync(broughtUp.Single().Id)).Single();
        Assert.That((imported.Actor, imported.CorrelationId), Is.EqualTo((Ann, "maintenance")));
        Assert.That(JsonNode.Parse(imported.MetadataJson!)!["brought_up_from"], Is.Not.Null);
        Assert.That((await LedgerEvents.Log.VerifyHashChainAsync()).IsValid, Is.True);
    }

    [Test]
    public async Task PrepareEvent_can_override_the_context_and_a_session_sets_a_per_call_context()
    {
        using var scope = SpectorContext.Begin(actor: Ann, reason: "edit");
        var memo = await Memo.InsertAsync(new Attrs { ["title"] = "m", ["signed_by"] = "notary-7" });
        await using (var connection = await OpenAsync())
        {
            var session = new SpectorSession(connection)
            {
                Context = new EventContext { Actor = Bob, CorrelationId = "batch-3" },
            };
            memo = await memo.UpdateAsync(session, new Attrs { ["title"] = "per call" });
        }

        var events = await Memo.AllEventsAsync(memo.Id);
        Assert.That(
            (events[0].Actor, events[0].Reason),
            Is.EqualTo((new Actor("signer", "notary-7"), "edit (signed)"))
        );
        // The session's context lies over the ambient one field by field.
        Assert.That((events[1].Actor, events[1].CorrelationId, events[1].Reason), Is.EqualTo((Bob, "batch-3", "edit")));
    }

    [Test]
    public async Task A_traced_request_stores_its_trace_id_and_the_span_of_the_operation_that_wrote()
    {
        using var source = new ActivitySource("Spector.Tests.Web");
        using var listener = new ActivityListener
        {
            ShouldListenTo = s => s.Name == source.Name,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
        };
        ActivitySource.AddActivityListener(listener);
        // As ASP.NET Core does: the request arrives with a W3C traceparent header, the server activity continues it.
        var incoming = ActivityContext.Parse("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", null);

        Memo memo;
        string requestTrace,
            handlerSpan;
        using (var request = source.StartActivity("GET /memos", ActivityKind.Server, incoming)!)
        {
            requestTrace = request.TraceId.ToHexString();
            using var scope = SpectorContext.Begin(actor: Ann);
            using var handler = source.StartActivity("save memo")!;
            handlerSpan = handler.SpanId.ToHexString();
            memo = await Memo.InsertAsync(new Attrs { ["title"] = "traced" });
        }
        var untraced = await Memo.InsertAsync(new Attrs { ["title"] = "no trace" });

        var stored = (await Memo.AllEventsAsync(memo.Id)).Single();
        Assert.That(requestTrace, Is.EqualTo("4bf92f3577b34da6a3ce929d0e0e4736"));
        Assert.That((stored.TraceId, stored.SpanId), Is.EqualTo((requestTrace, handlerSpan)));
        Assert.That((await Memo.AllEventsAsync(untraced.Id)).Single().TraceId, Is.Null);
        Assert.That(await CountAsync("events", "\"trace_id\" = @trace", new { trace = requestTrace }), Is.EqualTo(1));
    }

    [Test]
    public async Task Context_that_cannot_be_stored_is_refused_before_anything_is_written()
    {
        Assert.That(
            () => new Actor("user", new string('x', Actor.MaxIdLength + 1)),
            Throws.ArgumentException.With.Message.Contains("257 UTF-16 code units long; at most 256")
        );
        Assert.That(() => new Actor("", "1"), Throws.ArgumentException.With.Message.Contains("actor type"));
        Assert.That(() => new Actor("user", "a\0b"), Throws.ArgumentException.With.Message.Contains("U+0000"));
        Assert.That(
            () => new Actor("user", "\ud800"),
            Throws.ArgumentException.With.Message.Contains("lone surrogate")
        );
        Assert.That(() => SpectorContext.Begin(correlationId: new string('c', 257)), Throws.ArgumentException);
        Assert.That(() => new EventContext { TraceId = "4BF92F3577B34DA6A3CE929D0E0E4736" }, Throws.ArgumentException);
        Assert.That(() => new EventContext { SpanId = "0000000000000000" }, Throws.ArgumentException);
        Assert.That(SpectorContext.Current, Is.Null, "a refused scope is not opened");

        // A hook asking for an unstorable actor fails the write, and nothing is stored.
        Assert.That(
            () => Memo.InsertAsync(new Attrs { ["title"] = "m", ["signed_by"] = new string('s', 300) }),
            Throws.ArgumentException.With.Message.Contains("actor id")
        );
        Assert.That(await CountAsync("events"), Is.Zero);
    }

    [Test]
    public async Task Stored_events_serialize_payload_and_metadata_as_json_and_read_payload_keys_typed()
    {
        var due = new DateTimeOffset(2030, 1, 2, 3, 4, 5, TimeSpan.FromHours(2));
        Memo memo;
        using (SpectorContext.Begin(actor: Ann, metadata: new JsonObject { ["ip"] = "10.0.0.1" }))
            memo = await Memo.InsertAsync(
                new Attrs
                {
                    ["title"] = "m",
                    ["price"] = 12345678901234567.89m,
                    ["plan"] = "Pro",
                    ["due_at"] = due,
                    ["tags"] = new JsonArray("a", "b"),
                }
            );
        var stored = (await Memo.AllEventsAsync(memo.Id)).Single();

        var json = JsonNode.Parse(JsonSerializer.Serialize(stored))!;
        Assert.That(json["Payload"]!.GetValueKind(), Is.EqualTo(JsonValueKind.Object));
        Assert.That(json["Payload"]!["title"]!.GetValue<string>(), Is.EqualTo("m"));
        Assert.That(json["Metadata"]!["ip"]!.GetValue<string>(), Is.EqualTo("10.0.0.1"));
        Assert.That(json["Actor"]!["Id"]!.GetValue<string>(), Is.EqualTo("ann"));
        Assert.That(stored.Get<decimal>("price"), Is.EqualTo(12345678901234567.89m));
        Assert.That(stored.Get<Plan>("plan"), Is.EqualTo(Plan.Pro));
        Assert.That(stored.Get<DateTimeOffset?>("due_at"), Is.EqualTo(due));
        Assert.That(stored.Get<List<string>>("tags"), Is.EqualTo(new[] { "a", "b" }));
        Assert.That(stored.TryGet<int>("missing", out _), Is.False);
        Assert.That(
            () => stored.Get<int>("missing"),
            Throws.TypeOf<KeyNotFoundException>().With.Message.Contains(stored.Id.ToString())
        );
        Assert.That(
            () => stored.Get<int>("title"),
            Throws.TypeOf<InvalidCastException>().With.Message.Contains("'title'")
        );
    }

    [Test]
    public async Task Hashed_events_cover_their_context_and_a_changed_context_column_breaks_the_chain()
    {
        var plain = await LedgerAccount.InsertAsync(new Attrs { ["owner"] = "no context" });
        LedgerAccount account;
        using (SpectorContext.Begin(actor: Ann, reason: "open", correlationId: "c-1", causationId: plain.Id.ToString()))
            account = await LedgerAccount.InsertAsync(new Attrs { ["owner"] = "Ann" });
        await account.PostAsync(5m, "after");
        Assert.That((await LedgerEvents.Log.VerifyHashChainAsync()).IsValid, Is.True);

        await DropAppendOnlyTriggersAsync("ledger");
        var position = (await LedgerAccount.AllEventsAsync(account.Id))[0].Position;
        await ExecuteRawAsync(
            "UPDATE \"ledger\" SET \"actor_id\" = 'mallory' WHERE \"position\" = @position",
            new { position }
        );
        var broken = await LedgerEvents.Log.VerifyHashChainAsync();
        Assert.That(broken.FirstBreak?.Position, Is.EqualTo(position));

        // Erasing the whole context makes the row look like a version-1 event: still caught.
        await ExecuteRawAsync(
            "UPDATE \"ledger\" SET \"actor_id\" = NULL, \"actor_type\" = NULL, \"reason\" = NULL, "
                + "\"correlation_id\" = NULL, \"causation_id\" = NULL WHERE \"position\" = @position",
            new { position }
        );
        Assert.That((await LedgerEvents.Log.VerifyHashChainAsync()).FirstBreak?.Position, Is.EqualTo(position));
    }

    [Test]
    public async Task An_events_table_created_by_the_previous_ddl_gets_the_context_columns_and_keeps_its_events()
    {
        foreach (var log in AllLogs)
            await log.MigrateDownAsync();
        await ExecuteRawAsync(Database == Db.Postgres ? PreviousPostgresDdl : PreviousSqliteDdl);
        var oldId = Guid.NewGuid();
        var at = DateTimeOffset.UtcNow.AddDays(-1);
        await ExecuteRawAsync(
            "INSERT INTO \"events\" (\"id\", \"parent_id\", \"seq\", \"schema\", \"action\", \"payload\", "
                + "\"inserted_at\") VALUES (@oldId, @oldId, 1, 9, 1, "
                + (Database == Db.Postgres ? "CAST(@payload AS jsonb)" : "@payload")
                + ", @at)",
            new
            {
                oldId,
                payload = """{"title":"old","__version__":0}""",
                at = Database == Db.Postgres ? (object)at : EventHash.Micros(at),
            }
        );

        foreach (var log in AllLogs)
            await log.MigrateUpAsync();
        foreach (var log in AllLogs)
            await log.MigrateUpAsync(); // idempotent

        var old = (await Memo.GetAsync(oldId))!;
        Assert.That(old.Title, Is.EqualTo("old"));
        using (SpectorContext.Begin(actor: Bob))
            await old.UpdateAsync(new Attrs { ["title"] = "new" });
        var events = await Memo.AllEventsAsync(oldId);
        Assert.That(events.Select(e => e.Actor), Is.EqualTo(new[] { null, Bob }));
        await using var connection = await OpenAsync();
        var indexes =
            Database == Db.Postgres
                ? await connection.QueryAsync<string>(
                    "SELECT indexname FROM pg_indexes WHERE tablename = 'events' AND schemaname = current_schema()"
                )
                : await connection.QueryAsync<string>("SELECT name FROM pragma_index_list('events')");
        Assert.That(
            indexes,
            Is.SupersetOf(
                new[] { "events_actor_idx", "events_correlation_idx", "events_causation_idx", "events_inserted_at_idx" }
            )
        );
    }

    // The events table exactly as the DDL before the context columns created it.
    private const string PreviousPostgresDdl = """
        CREATE TABLE "events" (
            "position" bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            "id" uuid NOT NULL,
            "parent_id" uuid NOT NULL,
            "seq" bigint NOT NULL CHECK ("seq" >= 1),
            "schema" integer NOT NULL,
            "action" integer NOT NULL,
            "payload" jsonb NOT NULL,
            "metadata" jsonb NULL,
            "idempotency_key" text NULL,
            "inserted_at" timestamptz NOT NULL,
            "tx_id" xid8 NOT NULL DEFAULT pg_current_xact_id(),
            CONSTRAINT "events_id_key" UNIQUE ("id"),
            CONSTRAINT "events_parent_seq_key" UNIQUE ("parent_id", "seq")
        );
        CREATE INDEX "events_schema_idx" ON "events" ("schema")
        """;

    private const string PreviousSqliteDdl = """
        CREATE TABLE "events" (
            "position" INTEGER PRIMARY KEY AUTOINCREMENT,
            "id" BLOB NOT NULL UNIQUE,
            "parent_id" BLOB NOT NULL,
            "seq" INTEGER NOT NULL CHECK ("seq" >= 1),
            "schema" INTEGER NOT NULL,
            "action" INTEGER NOT NULL,
            "payload" TEXT NOT NULL,
            "metadata" TEXT NULL,
            "idempotency_key" TEXT NULL,
            "inserted_at" INTEGER NOT NULL,
            UNIQUE ("parent_id", "seq")
        );
        CREATE INDEX "events_schema_idx" ON "events" ("schema")
        """;
}
