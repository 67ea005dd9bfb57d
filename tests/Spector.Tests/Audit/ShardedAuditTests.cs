namespace Spector.Tests;

/// <summary>
/// Timelines, cursors, causation chains and buckets of a sharded log: the shards merge by time (then shard, then
/// position), a cursor resumes across shards, and counts add up over the shards.
/// </summary>
[TestFixture(Db.Sqlite)]
[TestFixture(Db.Postgres)]
public sealed class ShardedAuditTests(Db db) : DatabaseTest(db)
{
    private static readonly Actor Ann = new("user", "ann");
    private static readonly Actor Bob = new("user", "bob");
    private static AuditTrail Audit => ShardedEvents.Log.Audit;

    private static string ShardOf(Guid recordId) => ShardedEvents.Log.ShardFor(recordId).Table;

    private static async Task<List<StoredEvent>> AllAsync(TimelineQuery query, string? after = null)
    {
        var events = new List<StoredEvent>();
        await foreach (var e in Audit.TimelineAsync(query, after))
            events.Add(e);
        return events;
    }

    /// <summary>Notes in both shards, written by Ann and Bob in turn; returns every event stored.</summary>
    private static async Task<List<StoredEvent>> WriteNotesAsync(int perShard)
    {
        var notes = new List<ShardNote>();
        while (
            notes.Count(n => ShardOf(n.Id) == "notes_even") < perShard
            || notes.Count(n => ShardOf(n.Id) == "notes_odd") < perShard
        )
        {
            using (SpectorContext.Begin(actor: notes.Count % 2 == 0 ? Ann : Bob))
                notes.Add(await ShardNote.InsertAsync(new Attrs { ["title"] = $"n{notes.Count}" }));
        }
        foreach (var note in notes.Take(4))
        {
            await Task.Delay(1);
            using (SpectorContext.Begin(actor: Bob))
                await note.ReviseAsync("revised");
        }
        var events = new List<StoredEvent>();
        foreach (var note in notes)
            events.AddRange(await ShardNote.AllEventsAsync(note.Id));
        return events;
    }

    private static void AssertMergedByTime(IReadOnlyList<StoredEvent> timeline, bool newestFirst)
    {
        for (var i = 1; i < timeline.Count; i++)
        {
            var (earlier, later) = newestFirst ? (timeline[i], timeline[i - 1]) : (timeline[i - 1], timeline[i]);
            Assert.That(earlier.InsertedAt, Is.LessThanOrEqualTo(later.InsertedAt), $"time order at {i}");
            if (ShardOf(earlier.ParentId) == ShardOf(later.ParentId) && earlier.InsertedAt == later.InsertedAt)
                Assert.That(earlier.Position, Is.LessThan(later.Position), $"position order within a shard at {i}");
        }
    }

    [Test]
    public async Task The_timeline_merges_every_shard_by_time_and_filters_across_them()
    {
        var stored = await WriteNotesAsync(perShard: 4);

        var newest = await AllAsync(new TimelineQuery());
        Assert.That(
            newest.Select(e => e.Id),
            Is.EquivalentTo(stored.Select(e => e.Id)),
            "every event of both shards, once"
        );
        Assert.That(newest.Select(e => ShardOf(e.ParentId)).Distinct().Count(), Is.EqualTo(2));
        AssertMergedByTime(newest, newestFirst: true);
        var oldest = await AllAsync(new TimelineQuery { NewestFirst = false });
        Assert.That(oldest.Select(e => e.Id), Is.EqualTo(newest.Select(e => e.Id).Reverse()), "the exact reverse");

        var bob = await AllAsync(new TimelineQuery { Actor = Bob });
        Assert.That(bob.Select(e => e.Id), Is.EquivalentTo(stored.Where(e => e.Actor == Bob).Select(e => e.Id)));
        Assert.That(bob.Select(e => ShardOf(e.ParentId)).Distinct().Count(), Is.EqualTo(2));
        AssertMergedByTime(bob, newestFirst: true);
        var one = stored.Last();
        Assert.That(
            (await AllAsync(new TimelineQuery { RecordId = one.ParentId })).Select(e => e.Id),
            Is.EqualTo(stored.Where(e => e.ParentId == one.ParentId).Select(e => e.Id).Reverse())
        );
        Assert.That(await AllAsync(new TimelineQuery { From = newest[0].InsertedAt.AddTicks(10) }), Is.Empty);
    }

