namespace Spector.Tests;

/// <summary>Timelines across records: filters, causation chains, order, paging with cursors, and bad input.</summary>
[TestFixture(Db.Sqlite)]
[TestFixture(Db.Postgres)]
public sealed class TimelineTests(Db db) : DatabaseTest(db)
{
    private static readonly Actor Ann = new("user", "ann");
    private static readonly Actor Bob = new("user", "bob");

    private AuditTrail Audit => AppEvents.Log.Audit;

    private async Task<List<StoredEvent>> AllAsync(TimelineQuery query, string? after = null)
    {
        var events = new List<StoredEvent>();
        await foreach (var e in Audit.TimelineAsync(query, after))
            events.Add(e);
        return events;
    }

    [Test]
    public async Task Filters_by_actor_correlation_record_schema_action_and_time_across_records_newest_or_oldest_first()
    {
        Memo memo;
        User user;
        using (SpectorContext.Begin(actor: Ann, correlationId: "op-1"))
        {
            memo = await Memo.InsertAsync(new Attrs { ["title"] = "m" });
            user = await User.InsertAsync(new Attrs { ["name"] = "U", ["email"] = "u@example.com" });
        }
        await Task.Delay(2);
        using (SpectorContext.Begin(actor: Bob, correlationId: "op-2"))
        {
            memo = await memo.RepriceAsync(3m);
            await user.UpdateAsync(new Attrs { ["age"] = 4 });
        }
        using (SpectorContext.Begin(actor: new Actor("service", "ann"))) // same id, another actor type
            memo = await memo.UpdateAsync(new Attrs { ["title"] = "svc" });
        await Note.InsertAsync(new Attrs { ["title"] = "no actor" });

        var annEvents = await AllAsync(new TimelineQuery { Actor = Ann });
        Assert.That(annEvents.Select(e => e.ParentId), Is.EqualTo(new[] { user.Id, memo.Id }), "newest first");
        Assert.That(
            (await AllAsync(new TimelineQuery { Actor = Ann, NewestFirst = false })).Select(e => e.ParentId),
            Is.EqualTo(new[] { memo.Id, user.Id })
        );
        Assert.That(
            (await AllAsync(new TimelineQuery { CorrelationId = "op-2" })).Select(e => e.Action),
            Is.EqualTo(new[] { "update", "reprice" })
        );
        Assert.That(
            (await AllAsync(new TimelineQuery { RecordId = memo.Id })).Select(e => e.Seq),
            Is.EqualTo(new[] { 3L, 2L, 1L })
        );
        Assert.That(
            (await AllAsync(new TimelineQuery { Schema = 9, Action = "update" })).Single().Actor,
            Is.EqualTo(new Actor("service", "ann"))
        );
        Assert.That(
            await AllAsync(
                new TimelineQuery
                {
                    Actor = Bob,
                    Schema = 9,
                    Action = "insert",
                }
            ),
            Is.Empty
        );
        var bobFirst = (await AllAsync(new TimelineQuery { Actor = Bob, NewestFirst = false }))[0];
        Assert.That(
            (await AllAsync(new TimelineQuery { From = bobFirst.InsertedAt })).Select(e => e.Actor?.Id),
            Is.EqualTo(new[] { null, "ann", "bob", "bob" })
        );
        Assert.That(
            (await AllAsync(new TimelineQuery { To = bobFirst.InsertedAt })).Select(e => e.Actor),
            Is.All.EqualTo(Ann)
        );
        Assert.That(await AllAsync(new TimelineQuery()), Has.Count.EqualTo(6));
    }

