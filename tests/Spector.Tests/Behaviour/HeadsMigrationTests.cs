using Dapper;

namespace Spector.Tests;

/// <summary>
/// Migrations take turns, change nothing already right, and bring tables written before the heads table to it:
/// heads rebuilt from the log in the migration's transaction.
/// </summary>
[TestFixture(Db.Sqlite)]
[TestFixture(Db.Postgres)]
public sealed class HeadsMigrationTests(Db db) : DatabaseTest(db)
{
    private const string RecordHeads =
        "SELECT \"record_id\", \"schema\", \"last_seq\", \"last_hash\", \"deleted\", \"savepoint_seq\" "
        + "FROM \"ledger_heads\" WHERE \"schema\" >= 0 ORDER BY \"record_id\"";

    [Test]
    public async Task A_head_left_stale_by_a_raw_append_is_a_typed_error_naming_table_and_record()
    {
        var user = await User.InsertAsync(new Attrs { ["name"] = "Ann", ["email"] = "a@x" });
        user = await user.UpdateAsync(new Attrs { ["age"] = 30 });
        var at = DateTimeOffset.UtcNow;
        var raw = new
        {
            id = Guid.CreateVersion7(),
            parent = user.Id,
            schema = User.SpectorType.SchemaIndex,
            action = EventActions.Update,
            payload = """{"__version__":0,"age":31}""",
            at = Database == Db.Postgres ? (object)at : at.ToUnixTimeMilliseconds() * 1000,
        };
        await ExecuteRawAsync(
            "INSERT INTO \"events\" (\"id\", \"parent_id\", \"seq\", \"schema\", \"action\", \"payload\", "
                + "\"inserted_at\") VALUES (@id, @parent, 3, @schema, @action, "
                + (Database == Db.Postgres ? "CAST(@payload AS jsonb)" : "@payload")
                + ", @at)",
            raw
        );

        var error = Assert.ThrowsAsync<StaleHeadException>(() => user.UpdateAsync(new Attrs { ["age"] = 40 }))!;

        Assert.That(error, Is.InstanceOf<SpectorException>());
        Assert.That(
            (error.Table, error.RecordId, error.HeadSeq, error.LogSeq),
            Is.EqualTo(("events", (Guid?)user.Id, 2L, 3L))
        );
        Assert.That(error.HeadsTable, Is.EqualTo("events_heads"));
        Assert.That(error.Message, Does.Contain("Rebuild the heads table"));
        Assert.That(await CountAsync("events"), Is.EqualTo(3), "nothing stored");
    }

    [Test]
    public async Task A_table_written_before_heads_existed_gets_its_heads_from_the_log_and_keeps_its_chain()
    {
        // Today's code path leaves exactly this: event rows (with savepoints and a delete) and no heads table.
        var wallet = await Wallet.InsertAsync(new Attrs { ["owner"] = "ann" });
        for (var i = 0; i < 12; i++)
            wallet = await wallet.DepositAsync(1m, $"d{i}");
        var gone = await LedgerAccount.InsertAsync(new Attrs { ["owner"] = "bob" });
        await gone.DeleteAsync();
        var account = await LedgerAccount.InsertAsync(new Attrs { ["owner"] = "cy" });
        await account.PostAsync(3m, "p");
        List<dynamic> Rows(IEnumerable<dynamic> rows) =>
            rows.Select(r =>
                    (dynamic)
                        string.Join(
                            "|",
                            ((IDictionary<string, object>)r).Values.Select(v =>
                                v is byte[] b ? Convert.ToHexString(b) : Convert.ToString(v)
                            )
                        )
                )
                .ToList();
        await using var connection = await OpenAsync();
        var expected = Rows(await connection.QueryAsync(RecordHeads));
        await connection.ExecuteAsync("DROP TABLE \"ledger_heads\"");

        await LedgerEvents.Log.MigrateUpAsync();

        Assert.That(
            Rows(await connection.QueryAsync(RecordHeads)),
            Is.EqualTo(expected),
            "every record's head rebuilt from its events"
        );
        Assert.That(expected, Has.Count.EqualTo(3));
        wallet = await wallet.DepositAsync(1m, "after");
        Assert.That(wallet.Balance, Is.EqualTo(13m));
        Assert.ThrowsAsync<RecordNotFoundException>(() => gone.UpdateAsync(new Attrs { ["note"] = "x" }));
        await LedgerAccount.InsertAsync(new Attrs { ["owner"] = "dee" });
        Assert.That(
            (await LedgerEvents.Log.VerifyHashChainAsync()).FirstBreak,
            Is.Null,
            "the chain head was rebuilt from the log too"
        );
        var seqs = (await Wallet.AllEventsAsync(wallet.Id)).Select(e => e.Seq).ToList();
        Assert.That(seqs, Is.EqualTo(Enumerable.Range(1, seqs.Count).Select(i => (long)i)));
    }

    [Test]
    public async Task Four_concurrent_migrations_beside_running_writers_succeed_and_change_nothing()
    {
        var counter = await Counter.InsertAsync(new Attrs { ["name"] = "hits" });
        var objectsBefore = await SpectorObjectsAsync();
        using var stop = new CancellationTokenSource();
        var writes = 0;
        var writers = Enumerable
            .Range(0, 4)
            .Select(_ =>
                Task.Run(async () =>
                {
                    while (!stop.IsCancellationRequested)
                    {
                        await new Counter { Id = counter.Id }.UpdateAsync(new Attrs { ["by"] = 1 });
                        Interlocked.Increment(ref writes);
                    }
                })
            )
            .ToList();

        for (var round = 0; round < 3; round++)
            await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => Task.Run(() => AppEvents.Log.MigrateUpAsync())));
        await stop.CancelAsync();
        await Task.WhenAll(writers);

        Assert.That(
            await SpectorObjectsAsync(),
            Is.EqualTo(objectsBefore),
            "no trigger, function or index was re-created"
        );
        Assert.That((await Counter.GetAsync(counter.Id))!.Value, Is.EqualTo(writes));
    }

    /// <summary>The database's own ids of the events table's triggers, functions and indexes: re-creating one changes
    /// its id.</summary>
    private async Task<List<string>> SpectorObjectsAsync()
    {
        await using var connection = await OpenAsync();
        var sql =
            Database == Db.Postgres
                ? "SELECT tgname || ':' || oid FROM pg_trigger WHERE tgrelid = 'events'::regclass AND NOT tgisinternal "
                    + "UNION ALL SELECT proname || ':' || oid FROM pg_proc WHERE proname LIKE 'events%' "
                    + "UNION ALL SELECT relname || ':' || oid FROM pg_class WHERE relname LIKE 'events%' ORDER BY 1"
                : "SELECT name || ':' || sql FROM sqlite_master WHERE tbl_name LIKE 'events%' ORDER BY 1";
        return (await connection.QueryAsync<string>(sql)).ToList();
    }
}