    [Test]
    public async Task Pages_resume_across_shards_with_their_cursor_and_never_show_later_appends()
    {
        await WriteNotesAsync(perShard: 4);
        foreach (var newestFirst in new[] { true, false })
        {
            var query = new TimelineQuery { NewestFirst = newestFirst };
            var whole = await AllAsync(query);
            var paged = new List<StoredEvent>();
            var page = await Audit.TimelinePageAsync(query, pageSize: 3);
            if (newestFirst)
                await ShardNote.InsertAsync(new Attrs { ["title"] = "appended while paging" });
            while (true)
            {
                paged.AddRange(page.Events);
                if (page.NextCursor is null)
                    break;
                Assert.That(page.NextCursor, Has.Length.EqualTo(36));
                page = await Audit.TimelinePageAsync(query, pageSize: 3, after: page.NextCursor);
            }
            Assert.That(paged.Select(e => e.Id), Is.EqualTo(whole.Select(e => e.Id)), $"newest first: {newestFirst}");

            // A stream resumed after any event goes on exactly as the whole timeline does.
            var middle = whole[whole.Count / 2];
            var resumed = await AllAsync(query, Audit.CursorAfter(query, middle));
            Assert.That(resumed.Select(e => e.Id), Is.EqualTo(whole.Skip(whole.Count / 2 + 1).Select(e => e.Id)));
        }
    }

    [Test]
    public async Task A_cursor_of_the_sharded_log_is_refused_elsewhere_and_a_damaged_one_before_any_query()
    {
        await WriteNotesAsync(perShard: 2);
        var query = new TimelineQuery();
        var cursor = (await Audit.TimelinePageAsync(query, pageSize: 1)).NextCursor!;
        Assert.That(
            () => AppEvents.Log.Audit.TimelinePageAsync(query, after: cursor),
            Throws.ArgumentException.With.Message.Contains("not a timeline cursor")
        );
        var unsharded = (await AppEvents.Log.Audit.TimelinePageAsync(query, pageSize: 1)).NextCursor;
        if (unsharded is not null)
            Assert.That(() => Audit.TimelinePageAsync(query, after: unsharded), Throws.ArgumentException);
        Assert.That(
            () => Audit.TimelinePageAsync(new TimelineQuery { Actor = Ann }, after: cursor),
            Throws.ArgumentException.With.Message.Contains("another timeline query")
        );
        var damaged = cursor[..^2] + (cursor[^2] == 'A' ? "B" : "A") + cursor[^1];
        Assert.That(() => Audit.TimelinePageAsync(query, after: damaged), Throws.ArgumentException);
    }

    [Test]
    public async Task A_causation_chain_follows_causes_from_one_shard_into_the_other()
    {
        async Task<ShardNote> NoteInAsync(string shard)
        {
            while (true)
            {
                var note = await ShardNote.InsertAsync(new Attrs { ["title"] = shard });
                if (ShardOf(note.Id) == shard)
                    return note;
            }
        }
        async Task<StoredEvent> ReviseAsync(ShardNote note, StoredEvent cause)
        {
            using (SpectorContext.CausedBy(cause))
                await note.ReviseAsync("caused");
            return (await ShardNote.AllEventsAsync(note.Id))[^1];
        }
        var first = await NoteInAsync("notes_even");
        var root = (await ShardNote.AllEventsAsync(first.Id)).Single();
        var child = await ReviseAsync(await NoteInAsync("notes_odd"), root);
        var grandchild = await ReviseAsync(await NoteInAsync("notes_even"), child);
        await NoteInAsync("notes_odd");

        var chain = await AllAsync(new TimelineQuery { CausedBy = root.Id.ToString(), NewestFirst = false });
        Assert.That(chain.Select(e => e.Id), Is.EqualTo(new[] { root.Id, child.Id, grandchild.Id }));
        Assert.That(
            (await AllAsync(new TimelineQuery { CausedBy = child.Id.ToString() })).Select(e => e.Id),
            Is.EqualTo(new[] { grandchild.Id, child.Id })
        );
        Assert.That(await AllAsync(new TimelineQuery { CausedBy = "nothing-points-here" }), Is.Empty);
    }

    [Test]
    public async Task Buckets_add_up_the_counts_of_every_shard()
    {
        var stored = await WriteNotesAsync(perShard: 3);
        var from = stored.Min(e => e.InsertedAt).AddHours(-1);
        var to = stored.Max(e => e.InsertedAt).AddHours(1);

        var buckets = await Audit.CountAsync(new BucketQuery(from, to, BucketSize.Hour));

        Assert.That(Enumerable.Range(0, buckets.Starts.Count).Sum(buckets.Total), Is.EqualTo(stored.Count));
        foreach (var action in new[] { "insert", "revise" })
            Assert.That(
                buckets.Series.Single(s => s.Action == action).Counts.Sum(),
                Is.EqualTo(stored.Count(e => e.Action == action)),
                action
            );
        var bob = await Audit.CountAsync(new BucketQuery(from, to, BucketSize.Day) { Actor = Bob });
        Assert.That(bob.Series.Sum(s => s.Counts.Sum()), Is.EqualTo(stored.Count(e => e.Actor == Bob)));
    }
}