    [Test]
    public async Task A_causation_chain_holds_the_event_and_everything_it_caused_transitively()
    {
        var root = (await Memo.AllEventsAsync((await Memo.InsertAsync(new Attrs { ["title"] = "order" })).Id)).Single();
        StoredEvent child,
            grandchild;
        using (SpectorContext.CausedBy(root))
        {
            var caused = await Note.InsertAsync(new Attrs { ["title"] = "caused by the order" });
            child = (await Note.AllEventsAsync(caused.Id)).Single();
        }
        using (SpectorContext.CausedBy(child))
        {
            var next = await User.InsertAsync(new Attrs { ["name"] = "G", ["email"] = "g@example.com" });
            grandchild = (await User.AllEventsAsync(next.Id)).Single();
        }
        await Note.InsertAsync(new Attrs { ["title"] = "unrelated" });
        using (SpectorContext.Begin(causationId: "request-77"))
            await Note.InsertAsync(new Attrs { ["title"] = "caused by a message" });

        var chain = await AllAsync(new TimelineQuery { CausedBy = root.Id.ToString(), NewestFirst = false });
        Assert.That(chain.Select(e => e.Id), Is.EqualTo(new[] { root.Id, child.Id, grandchild.Id }));
        // From the middle: that event and what it caused, not its cause.
        Assert.That(
            (await AllAsync(new TimelineQuery { CausedBy = child.Id.ToString("B").ToUpperInvariant() })).Select(e =>
                e.Id
            ),
            Is.EqualTo(new[] { grandchild.Id, child.Id })
        );
        Assert.That(
            (await AllAsync(new TimelineQuery { CausedBy = "request-77" })).Single().CausationId,
            Is.EqualTo("request-77")
        );
        Assert.That(
            await AllAsync(new TimelineQuery { CausedBy = Guid.NewGuid().ToString() }),
            Is.Empty,
            "an id that points at nothing"
        );
        Assert.That(await AllAsync(new TimelineQuery { CausedBy = "nothing-here" }), Is.Empty);
    }

    [Test]
    public async Task A_cancelled_stream_stops_at_the_next_event()
    {
        var memo = await Memo.InsertAsync(new Attrs { ["title"] = "m" });
        for (var i = 0; i < 5; i++)
            memo = await memo.RepriceAsync(i);
        using var cancel = new CancellationTokenSource();
        var read = 0;
        Assert.That(
            async () =>
            {
                await foreach (var _ in Audit.TimelineAsync(new TimelineQuery()).WithCancellation(cancel.Token))
                    if (++read == 2)
                        await cancel.CancelAsync();
            },
            Throws.InstanceOf<OperationCanceledException>()
        );
        Assert.That(read, Is.EqualTo(2));
    }

    [Test]
    public async Task A_guid_causation_id_in_any_spelling_is_found_by_any_spelling_of_it()
    {
        var root = (await Memo.AllEventsAsync((await Memo.InsertAsync(new Attrs { ["title"] = "root" })).Id)).Single();
        var spellings = new[]
        {
            root.Id.ToString("D").ToUpperInvariant(),
            root.Id.ToString("N"),
            root.Id.ToString("B"),
        };
        var caused = new List<Guid>();
        foreach (var spelling in spellings)
        {
            using (SpectorContext.Begin(causationId: spelling))
                caused.Add((await Note.InsertAsync(new Attrs { ["title"] = spelling })).Id);
        }
        var message = Guid.NewGuid();
        using (SpectorContext.Begin(causationId: message.ToString("N").ToUpperInvariant()))
            caused.Add((await Note.InsertAsync(new Attrs { ["title"] = "from a message" })).Id);

        var chain = await AllAsync(new TimelineQuery { CausedBy = root.Id.ToString(), NewestFirst = false });
        Assert.That(chain.Select(e => e.ParentId), Is.EqualTo(new[] { root.ParentId }.Concat(caused.Take(3))));
        Assert.That(
            chain.Skip(1).Select(e => e.CausationId),
            Is.All.EqualTo(root.Id.ToString("D")),
            "stored canonical"
        );
        foreach (var spelling in spellings)
            Assert.That(await AllAsync(new TimelineQuery { CausedBy = spelling }), Has.Count.EqualTo(4), spelling);
        Assert.That(
            (await AllAsync(new TimelineQuery { CausedBy = message.ToString("N").ToUpperInvariant() }))
                .Single()
                .ParentId,
            Is.EqualTo(caused[3]),
            "the exact string the message id was written as"
        );

        // An event stored before causation GUIDs were made canonical keeps its spelling and is found by it.
        var old = (await Note.AllEventsAsync(caused[3])).Single();
        await DropAppendOnlyTriggersAsync();
        var verbatim = message.ToString("B").ToUpperInvariant();
        await ExecuteRawAsync(
            "UPDATE \"events\" SET \"causation_id\" = @cause WHERE \"position\" = @position",
            new { cause = verbatim, position = old.Position }
        );
        Assert.That((await AllAsync(new TimelineQuery { CausedBy = verbatim })).Single().Id, Is.EqualTo(old.Id));
    }

