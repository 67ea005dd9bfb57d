using System.Globalization;
using Dapper;

namespace Spector.Tests;

/// <summary>Record tables rebuilt from the log: equal to a replay of every record, never empty to readers,
/// resumable.</summary>
[TestFixture(Db.Sqlite)]
[TestFixture(Db.Postgres)]
public sealed class RebuildTests(Db db) : DatabaseTest(db)
{
    [SetUp]
    public Task DropRebuildStateAsync() =>
        ExecuteRawAsync(
            "DROP TABLE IF EXISTS \"spector_rebuilds\"; DROP TABLE IF EXISTS \"users__rebuild\"; "
                + "DROP TABLE IF EXISTS \"tickets__rebuild\"; "
                + "DROP TABLE IF EXISTS \"sharded_notes__rebuild\"; DROP TABLE IF EXISTS \"receipt_rows__rebuild\"; "
                + "DROP TABLE IF EXISTS \"counters__rebuild\""
        );

    private async Task<List<User>> SeedUsersAsync(int count)
    {
        var users = new List<User>();
        for (var i = 0; i < count; i++)
        {
            var user = await User.InsertAsync(
                new Attrs
                {
                    ["name"] = $"user {i}",
                    ["email"] = $"u{i}@example.com",
                    ["age"] = i % 90,
                    ["balance"] = 10.25m * i,
                    ["score"] = i / 3.0,
                    ["active"] = i % 2 == 0,
                    ["plan"] = i % 3 == 0 ? "Pro" : "Free",
                    ["source"] = i % 4 == 0 ? null : "ad",
                }
            );
            if (i % 3 == 0)
                user = await user.UpdateAsync(new Attrs { ["visits"] = i * 10L, ["age"] = i % 90 + 1 });
            if (i % 7 == 0)
                await user.ArchiveAsync(new DateTimeOffset(2026, 1, 2, 3, 4, 5, TimeSpan.FromHours(5)));
            if (i % 11 == 5)
                await user.DeleteAsync();
            users.Add(user);
        }
        return users;
    }

    /// <summary>Every row as text, ordered by id: two tables are equal when their snapshots are.</summary>
    private async Task<List<string>> SnapshotAsync(string table)
    {
        await using var connection = await OpenAsync();
        var rows = await connection.QueryAsync($"SELECT * FROM \"{table}\"");
        return rows.Cast<IDictionary<string, object?>>()
            .Select(row =>
                string.Join(
                    "|",
                    row.OrderBy(c => c.Key, StringComparer.Ordinal).Select(c => c.Key + "=" + Show(c.Value))
                )
            )
            .OrderBy(s => s, StringComparer.Ordinal)
            .ToList();

        static string Show(object? value) =>
            value switch
            {
                null or DBNull => "null",
                byte[] bytes => Convert.ToHexString(bytes),
                DateTime d => d.ToUniversalTime().ToString("O", CultureInfo.InvariantCulture),
                IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
                _ => value.ToString()!,
            };
    }

    /// <summary>The row of every record the log has agrees with GetAsync; deleted records have none.</summary>
    private async Task AssertTableMatchesReplayAsync(IEnumerable<Guid> ids)
    {
        await using var connection = await OpenAsync();
        foreach (var id in ids)
        {
            var record = await User.GetAsync(id);
            var row = (
                await connection.QueryAsync<(string Name, long Age, long Visits)>(
                    "SELECT \"name\", \"age\", \"visits\" FROM \"users\" WHERE \"id\" = @id",
                    new { id }
                )
            ).ToList();
            if (record is null)
            {
                Assert.That(row, Is.Empty, $"deleted record {id} has no row");
                continue;
            }
            Assert.That(row, Has.Count.EqualTo(1), $"record {id} has its row");
            Assert.That(row[0], Is.EqualTo((record.Name, (long)record.Age, record.Visits)));
        }
    }

