using System.Data.Common;

namespace Spector.Tests;

/// <summary>
/// Each timeline filter is served by its index, on a table big enough (20,000 events, analyzed) that the planners
/// choose honestly. The plans printed here are the ones docs/audit-trail.md shows.
/// </summary>
[TestFixture(Db.Sqlite)]
[TestFixture(Db.Postgres)]
public sealed class TimelinePlanTests(Db db) : DatabaseTest(db)
{
    private static readonly Guid SomeRecord = Guid.Parse("00000000-0000-0000-0000-000000000007");

    private static IEnumerable<TestCaseData> Queries()
    {
        yield return new TestCaseData(
            new TimelineQuery { Actor = new Actor("user", "u7") },
            "events_actor_idx"
        ).SetArgDisplayNames("actor");
        yield return new TestCaseData(
            new TimelineQuery { CorrelationId = "c7" },
            "events_correlation_idx"
        ).SetArgDisplayNames("correlation");
        yield return new TestCaseData(new TimelineQuery { CausedBy = "m7" }, "events_causation_idx").SetArgDisplayNames(
            "causation"
        );
        yield return new TestCaseData(
            new TimelineQuery { RecordId = SomeRecord },
            "events_parent_seq_key|events_parent_time_idx|sqlite_autoindex_events_2"
        ).SetArgDisplayNames("record");
        yield return new TestCaseData(
            new TimelineQuery
            {
                From = DateTimeOffset.UnixEpoch.AddDays(1),
                To = DateTimeOffset.UnixEpoch.AddDays(1).AddHours(1),
            },
            "events_inserted_at_idx"
        ).SetArgDisplayNames("time");
    }

    [TestCaseSource(nameof(Queries))]
    public async Task A_timeline_filter_reads_its_index(TimelineQuery query, string index)
    {
        await FillAsync();
        var dialect = Spector.Dialect.For(Dialect);
        var sql = new TimelineSql(
            Log,
            Log.Shards[0],
            0,
            dialect,
            query,
            new TimelineKey(19_000, default, 0),
            limit: 101
        );
        await using var connection = await OpenAsync();
        await using var command = connection.CreateCommand();
        sql.Bind(command);
        command.CommandText = (Database == Db.Postgres ? "EXPLAIN " : "EXPLAIN QUERY PLAN ") + command.CommandText;
        var plan = new List<string>();
        await using (var reader = await command.ExecuteReaderAsync())
            while (await reader.ReadAsync())
                plan.Add(Database == Db.Postgres ? reader.GetString(0) : reader.GetString(3));
        var text = string.Join("\n", plan);
        await TestContext.Out.WriteLineAsync($"{sql.Text}\n{text}");
        Assert.That(text, Does.Match(index), text);
        Assert.That(text, Does.Not.Contain("Seq Scan on events").And.Not.Match(@"SCAN events(\n|$)"), text);
    }

    /// <summary>20,000 events over 200 actors, 1,000 correlations, 2,000 records; a tenth caused by messages.</summary>
    private async Task FillAsync()
    {
        if (Database == Db.Postgres)
        {
            await ExecuteRawAsync(
                """
                INSERT INTO "events" ("id", "parent_id", "seq", "schema", "action", "payload", "inserted_at",
                    "actor_type", "actor_id", "correlation_id", "causation_id")
                SELECT md5('e' || n)::uuid, ('00000000-0000-0000-0000-' || lpad((n / 10)::text, 12, '0'))::uuid,
                    n % 10 + 1, 0, CASE WHEN n % 10 = 0 THEN 1 ELSE 2 END, '{}'::jsonb,
                    timestamptz 'epoch' + n * interval '1 minute', 'user', 'u' || n % 200, 'c' || n % 1000,
                    CASE WHEN n % 10 = 3 THEN 'm' || n % 100 END
                FROM generate_series(0, 19999) AS n
                """
            );
            await ExecuteRawAsync("ANALYZE \"events\"");
        }
        else
        {
            await ExecuteRawAsync(
                """
                WITH RECURSIVE s(n) AS (SELECT 0 UNION ALL SELECT n + 1 FROM s WHERE n < 19999)
                INSERT INTO "events" ("id", "parent_id", "seq", "schema", "action", "payload", "inserted_at",
                    "actor_type", "actor_id", "correlation_id", "causation_id")
                SELECT printf('E%035d', n), printf('00000000-0000-0000-0000-%012d', n / 10), n % 10 + 1, 0,
                    CASE WHEN n % 10 = 0 THEN 1 ELSE 2 END, '{}', 86400000000 * 0 + n * 60000000, 'user',
                    'u' || (n % 200), 'c' || (n % 1000), CASE WHEN n % 10 = 3 THEN 'm' || (n % 100) END
                FROM s
                """
            );
            await ExecuteRawAsync("ANALYZE \"events\"");
        }
    }
}
