namespace Spector.Tests;

/// <summary>Counts per time bucket: zone-aware calendar bounds, zero-filled series, filters, and refused
/// ranges.</summary>
[TestFixture(Db.Sqlite)]
[TestFixture(Db.Postgres)]
public sealed class BucketTests(Db db) : DatabaseTest(db)
{
    private static readonly TimeZoneInfo Berlin = TimeZoneInfo.FindSystemTimeZoneById("Europe/Berlin");
    private static readonly TimeZoneInfo Kolkata = TimeZoneInfo.FindSystemTimeZoneById("Asia/Kolkata");

    private AuditTrail Audit => AppEvents.Log.Audit;

    /// <summary>An event row at a chosen instant, as an import would store it (counting reads no payload).</summary>
    private async Task AddEventAsync(DateTimeOffset at, int action, int schema = 9, string? actorId = null)
    {
        var id = Guid.CreateVersion7();
        await ExecuteRawAsync(
            "INSERT INTO \"events\" (\"id\", \"parent_id\", \"seq\", \"schema\", \"action\", \"payload\", "
                + "\"inserted_at\", \"actor_type\", \"actor_id\") "
                + "VALUES (@id, @id, 1, @schema, @action, "
                + (Database == Db.Postgres ? "CAST('{}' AS jsonb)" : "'{}'")
                + ", @at, @type, @actorId)",
            new
            {
                id,
                schema,
                action,
                actorId,
                type = actorId is null ? null : "user",
                at = Database == Db.Postgres ? (object)at.ToUniversalTime() : EventHash.Micros(at),
            }
        );
    }

    [Test]
    public async Task Days_run_from_midnight_to_midnight_in_the_time_zone_across_a_dst_change_and_are_zero_filled()
    {
        // Berlin moves to summer time on 29 March 2026: that day is 23 hours long.
        await AddEventAsync(new DateTimeOffset(2026, 3, 28, 23, 30, 0, TimeSpan.FromHours(1)), EventActions.Update);
        // 28th in UTC
        await AddEventAsync(new DateTimeOffset(2026, 3, 29, 0, 30, 0, TimeSpan.FromHours(1)), EventActions.Insert);
        await AddEventAsync(new DateTimeOffset(2026, 3, 29, 23, 30, 0, TimeSpan.FromHours(2)), EventActions.Insert);
        // the next day's first instant
        await AddEventAsync(new DateTimeOffset(2026, 3, 30, 0, 0, 0, TimeSpan.FromHours(2)), EventActions.Insert);
        // outside the range
        await AddEventAsync(new DateTimeOffset(2026, 4, 5, 0, 0, 0, TimeSpan.Zero), EventActions.Insert);

        var buckets = await Audit.CountAsync(
            new BucketQuery(
                new DateTimeOffset(2026, 3, 28, 12, 0, 0, TimeSpan.Zero),
                new DateTimeOffset(2026, 3, 30, 22, 0, 0, TimeSpan.Zero),
                BucketSize.Day
            )
            {
                TimeZone = Berlin,
            }
        );

        Assert.That(
            buckets.Starts,
            Is.EqualTo(
                new[]
                {
                    new DateTimeOffset(2026, 3, 28, 0, 0, 0, TimeSpan.FromHours(1)),
                    new DateTimeOffset(2026, 3, 29, 0, 0, 0, TimeSpan.FromHours(1)),
                    new DateTimeOffset(2026, 3, 30, 0, 0, 0, TimeSpan.FromHours(2)),
                }
            )
        );
        Assert.That(
            buckets.Starts.Select(s => s.Offset),
            Is.EqualTo(new[] { TimeSpan.FromHours(1), TimeSpan.FromHours(1), TimeSpan.FromHours(2) })
        );
        Assert.That(buckets.End, Is.EqualTo(new DateTimeOffset(2026, 3, 31, 0, 0, 0, TimeSpan.FromHours(2))));
        Assert.That(
            buckets.Series.Select(s => (s.Action, s.Counts.ToArray())),
            Is.EqualTo(new[] { ("insert", new long[] { 0, 2, 1 }), ("update", new long[] { 1, 0, 0 }) })
        );
        Assert.That(Enumerable.Range(0, 3).Select(buckets.Total), Is.EqualTo(new long[] { 1, 2, 1 }));

        // The same events in UTC days land elsewhere: the zone really moves the bounds.
        var utc = await Audit.CountAsync(
            new BucketQuery(
                new DateTimeOffset(2026, 3, 28, 0, 0, 0, TimeSpan.Zero),
                new DateTimeOffset(2026, 3, 31, 0, 0, 0, TimeSpan.Zero),
                BucketSize.Day
            )
        );
        Assert.That(utc.Series.Single(s => s.Action == "insert").Counts, Is.EqualTo(new long[] { 1, 2, 0 }));
    }