    [Test]
    public async Task A_rebuild_equals_a_replay_of_every_record_and_reports_its_progress()
    {
        var users = await SeedUsersAsync(120);
        var written = await SnapshotAsync("users");
        // Damage: a lost row, a wrong value, a row with no events behind it.
        await ExecuteRawAsync("DELETE FROM \"users\" WHERE \"id\" = @id", new { id = users[1].Id });
        await ExecuteRawAsync(
            "UPDATE \"users\" SET \"name\" = 'tampered' WHERE \"id\" = @id",
            new { id = users[2].Id }
        );
        await ExecuteRawAsync(
            "UPDATE \"users\" SET \"id\" = @other WHERE \"id\" = @id",
            new { other = Guid.NewGuid(), id = users[4].Id }
        );

        var reports = new List<RebuildProgress>();
        var lines = new List<string>();
        var result = await RecordTables.RebuildAsync(
            User.SpectorType,
            new RebuildOptions
            {
                BatchSize = 16,
                Parallelism = 3,
                Progress = new SyncProgress<RebuildProgress>(reports),
                Log = lines.Add,
                LogEvery = 50,
            }
        );

        Assert.That(
            await SnapshotAsync("users"),
            Is.EqualTo(written),
            "the rebuilt table equals the one the writes kept"
        );
        await AssertTableMatchesReplayAsync(users.Select(u => u.Id));
        var live = 120 - users.Count(u => users.IndexOf(u) % 11 == 5);
        Assert.That(result.Records, Is.EqualTo(live), "deleted records (flagged in the heads table) are not replayed");
        Assert.That(result.Rows, Is.EqualTo(live));
        Assert.That(result.Resumed, Is.False);
        Assert.That(reports.Max(r => r.Done), Is.EqualTo(live));
        Assert.That(reports.All(r => r.Total == live && r.Table == "users"));
        Assert.That(
            lines.Count(l => l.Contains($" of {live} records")),
            Is.EqualTo(2),
            "a line at 50 and at 100 records"
        );
        await using var connection = await OpenAsync();
        Assert.That(
            async () => await connection.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM \"users__rebuild\""),
            Throws.InstanceOf<System.Data.Common.DbException>(),
            "the table built beside is gone after the swap"
        );
    }

    [Test]
    public async Task Records_replayed_in_one_batch_each_start_from_their_own_latest_savepoint()
    {
        // Savepoints every 4 events: these receipts have none, one or two, each at its own seq, and share one read.
        var receipts = new List<Receipt>();
        for (var i = 0; i < 12; i++)
        {
            var receipt = await Receipt.InsertAsync(new Attrs { ["customer"] = $"c{i}", ["total"] = 100m + i });
            for (var k = 0; k < i; k++)
                receipt = await receipt.RefundAsync(1m + k);
            receipts.Add(receipt);
        }
        var written = await SnapshotAsync("receipt_rows");
        await ExecuteRawAsync("DELETE FROM \"receipt_rows\"");

        var result = await RecordTables.RebuildAsync(
            Receipt.SpectorType,
            new RebuildOptions { BatchSize = 50, Parallelism = 1 }
        );

        Assert.That(result.Rows, Is.EqualTo(receipts.Count));
        Assert.That(await SnapshotAsync("receipt_rows"), Is.EqualTo(written));
        foreach (var receipt in receipts)
            Assert.That((await Receipt.GetAsync(receipt.Id))!.Refunded, Is.EqualTo(receipt.Refunded));
    }

    [Test]
    public async Task A_batch_larger_than_one_replay_query_is_rebuilt_whole()
    {
        // More records in one batch than one replay query takes: the batch is read in several queries.
        var counters = new List<Counter>();
        for (var i = 0; i < 530; i++)
        {
            var counter = await Counter.InsertAsync(new Attrs { ["name"] = $"c{i}" });
            if (i % 2 == 0)
                counter = await counter.UpdateAsync(new Attrs { ["by"] = i });
            counters.Add(counter);
        }
        var written = await SnapshotAsync("counters");
        await ExecuteRawAsync("DELETE FROM \"counters\"");

        var result = await RecordTables.RebuildAsync(
            Counter.SpectorType,
            new RebuildOptions { BatchSize = 1000, Parallelism = 1 }
        );

        Assert.That(result.Rows, Is.EqualTo(counters.Count));
        Assert.That(await SnapshotAsync("counters"), Is.EqualTo(written));
    }

    [Test]
    public async Task A_sharded_type_is_rebuilt_from_the_heads_of_every_shard_without_its_deleted_records()
    {
        var notes = new List<ShardNote>();
        for (var i = 0; i < 24; i++)
        {
            var note = await ShardNote.InsertAsync(new Attrs { ["title"] = $"note {i}", ["body"] = "first" });
            if (i % 2 == 0)
                note = await note.ReviseAsync($"second {i}");
            if (i % 5 == 0)
                await note.DeleteAsync();
            notes.Add(note);
        }
        Assert.That(
            notes.Select(n => Convert.ToInt32(n.Id.ToString("N")[^1..], 16) % 2).Distinct().Count(),
            Is.EqualTo(2),
            "both shards hold records"
        );
        var written = await SnapshotAsync("sharded_notes");
        await ExecuteRawAsync("DELETE FROM \"sharded_notes\"");
        // A row of a deleted record, left by a bug: the rebuilt table must not keep it.
        await ExecuteRawAsync(
            "INSERT INTO \"sharded_notes\" (\"id\", \"title\", \"body\", \"revisions\") "
                + "VALUES (@id, 'ghost', 'ghost', 0)",
            new { id = notes[0].Id }
        );

        var result = await RecordTables.RebuildAsync(
            ShardNote.SpectorType,
            new RebuildOptions { BatchSize = 4, Parallelism = 2 }
        );

        var live = notes.Where((_, i) => i % 5 != 0).ToList();
        Assert.That(result.Records, Is.EqualTo(live.Count), "only live records are replayed");
        Assert.That(result.Rows, Is.EqualTo(live.Count));
        Assert.That(await SnapshotAsync("sharded_notes"), Is.EqualTo(written));
        foreach (var note in live)
            Assert.That((await ShardNote.GetAsync(note.Id))!.Body, Is.EqualTo(note.Body));
    }

    [Test]
    public async Task Records_imported_around_Spector_without_heads_are_rebuilt_too()
    {
        var users = await SeedUsersAsync(30);
        var written = await SnapshotAsync("users");
        // An import tool that wrote events but no heads: the write path adds a head on first write, a rebuild must not
        // drop the row meanwhile.
        // The first and last records in id order too: the search for headless records skips from record to record.
        var heads = Log.Shards[0].HeadsTable;
        var ordered = users.Select(u => u.Id).Order().ToList();
        await ExecuteRawAsync(
            $"DELETE FROM \"{heads}\" WHERE \"record_id\" IN (@a, @b, @c, @first, @last)",
            new
            {
                a = users[1].Id,
                b = users[2].Id,
                c = users[5].Id,
                first = ordered[0],
                last = ordered[^1],
            }
        );

        var result = await RecordTables.RebuildAsync(User.SpectorType);

        Assert.That(await SnapshotAsync("users"), Is.EqualTo(written));
        Assert.That(
            result.Records,
            Is.EqualTo(30 - users.Count(u => users.IndexOf(u) % 11 == 5)),
            "users[5] was deleted: its new head says so"
        );
        Assert.That(await User.ExistsAsync(users[1].Id), Is.True);
        Assert.That(await User.ExistsAsync(users[5].Id), Is.False);
        await users[2].UpdateAsync(new Attrs { ["visits"] = 77L });
        Assert.That((await User.GetAsync(users[2].Id))!.Visits, Is.EqualTo(77));
    }

    [Test]
    public async Task A_headless_record_without_a_first_event_is_left_out_as_before()
    {
        var users = await SeedUsersAsync(6);
        // users[3] has two events; an import lost its insert and its head. It has no state to rebuild.
        await DropAppendOnlyTriggersAsync();
        await ExecuteRawAsync(
            "DELETE FROM \"events\" WHERE \"parent_id\" = @id AND \"seq\" = 1",
            new { id = users[3].Id }
        );
        await ExecuteRawAsync(
            $"DELETE FROM \"{Log.Shards[0].HeadsTable}\" WHERE \"record_id\" = @id",
            new { id = users[3].Id }
        );

        var result = await RecordTables.RebuildAsync(User.SpectorType);

        Assert.That(result.Records, Is.EqualTo(5 - 1), "users[5] is deleted, users[3] has no head");
        Assert.That(await CountAsync("users", "\"id\" = @id", new { id = users[3].Id }), Is.Zero);
        Assert.That(
            await CountAsync(Log.Shards[0].HeadsTable, "\"record_id\" = @id", new { id = users[3].Id }),
            Is.Zero
        );
    }

    [Test]
    public async Task PrepareMaterialization_runs_for_every_rebuilt_row()
    {
        var ticket = await Ticket.InsertAsync(new Attrs { ["title"] = "Broken Build" });
        await ticket.UpdateAsync(new Attrs { ["title"] = "Broken Build Again" });
        await ExecuteRawAsync("UPDATE \"tickets\" SET \"slug\" = 'stale'");
        await RecordTables.RebuildAsync(Ticket.SpectorType);
        await using var connection = await OpenAsync();
        Assert.That(
            await connection.ExecuteScalarAsync<string>("SELECT \"slug\" FROM \"tickets\""),
            Is.EqualTo("broken-build-again")
        );
    }

    [Test]
    public async Task Readers_never_see_an_empty_table_and_writes_made_during_the_rebuild_are_kept()
    {
        var users = await SeedUsersAsync(80);
        var rows = await CountAsync("users");
        using var stop = new CancellationTokenSource();
        var smallest = long.MaxValue;
        var reader = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
                smallest = Math.Min(smallest, await CountAsync("users"));
        });
        var writer = Task.Run(async () =>
        {
            var random = new Random(2);
            while (!stop.IsCancellationRequested)
            {
                var user = users[random.Next(users.Count)];
                if (await User.GetAsync(user.Id) is not null)
                    await user.UpdateAsync(new Attrs { ["visits"] = random.Next(1000) });
            }
        });
        await Task.Delay(50);
        await RecordTables.RebuildAsync(User.SpectorType, new RebuildOptions { BatchSize = 8, Parallelism = 2 });
        await Task.Delay(50);
        stop.Cancel();
        await Task.WhenAll(reader, writer);
        Assert.That(smallest, Is.EqualTo(rows), "no reader saw a missing row");
        await AssertTableMatchesReplayAsync(users.Select(u => u.Id));
    }

    [Test]
    public async Task An_interrupted_rebuild_resumes_where_it_stopped()
    {
        var users = await SeedUsersAsync(60);
        var written = await SnapshotAsync("users");
        using var crash = new CancellationTokenSource();
        var first = new RebuildOptions
        {
            BatchSize = 10,
            Parallelism = 1,
            Progress = new SyncProgress<RebuildProgress>(p =>
            {
                if (p.Done >= 20)
                    crash.Cancel();
            }),
        };
        Assert.That(
            async () => await RecordTables.RebuildAsync(User.SpectorType, first, crash.Token),
            Throws.InstanceOf<OperationCanceledException>()
        );
        Assert.That(
            await CountAsync("users__rebuild"),
            Is.GreaterThanOrEqualTo(15),
            "the built rows survive the crash"
        );
        Assert.That(await SnapshotAsync("users"), Is.EqualTo(written), "the live table is untouched");

        await users[0].UpdateAsync(new Attrs { ["visits"] = 4242L });
        written = await SnapshotAsync("users");
        var second = await RecordTables.RebuildAsync(User.SpectorType, new RebuildOptions { BatchSize = 10 });
        Assert.That(second.Resumed, Is.True);
        Assert.That(second.Records, Is.LessThan(60).And.GreaterThan(0));
        Assert.That(
            second.CaughtUp,
            Is.GreaterThanOrEqualTo(1),
            "the record written after the first run started is replayed again"
        );
        Assert.That(await SnapshotAsync("users"), Is.EqualTo(written));
    }

    [Test]
    public async Task MigrateAsync_adds_nullable_columns_in_place_and_rebuilds_for_renamed_dropped_or_retyped_ones()
    {
        var users = await SeedUsersAsync(30);
        var written = await SnapshotAsync("users");
        Assert.That((await RecordTables.MigrateAsync(User.SpectorType)).Change, Is.EqualTo(RecordTableChange.None));

        // A nullable property added to the class: the column is added in place.
        await ExecuteRawAsync("ALTER TABLE \"users\" DROP COLUMN \"referrer_id\"");
        var added = await RecordTables.MigrateAsync(User.SpectorType);
        Assert.That(added.Change, Is.EqualTo(RecordTableChange.ColumnsAdded));
        Assert.That(added.Added, Is.EqualTo(new[] { "referrer_id" }));

        // A renamed property (the table still has the old name): rebuilt from the log.
        await ExecuteRawAsync("ALTER TABLE \"users\" RENAME COLUMN \"name\" TO \"full_name\"");
        Assert.That(
            async () => await users[0].UpdateAsync(new Attrs { ["age"] = 3 }),
            Throws.InstanceOf<System.Data.Common.DbException>(),
            "the write path cannot write a table that lags its class"
        );
        var renamed = await RecordTables.MigrateAsync(User.SpectorType);
        Assert.That(renamed.Change, Is.EqualTo(RecordTableChange.Rebuilt));
        Assert.That(renamed.Removed, Is.EqualTo(new[] { "full_name" }));
        Assert.That(renamed.Added, Is.EqualTo(new[] { "name" }));
        Assert.That(renamed.Rebuild!.Recreated, Is.True);
        Assert.That(await SnapshotAsync("users"), Is.EqualTo(written));

        // A retyped property: the table is created again with the class's type.
        await ExecuteRawAsync("DROP TABLE \"users\"");
        var create = User.SpectorType.Table!.CreateSql(Dialect);
        var retypedSql = create
            .Replace("\"age\" integer NOT NULL", "\"age\" text NOT NULL")
            .Replace("\"age\" INTEGER NOT NULL", "\"age\" TEXT NOT NULL");
        Assert.That(retypedSql, Is.Not.EqualTo(create));
        await ExecuteRawAsync(retypedSql);
        var retyped = await RecordTables.MigrateAsync(User.SpectorType);
        Assert.That(retyped.Change, Is.EqualTo(RecordTableChange.Rebuilt));
        Assert.That(retyped.Retyped, Is.EqualTo(new[] { "age" }));
        Assert.That(await SnapshotAsync("users"), Is.EqualTo(written));
        await users[0].UpdateAsync(new Attrs { ["age"] = 3 });
        await AssertTableMatchesReplayAsync(users.Select(u => u.Id));

        await ExecuteRawAsync("DROP TABLE \"users\"");
        Assert.That((await RecordTables.MigrateAsync(User.SpectorType)).Change, Is.EqualTo(RecordTableChange.Created));
    }

    [Test]
    public void An_embedded_type_has_no_table_to_rebuild() =>
        Assert.That(
            async () => await RecordTables.RebuildAsync(Note.SpectorType),
            Throws.InvalidOperationException.With.Message.Contains("embedded")
        );

    /// <summary>Reports on the reporting thread (Progress&lt;T&gt; would post them later).</summary>
    private sealed class SyncProgress<T>(Action<T> report) : IProgress<T>
    {
        public SyncProgress(List<T> reports)
            : this(reports.Add) { }

        public void Report(T value) => report(value);
    }
}