    [Test]
    public async Task Pages_resume_from_their_cursor_without_gaps_or_repeats_while_events_keep_arriving()
    {
        var memo = await Memo.InsertAsync(new Attrs { ["title"] = "m" });
        using (SpectorContext.Begin(actor: Ann))
            for (var i = 0; i < 25; i++)
                memo = await memo.RepriceAsync(i);
        var query = new TimelineQuery { Actor = Ann };

        var seen = new List<long>();
        string? cursor = null;
        var pages = 0;
        do
        {
            var page = await Audit.TimelinePageAsync(query, pageSize: 10, after: cursor);
            seen.AddRange(page.Events.Select(e => e.Position));
            cursor = page.NextCursor;
            pages++;
            // Newer events arriving meanwhile do not shift a newest-first timeline's later pages.
            using (SpectorContext.Begin(actor: Ann))
                memo = await memo.RepriceAsync(100 + pages);
        } while (cursor is not null);

        Assert.That(pages, Is.EqualTo(3));
        Assert.That(seen, Has.Count.EqualTo(25).And.Unique);
        Assert.That(seen, Is.Ordered.Descending);
        // A cursor taken from any streamed event resumes just after it.
        var all = await AllAsync(query);
        var resumed = await AllAsync(query, Audit.CursorAfter(query, all[4]));
        Assert.That(resumed.Select(e => e.Position), Is.EqualTo(all.Skip(5).Select(e => e.Position)));
        var exact = await Audit.TimelinePageAsync(query, pageSize: all.Count);
        Assert.That(exact.NextCursor, Is.Null, "a page that ends the timeline has no next cursor");
    }

    [Test]
    public async Task Bad_input_is_an_argument_exception_before_any_query_and_nothing_is_written()
    {
        var memo = await Memo.InsertAsync(new Attrs { ["title"] = "m" });
        var query = new TimelineQuery { Actor = Ann };
        var cursor = (await Audit.TimelinePageAsync(new TimelineQuery(), pageSize: 1)).NextCursor;
        Assert.That(cursor, Is.Null);
        await memo.RepriceAsync(1m);
        cursor = (await Audit.TimelinePageAsync(new TimelineQuery(), pageSize: 1)).NextCursor!;

        Assert.That(
            () => Audit.TimelineAsync(query, "not-a-cursor"),
            Throws.ArgumentException.With.Message.Contains("not a timeline cursor")
        );
        Assert.That(
            () => Audit.TimelineAsync(query, cursor),
            Throws.ArgumentException.With.Message.Contains("another timeline query")
        );
        Assert.That(
            () => Audit.TimelinePageAsync(query, after: cursor[..^1] + (cursor[^1] == 'A' ? 'B' : 'A')),
            Throws.ArgumentException
        );
        Assert.That(
            () => Audit.TimelinePageAsync(query, pageSize: 0),
            Throws.InstanceOf<ArgumentOutOfRangeException>()
        );
        var now = DateTimeOffset.UtcNow;
        Assert.That(
            () => Audit.TimelineAsync(new TimelineQuery { From = now, To = now.AddDays(-1) }),
            Throws.ArgumentException.With.Message.Contains("inverted")
        );
        Assert.That(
            () => Audit.TimelineAsync(new TimelineQuery { Action = "publish-everything" }),
            Throws.ArgumentException.With.Message.Contains("no action 'publish-everything'")
        );
        Assert.That(() => new TimelineQuery { CorrelationId = new string('c', 300) }, Throws.ArgumentException);
        Assert.That(
            () => new TimelineQuery { Actor = new Actor("user", new string('x', 300)) },
            Throws.ArgumentException
        );
        Assert.That(() => new TimelineQuery { TraceId = "xyz" }, Throws.ArgumentException);
        Assert.That(await CountAsync("events"), Is.EqualTo(2));
    }

    [Test]
    public async Task Events_of_one_trace_are_found_by_its_id()
    {
        var trace = System.Diagnostics.ActivityTraceId.CreateRandom().ToHexString();
        using (SpectorContext.Begin(new EventContext { TraceId = trace }))
            await Memo.InsertAsync(new Attrs { ["title"] = "traced" });
        await Memo.InsertAsync(new Attrs { ["title"] = "other" });
        Assert.That((await AllAsync(new TimelineQuery { TraceId = trace })).Single().TraceId, Is.EqualTo(trace));
    }
}