    [Test]
    public async Task Hours_weeks_and_months_and_counts_per_schema_and_actor()
    {
        await AddEventAsync(
            new DateTimeOffset(2026, 6, 1, 10, 29, 0, TimeSpan.Zero),
            EventActions.Insert,
            schema: 9,
            actorId: "ann"
        );
        await AddEventAsync(
            new DateTimeOffset(2026, 6, 1, 10, 31, 0, TimeSpan.Zero),
            EventActions.Insert,
            schema: 5,
            actorId: "bob"
        );
        await AddEventAsync(
            new DateTimeOffset(2026, 6, 7, 23, 0, 0, TimeSpan.Zero),
            EventActions.Update,
            schema: 9,
            actorId: "ann"
        ); // a Sunday
        await AddEventAsync(new DateTimeOffset(2026, 7, 1, 0, 0, 0, TimeSpan.Zero), EventActions.Delete, schema: 9);

        // India is 5:30 ahead: its hours start at :30 UTC.
        var hours = await Audit.CountAsync(
            new BucketQuery(
                new DateTimeOffset(2026, 6, 1, 9, 45, 0, TimeSpan.Zero),
                new DateTimeOffset(2026, 6, 1, 11, 45, 0, TimeSpan.Zero),
                BucketSize.Hour
            )
            {
                TimeZone = Kolkata,
            }
        );
        Assert.That(
            hours.Starts.Select(s => s.UtcDateTime.ToString("HH:mm")),
            Is.EqualTo(new[] { "09:30", "10:30", "11:30" })
        );
        Assert.That(hours.Series.Single().Counts, Is.EqualTo(new long[] { 1, 1, 0 }));

        var weeks = await Audit.CountAsync(
            new BucketQuery(
                new DateTimeOffset(2026, 6, 3, 0, 0, 0, TimeSpan.Zero),
                new DateTimeOffset(2026, 6, 10, 0, 0, 0, TimeSpan.Zero),
                BucketSize.Week
            )
            {
                BySchema = true,
            }
        );
        Assert.That(weeks.Starts.Select(s => s.DayOfWeek), Is.All.EqualTo(DayOfWeek.Monday));
        Assert.That(weeks.Starts[0], Is.EqualTo(new DateTimeOffset(2026, 6, 1, 0, 0, 0, TimeSpan.Zero)));
        Assert.That(
            weeks.Series.Select(s => (s.Schema, s.Action, s.Counts.ToArray())),
            Is.EqualTo(
                new[]
                {
                    ((int?)5, "insert", new long[] { 1, 0 }),
                    ((int?)9, "insert", new long[] { 1, 0 }),
                    ((int?)9, "update", new long[] { 1, 0 }),
                }
            )
        );

        var months = await Audit.CountAsync(
            new BucketQuery(
                new DateTimeOffset(2026, 5, 15, 0, 0, 0, TimeSpan.Zero),
                new DateTimeOffset(2026, 7, 2, 0, 0, 0, TimeSpan.Zero),
                BucketSize.Month
            )
            {
                Actor = new Actor("user", "ann"),
            }
        );
        Assert.That(months.Starts.Select(s => s.Month), Is.EqualTo(new[] { 5, 6, 7 }));
        Assert.That(
            months.Series.Select(s => (s.Action, s.Counts.Sum())),
            Is.EqualTo(new[] { ("insert", 1L), ("update", 1L) })
        );

        var nothing = await Audit.CountAsync(
            new BucketQuery(
                new DateTimeOffset(2020, 1, 1, 0, 0, 0, TimeSpan.Zero),
                new DateTimeOffset(2020, 1, 3, 0, 0, 0, TimeSpan.Zero),
                BucketSize.Day
            )
        );
        Assert.That((nothing.Starts.Count, nothing.Series.Count), Is.EqualTo((2, 0)));
    }

    [Test]
    public void Empty_inverted_and_unbounded_ranges_are_refused()
    {
        var now = DateTimeOffset.UtcNow;
        Assert.That(
            () => Audit.CountAsync(new BucketQuery(now, now, BucketSize.Day)),
            Throws.ArgumentException.With.Message.Contains("empty")
        );
        Assert.That(
            () => Audit.CountAsync(new BucketQuery(now, now.AddDays(-1), BucketSize.Day)),
            Throws.ArgumentException.With.Message.Contains("inverted")
        );
        Assert.That(
            () => Audit.CountAsync(new BucketQuery(DateTimeOffset.MinValue, DateTimeOffset.MaxValue, BucketSize.Month)),
            Throws.ArgumentException.With.Message.Contains("more than 10000")
        );
        Assert.That(
            () => Audit.CountAsync(new BucketQuery(now, now.AddYears(2), BucketSize.Hour)),
            Throws.ArgumentException
        );
        Assert.That(
            () => Audit.CountAsync(new BucketQuery(now, now.AddDays(1), (BucketSize)9)),
            Throws.ArgumentException
        );
        var tokyo = TimeZoneInfo.FindSystemTimeZoneById("Asia/Tokyo");
        var end = DateTimeOffset.MaxValue;
        Assert.That(
            () =>
                Audit.CountAsync(
                    new BucketQuery(end.AddDays(-3), end.AddDays(-1), BucketSize.Day) { TimeZone = tokyo }
                ),
            Throws.ArgumentException.With.Message.Contains("Asia/Tokyo").And.Message.Contains("narrow the range")
        );
    }
}
