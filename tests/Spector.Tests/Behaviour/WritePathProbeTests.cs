using System.Collections.Concurrent;
using System.Data;
using System.Data.Common;
using System.Globalization;
using Dapper;
using Microsoft.Data.Sqlite;

namespace Spector.Tests;

/// <summary>
/// Probes of the write path as an attacker would write them: caller transactions at snapshot isolation levels with
/// cancellation and idempotency keys, sharded logs under concurrency, and the docs' promises about keys, conflicts
/// and the heads table.
/// Every test ends by checking the log against what was acknowledged: gap-free seqs, heads, record rows, chains.
/// </summary>
[TestFixture(Db.Sqlite)]
[TestFixture(Db.Postgres)]
public sealed class WritePathProbeTests(Db db) : DatabaseTest(db)
{
    public enum Kind
    {
        TableChain,
        RecordChain,
        Unhashed,
        Sharded,
    }

    [TearDown]
    public void RestoreRouting() => ShardedEvents.Misroute = null;

    private static async Task<DbTransaction> BeginAsync(DbConnection connection, IsolationLevel level) =>
        connection is SqliteConnection sqlite
            ? sqlite.BeginTransaction(level, deferred: true)
            : await connection.BeginTransactionAsync(level);

    private static WriteOptions? Key(string? key) => key is null ? null : new WriteOptions { IdempotencyKey = key };

    // ---- the four kinds of table, behind one face -------------------------------------------------------------

    private static async Task<Guid> InsertAsync(Kind kind, string name) =>
        kind switch
        {
            Kind.TableChain => (await LedgerAccount.InsertAsync(new Attrs { ["owner"] = name })).Id,
            Kind.RecordChain => (await Receipt.InsertAsync(new Attrs { ["customer"] = name })).Id,
            Kind.Unhashed => (await Counter.InsertAsync(new Attrs { ["name"] = name })).Id,
            _ => (await ShardNote.InsertAsync(new Attrs { ["title"] = name, ["body"] = "b" })).Id,
        };

    /// <summary>One write that carries the op number, so the stored events say which ops landed.</summary>
    private static Task WriteAsync(
        Kind kind,
        SpectorSession session,
        Guid id,
        int op,
        string? key,
        CancellationToken token
    ) =>
        kind switch
        {
            Kind.TableChain => new LedgerAccount { Id = id }.PostAsync(session, op, $"op{op}", Key(key), token),
            Kind.RecordChain => new Receipt { Id = id }.RefundAsync(session, op, Key(key), token),
            Kind.Unhashed => new Counter { Id = id }.UpdateAsync(session, new Attrs { ["by"] = op }, Key(key), token),
            _ => new ShardNote { Id = id }.ReviseAsync(session, $"op{op}", Key(key), token),
        };

    private static async Task<List<StoredEvent>> EventsAsync(Kind kind, Guid id) =>
        kind switch
        {
            Kind.TableChain => [.. await LedgerAccount.AllEventsAsync(id)],
            Kind.RecordChain => [.. await Receipt.AllEventsAsync(id)],
            Kind.Unhashed => [.. await Counter.AllEventsAsync(id)],
            _ => [.. await ShardNote.AllEventsAsync(id)],
        };

    private static List<int> StoredOps(Kind kind, IEnumerable<StoredEvent> events) =>
        kind switch
        {
            Kind.TableChain => [.. events.Where(e => e.Action == "post").Select(e => (int)e.Get<decimal>("amount"))],
            Kind.RecordChain => [.. events.Where(e => e.Action == "refund").Select(e => (int)e.Get<decimal>("amount"))],
            Kind.Unhashed =>
            [
                .. events.Where(e => e.Action == "update" && e.TryGet<int>("by", out _)).Select(e => e.Get<int>("by")),
            ],
            _ => [.. events.Where(e => e.Action == "revise").Select(e => int.Parse(e.Get<string>("body")![2..]))],
        };

    /// <summary>The replayed state's measure and the record table's, as text.</summary>
    private async Task<(decimal Replayed, decimal Row)> MeasureAsync(Kind kind, Guid id)
    {
        var (replayed, table, column) = kind switch
        {
            Kind.TableChain => ((await LedgerAccount.GetAsync(id))!.Balance, "ledger_accounts", "balance"),
            Kind.RecordChain => ((await Receipt.GetAsync(id))!.Refunded, "receipt_rows", "refunded"),
            Kind.Unhashed => ((decimal)(await Counter.GetAsync(id))!.Value, "counters", "value"),
            _ => ((decimal)(await ShardNote.GetAsync(id))!.Revisions, "sharded_notes", "revisions"),
        };
        await using var connection = await OpenAsync();
        var text = await connection.QuerySingleAsync<string>(
            $"SELECT CAST(\"{column}\" AS TEXT) FROM \"{table}\" WHERE \"id\" = @id",
            new { id }
        );
        return (replayed, decimal.Parse(text, CultureInfo.InvariantCulture));
    }

    private static string EventsTable(Kind kind, Guid id) =>
        kind switch
        {
            Kind.TableChain => "ledger",
            Kind.RecordChain => "receipts",
            Kind.Unhashed => "events",
            _ => ShardedEvents.Log.ShardFor(id).Table,
        };

    private async Task AssertChainsAsync(Kind kind, IEnumerable<Guid> ids)
    {
        switch (kind)
        {
            case Kind.TableChain:
                var table = await LedgerEvents.Log.VerifyHashChainAsync();
                Assert.That(table.FirstBreak, Is.Null, () => table.FirstBreak!.Message);
                break;
            case Kind.RecordChain:
                var all = await ReceiptEvents.Log.VerifyHashChainAsync();
                Assert.That(all.FirstBreak, Is.Null, () => all.FirstBreak!.Message);
                foreach (var id in ids)
                {
                    var one = await ReceiptEvents.Log.VerifyRecordChainAsync(id);
                    Assert.That(one.FirstBreak, Is.Null, () => one.FirstBreak!.Message);
                }
                break;
            case Kind.Sharded:
                var shards = await ShardedEvents.Log.VerifyShardChainsAsync();
                foreach (var chain in shards.Chains)
                    Assert.That(chain.FirstBreak, Is.Null, () => $"{chain.Table}: {chain.FirstBreak!.Message}");
                break;
        }
    }

    /// <summary>
    /// Everything the log, heads table and record table say about a record agrees, and its ops are exactly the
    /// acknowledged ones (each once), and none of the forbidden ones.
    /// </summary>
    private async Task AssertRecordAsync(Kind kind, Guid id, IReadOnlyCollection<int> acknowledged, ISet<int> absent)
    {
        var events = await EventsAsync(kind, id);
        Assert.That(events.Select(e => e.Seq), Is.EqualTo(Enumerable.Range(1, events.Count).Select(i => (long)i)));
        var ops = StoredOps(kind, events);
        Assert.That(ops, Is.Unique, "no op stored twice");
        Assert.That(ops, Is.EquivalentTo(acknowledged), "stored ops are exactly the acknowledged ones");
        Assert.That(ops.Where(absent.Contains), Is.Empty, "an op reported as failed was stored");
        await using (var connection = await OpenAsync())
        {
            var head = await connection.QuerySingleAsync<long>(
                $"SELECT \"last_seq\" FROM \"{EventsTable(kind, id)}_heads\" WHERE \"record_id\" = @id",
                new { id }
            );
            Assert.That(head, Is.EqualTo(events.Count), "the head is the last event");
        }
        if (kind == Kind.RecordChain)
            Assert.That((await Receipt.VerifySavepointsAsync(id)).IsValid, Is.True, "savepoints verify");
        if (kind == Kind.Sharded)
            Assert.That((await ShardNote.VerifySavepointsAsync(id)).IsValid, Is.True, "savepoints verify");
        var (replayed, row) = await MeasureAsync(kind, id);
        var expected = kind == Kind.Sharded ? acknowledged.Count : acknowledged.Sum();
        Assert.That((replayed, row), Is.EqualTo(((decimal)expected, (decimal)expected)));
    }

    private static bool IsSerializationFailure(Exception e) =>
        e is SerializationFailureException
        || e is Npgsql.PostgresException { SqlState: "40001" or "40P01" }
        || e.InnerException is Npgsql.PostgresException { SqlState: "40001" or "40P01" };

    // ---- 1. caller transactions, snapshot levels, cancellation, keys ------------------------------------------

    private sealed class Ledger
    {
        public readonly ConcurrentDictionary<Guid, ConcurrentBag<int>> Acknowledged = new();
        public readonly ConcurrentDictionary<int, byte> Absent = new();
        public int Cancelled;
        public int CancelledThenContinued;
        public int Refused;
        public int Retries;
        public int KeyedReplays;
        public int Committed;
    }

    private sealed record Op(Guid Record, int Number, string? Key);

    /// <summary>
    /// Four workers run caller transactions of one to three writes on three shared records. Tokens cancel at
    /// random points; after a cancellation the worker either rolls back or goes on with the same transaction and
    /// commits. Refused transactions (serialization failures) are rolled back. Every op not acknowledged is retried
    /// (keyed ops with the same key and payload) until it lands; acknowledged keyed ops are sometimes sent again.
    /// An unkeyed op that was cancelled inside a transaction that then committed must not be stored.
    /// </summary>
    [Test]
    public async Task Caller_transactions_with_random_cancellation_and_keys_store_exactly_the_acknowledged_writes(
        [Values] Kind kind,
        [Values(IsolationLevel.ReadCommitted, IsolationLevel.RepeatableRead, IsolationLevel.Serializable)]
            IsolationLevel level,
        [Values(false, true)] bool slow
    )
    {
        if (slow)
            await InstallSlowTriggerAsync(kind);
        var ids = new List<Guid>();
        for (var i = 0; i < 3; i++)
            ids.Add(await InsertAsync(kind, $"r{i}"));
        var ledger = new Ledger();
        foreach (var id in ids)
            ledger.Acknowledged[id] = [];
        var next = 0;
        var clock = System.Diagnostics.Stopwatch.StartNew();

        async Task WorkerAsync(int worker)
        {
            var random = new Random(1000 * (int)kind + 10 * (int)level + worker);
            for (var round = 0; round < 14 && clock.Elapsed < TimeSpan.FromSeconds(20); round++)
            {
                var ops = Enumerable
                    .Range(0, random.Next(1, 4))
                    .Select(_ =>
                    {
                        var number = Interlocked.Increment(ref next);
                        return new Op(ids[random.Next(ids.Count)], number, random.Next(3) > 0 ? $"k{number}" : null);
                    })
                    .ToList();
                var retry = await RunTransactionAsync(ops, random, level, kind, ledger, slow ? 25 : 4);
                foreach (var op in retry)
                    await RetryUntilStoredAsync(op, level, kind, ledger);
            }
        }

        await Task.WhenAll(Enumerable.Range(0, 4).Select(w => Task.Run(() => WorkerAsync(w))));

        Assert.That(await NoTransactionLeftOpenAsync(), Is.True);
        foreach (var id in ids)
            await AssertRecordAsync(kind, id, [.. ledger.Acknowledged[id]], ledger.Absent.Keys.ToHashSet());
        await AssertChainsAsync(kind, ids);
        TestContext.Out.WriteLine(
            $"{kind} {level} slow={slow}: ops {next}, committed tx {ledger.Committed}, cancelled {ledger.Cancelled} "
                + $"(continued {ledger.CancelledThenContinued}), refused {ledger.Refused}, retries {ledger.Retries}, "
                + $"keyed replays {ledger.KeyedReplays}, acknowledged {ledger.Acknowledged.Values.Sum(b => b.Count)}"
        );
    }

    /// <summary>Runs the ops in one caller transaction; returns those that must be retried.</summary>
    private async Task<List<Op>> RunTransactionAsync(
        List<Op> ops,
        Random random,
        IsolationLevel level,
        Kind kind,
        Ledger ledger,
        int cancelWithinMs
    )
    {
        var done = new List<Op>();
        var abandoned = new List<Op>();
        await using var connection = await OpenAsync();
        await using var tx = await BeginAsync(connection, level);
        var session = new SpectorSession(connection, tx);
        var rollback = false;
        try
        {
            if (random.Next(2) == 0)
                await ReadAsync(kind, session, ops[0].Record);
            for (var i = 0; i < ops.Count; i++)
            {
                var op = ops[i];
                using var cancel = new CancellationTokenSource();
                var mode = random.Next(6);
                if (mode == 0)
                    cancel.Cancel();
                else if (mode == 1)
                    cancel.CancelAfter(random.Next(0, cancelWithinMs));
                try
                {
                    await WriteAsync(kind, session, op.Record, op.Number, op.Key, cancel.Token);
                    done.Add(op);
                }
                catch (OperationCanceledException)
                {
                    Interlocked.Increment(ref ledger.Cancelled);
                    if (random.Next(2) == 0)
                    {
                        rollback = true;
                        break;
                    }
                    // Go on with the same transaction: the cancelled write must have undone itself.
                    Interlocked.Increment(ref ledger.CancelledThenContinued);
                    abandoned.Add(op);
                }
            }
        }
        catch (Exception e) when (IsSerializationFailure(e))
        {
            Interlocked.Increment(ref ledger.Refused);
            rollback = true;
        }
        if (!rollback)
        {
            try
            {
                await tx.CommitAsync();
                Interlocked.Increment(ref ledger.Committed);
                foreach (var op in done)
                    ledger.Acknowledged[op.Record].Add(op.Number);
                // The cancelled ops of a committed transaction: unkeyed ones must be absent (their number is
                // retired, a new op takes their place); keyed ones are retried with the same key and payload.
                foreach (var op in abandoned.Where(o => o.Key is null))
                    ledger.Absent[op.Number] = 0;
                var retry = ops.Except(done).Where(o => o.Key is not null || !abandoned.Contains(o)).ToList();
                foreach (var op in done.Where(o => o.Key is not null && random.Next(3) == 0))
                    await ReplayKeyedAsync(op, kind, ledger);
                return retry;
            }
            catch (Exception e) when (IsSerializationFailure(e))
            {
                Interlocked.Increment(ref ledger.Refused);
            }
        }
        else
        {
            await tx.RollbackAsync();
        }
        // Nothing of this transaction stands: unkeyed cancelled ops stay absent, every other op is retried.
        foreach (var op in abandoned.Where(o => o.Key is null))
            ledger.Absent[op.Number] = 0;
        return [.. ops.Where(o => o.Key is not null || !abandoned.Contains(o))];
    }

    private static Task ReadAsync(Kind kind, SpectorSession session, Guid id) =>
        kind switch
        {
            Kind.TableChain => LedgerAccount.GetAsync(session, id),
            Kind.RecordChain => Receipt.GetAsync(session, id),
            Kind.Unhashed => Counter.GetAsync(session, id),
            _ => ShardNote.GetAsync(session, id),
        };

    private async Task RetryUntilStoredAsync(Op op, IsolationLevel level, Kind kind, Ledger ledger)
    {
        for (var attempt = 0; ; attempt++)
        {
            Assert.That(attempt, Is.LessThan(300), "a retry never landed");
            Interlocked.Increment(ref ledger.Retries);
            await using var connection = await OpenAsync();
            await using var tx = await BeginAsync(connection, level);
            var committing = false;
            try
            {
                await WriteAsync(kind, new SpectorSession(connection, tx), op.Record, op.Number, op.Key, default);
                committing = true;
                await tx.CommitAsync();
                ledger.Acknowledged[op.Record].Add(op.Number);
                return;
            }
            catch (Exception e) when (IsSerializationFailure(e))
            {
                if (!committing)
                    await tx.RollbackAsync();
                await Task.Delay(Random.Shared.Next(1, 5));
            }
        }
    }

    /// <summary>The same keyed write again, in Spector's own transaction: returns the first result, appends
    /// nothing.</summary>
    private async Task ReplayKeyedAsync(Op op, Kind kind, Ledger ledger)
    {
        var store = ShardedEvents.Log.Store;
        await WriteAsync(kind, store.Session, op.Record, op.Number, op.Key, default);
        Interlocked.Increment(ref ledger.KeyedReplays);
    }

    // ---- 2. sharded logs ---------------------------------------------------------------------------------------

    private static string Home(Guid id) =>
        Convert.ToInt32(id.ToString("N")[^1..], 16) % 2 == 0 ? "notes_even" : "notes_odd";

    /// <summary>
    /// storage.md: a retried insert with the same key returns the first record and appends nothing. On a sharded log
    /// the retry's new id may route to the other shard, whose key index has never seen the key.
    /// </summary>
    [Test]
    public async Task A_retried_keyed_insert_on_a_sharded_log_returns_the_first_record_and_appends_nothing()
    {
        var duplicates = 0;
        for (var i = 0; i < 20; i++)
        {
            var first = await ShardNote.InsertAsync(
                new Attrs { ["title"] = $"t{i}", ["body"] = "b" },
                Key($"signup-{i}")
            );
            var retry = await ShardNote.InsertAsync(
                new Attrs { ["title"] = $"t{i}", ["body"] = "b" },
                Key($"signup-{i}")
            );
            if (retry.Id != first.Id)
                duplicates++;
        }
        var stored = await CountAsync("notes_even") + await CountAsync("notes_odd");
        TestContext.Out.WriteLine($"retries that made a second record: {duplicates}; events stored: {stored}");
        Assert.That((duplicates, stored), Is.EqualTo((0, 20L)), "each keyed insert stored once");
        Assert.That(await CountAsync("sharded_notes"), Is.EqualTo(20));
    }

    /// <summary>
    /// The same key with another payload is a reuse (IdempotencyKeyReusedException, nothing stored). On a sharded
    /// log the second insert's new id may route to the shard that never saw the key.
    /// </summary>
    [Test]
    public async Task A_keyed_insert_with_another_payload_on_a_sharded_log_is_refused_as_a_reuse()
    {
        var accepted = 0;
        for (var i = 0; i < 20; i++)
        {
            await ShardNote.InsertAsync(new Attrs { ["title"] = $"t{i}", ["body"] = "b" }, Key($"order-{i}"));
            try
            {
                await ShardNote.InsertAsync(new Attrs { ["title"] = $"other {i}", ["body"] = "b" }, Key($"order-{i}"));
                accepted++;
            }
            catch (IdempotencyKeyReusedException) { }
        }
        var stored = await CountAsync("notes_even") + await CountAsync("notes_odd");
        TestContext.Out.WriteLine($"reuses accepted as new records: {accepted}; events stored: {stored}");
        Assert.That((accepted, stored), Is.EqualTo((0, 20L)), "a key's second payload is refused");
    }

    /// <summary>Concurrent keyed inserts with one key, same payload: exactly one record, every caller gets
    /// it.</summary>
    [Test]
    public async Task Concurrent_keyed_inserts_with_one_key_make_one_record_on_sharded_and_plain_logs(
        [Values(false, true)] bool sharded
    )
    {
        var extra = 0;
        for (var i = 0; i < 25; i++)
        {
            var results = await Task.WhenAll(
                Enumerable
                    .Range(0, 4)
                    .Select(_ =>
                        Task.Run(async () =>
                            sharded
                                ? (
                                    await ShardNote.InsertAsync(
                                        new Attrs { ["title"] = $"t{i}", ["body"] = "b" },
                                        Key($"k{i}")
                                    )
                                ).Id
                                : (
                                    await User.InsertAsync(
                                        new Attrs { ["name"] = $"u{i}", ["email"] = "e@x" },
                                        Key($"k{i}")
                                    )
                                ).Id
                        )
                    )
            );
            extra += results.Distinct().Count() - 1;
        }
        var stored = sharded
            ? await CountAsync("notes_even") + await CountAsync("notes_odd")
            : await CountAsync("events");
        TestContext.Out.WriteLine($"distinct extra ids returned: {extra}; events stored: {stored}");
        Assert.That((extra, stored), Is.EqualTo((0, 25L)));
    }

    /// <summary>
    /// Writers on records of both shards with ExpectedSeq: each seq is won by exactly one writer, the losers get
    /// ConcurrencyConflictException and store nothing; keyed retries of winners append nothing; each shard verifies.
    /// </summary>
    [Test]
    public async Task Sharded_writers_with_expected_seq_and_keys_lose_nothing_and_each_shard_verifies()
    {
        var notes = new List<Guid>();
        while (notes.Select(Home).Distinct().Count() < 2 || notes.Count < 4)
            notes.Add((await ShardNote.InsertAsync(new Attrs { ["title"] = "n", ["body"] = "b" })).Id);
        var won = new ConcurrentDictionary<Guid, int>();
        var conflicts = 0;
        var replays = 0;
        var next = 0;
        await Task.WhenAll(
            Enumerable
                .Range(0, 8)
                .Select(w =>
                    Task.Run(async () =>
                    {
                        var random = new Random(w);
                        for (var i = 0; i < 25; i++)
                        {
                            var id = notes[random.Next(notes.Count)];
                            var seen = await ShardNote.GetVersionedAsync(id);
                            var op = Interlocked.Increment(ref next);
                            var options = new WriteOptions { ExpectedSeq = seen!.Seq, IdempotencyKey = $"x{op}" };
                            try
                            {
                                await new ShardNote { Id = id }.ReviseAsync($"op{op}", options);
                                won.AddOrUpdate(id, 1, (_, n) => n + 1);
                                // The same keyed write again: answered from the first, even though ExpectedSeq
                                // is stale now.
                                var again = await new ShardNote { Id = id }.ReviseAsync($"op{op}", options);
                                Assert.That(again.Body, Is.EqualTo($"op{op}"));
                                Interlocked.Increment(ref replays);
                            }
                            catch (ConcurrencyConflictException)
                            {
                                Interlocked.Increment(ref conflicts);
                            }
                        }
                    })
                )
        );
        foreach (var id in notes)
        {
            var events = await ShardNote.AllEventsAsync(id);
            Assert.That(events.Select(e => e.Seq), Is.EqualTo(Enumerable.Range(1, events.Count).Select(i => (long)i)));
            Assert.That(events.Count(e => e.Action == "revise"), Is.EqualTo(won.GetValueOrDefault(id)));
            Assert.That((await ShardNote.GetAsync(id))!.Revisions, Is.EqualTo(won.GetValueOrDefault(id)));
            Assert.That(await CountAsync(Home(id), "\"parent_id\" = @id", new { id }), Is.EqualTo(events.Count));
        }
        var shards = await ShardedEvents.Log.VerifyShardChainsAsync();
        Assert.That(shards.IsValid, Is.True);
        TestContext.Out.WriteLine($"won {won.Values.Sum()}, conflicts {conflicts}, keyed replays {replays}");
    }

    /// <summary>A user's unique index on the record table's column that each kind's insert names.</summary>
    private async Task UniqueNameIndexAsync(Kind kind)
    {
        var table = RecordTable(kind);
        var column = kind switch
        {
            Kind.TableChain => "owner",
            Kind.RecordChain => "customer",
            Kind.Unhashed => "name",
            _ => "title",
        };
        await ExecuteRawAsync($"CREATE UNIQUE INDEX \"{table}_s7_unique\" ON \"{table}\" (\"{column}\")");
    }

    private static string RecordTable(Kind kind) =>
        kind switch
        {
            Kind.TableChain => "ledger_accounts",
            Kind.RecordChain => "receipt_rows",
            Kind.Unhashed => "counters",
            _ => "sharded_notes",
        };

    /// <summary>A trigger that makes every write of the record table take a few milliseconds, so tokens cancel
    /// writes while their statements run.</summary>
    private async Task InstallSlowTriggerAsync(Kind kind)
    {
        var table = RecordTable(kind);
        if (Database == Db.Postgres)
        {
            await ExecuteRawAsync(
                "CREATE OR REPLACE FUNCTION \"s7_slow\"() RETURNS trigger LANGUAGE plpgsql AS "
                    + "$$ BEGIN PERFORM pg_sleep(0.002 + random() * 0.01); RETURN NEW; END $$"
            );
            await ExecuteRawAsync(
                $"CREATE TRIGGER \"{table}_s7_slow\" BEFORE INSERT OR UPDATE ON \"{table}\" "
                    + "FOR EACH ROW EXECUTE FUNCTION \"s7_slow\"()"
            );
        }
        else
        {
            foreach (var when in new[] { "INSERT", "UPDATE" })
                await ExecuteRawAsync(
                    $"CREATE TRIGGER \"{table}_s7_slow_{when}\" BEFORE {when} ON \"{table}\" "
                        + "WHEN length(hex(randomblob(2000000))) < 0 BEGIN SELECT 1; END"
                );
        }
    }

    // ---- 3. keys, conflicts and the heads table ---------------------------------------------------------------

    /// <summary>
    /// Two writers race one key on two different records (own transactions). Exactly one event holds the key; the
    /// other writer gets IdempotencyKeyReusedException, never the twin's result as if it were its own write.
    /// </summary>
    [Test]
    public async Task One_key_raced_on_two_records_stores_one_event_and_refuses_the_other_by_type()
    {
        var a = await Counter.InsertAsync(new Attrs { ["name"] = "a" });
        var b = await Counter.InsertAsync(new Attrs { ["name"] = "b" });
        var (aWins, bWins, silent) = (0, 0, 0);
        for (var i = 0; i < 40; i++)
        {
            var key = $"race-{i}";
            async Task<Counter?> WriteAsync(Guid id)
            {
                try
                {
                    return await new Counter { Id = id }.UpdateAsync(new Attrs { ["by"] = 1 }, Key(key));
                }
                catch (IdempotencyKeyReusedException)
                {
                    return null;
                }
            }
            var results = await Task.WhenAll(Task.Run(() => WriteAsync(a.Id)), Task.Run(() => WriteAsync(b.Id)));
            Assert.That(
                await CountAsync("events", "\"idempotency_key\" = @key", new { key }),
                Is.EqualTo(1),
                "one event holds the key"
            );
            if (results[0] is not null && results[1] is not null)
                silent++;
            if (results[0] is { } ra)
                Assert.That(ra.Id, Is.EqualTo(a.Id), "a write returned another record");
            if (results[1] is { } rb)
                Assert.That(rb.Id, Is.EqualTo(b.Id), "a write returned another record");
            aWins += results[0] is null ? 0 : 1;
            bWins += results[1] is null ? 0 : 1;
        }
        var va = await Counter.GetVersionedAsync(a.Id);
        var vb = await Counter.GetVersionedAsync(b.Id);
        TestContext.Out.WriteLine(
            $"a {aWins}, b {bWins}, both returned {silent}; a {va!.Record.Value}, b {vb!.Record.Value}"
        );
        Assert.That(silent, Is.Zero, "both writers were told their write stood");
        Assert.That((va.Record.Value, vb.Record.Value), Is.EqualTo((aWins, bWins)));
        Assert.That((va.Seq, vb.Seq), Is.EqualTo((1L + aWins, 1L + bWins)));
    }

    /// <summary>
    /// Concurrent keyed inserts with one key but different payloads: one record is made; each other writer is
    /// refused with IdempotencyKeyReusedException, none is handed the first writer's record.
    /// </summary>
    [Test]
    public async Task Concurrent_keyed_inserts_with_one_key_and_different_payloads_refuse_all_but_one()
    {
        var returned = 0;
        var refused = 0;
        for (var i = 0; i < 25; i++)
        {
            var results = await Task.WhenAll(
                Enumerable
                    .Range(0, 3)
                    .Select(w =>
                        Task.Run(async () =>
                        {
                            try
                            {
                                var user = await User.InsertAsync(
                                    new Attrs { ["name"] = $"u{i}-{w}", ["email"] = "e@x" },
                                    Key($"k{i}")
                                );
                                Assert.That(user.Name, Is.EqualTo($"u{i}-{w}"), "handed another writer's record");
                                return 1;
                            }
                            catch (IdempotencyKeyReusedException)
                            {
                                return 0;
                            }
                        })
                    )
            );
            Assert.That(results.Sum(), Is.EqualTo(1));
            returned += results.Sum();
            refused += results.Length - results.Sum();
        }
        Assert.That(await CountAsync("events"), Is.EqualTo(25));
        Assert.That(await CountAsync("users"), Is.EqualTo(25));
        TestContext.Out.WriteLine($"returned {returned}, refused {refused}");
    }

    /// <summary>
    /// Transaction A writes record X under key K and stays open; transaction B writes record Y under K. After A
    /// commits, B is refused (key reused, or a serialization failure above READ COMMITTED), never returns A's result
    /// as its own, and K is held by A's event only.
    /// </summary>
    [Test]
    public async Task A_key_held_by_an_open_transaction_on_another_record_refuses_the_second_writer(
        [Values(IsolationLevel.ReadCommitted, IsolationLevel.RepeatableRead, IsolationLevel.Serializable)]
            IsolationLevel level,
        [Values] Kind kind
    )
    {
        var x = await InsertAsync(kind, "x");
        var y = await InsertAsync(kind, "y");
        if (kind == Kind.Sharded)
            while (Home(y) != Home(x))
                y = await InsertAsync(kind, "y");
        await using var connectionA = await OpenAsync();
        await using var connectionB = await OpenAsync();
        await using var txA = await BeginAsync(connectionA, level);
        await using var txB = await BeginAsync(connectionB, level);
        await WriteAsync(kind, new SpectorSession(connectionA, txA), x, 1, "K", default);
        var late = Task.Run(async () =>
        {
            try
            {
                await WriteAsync(kind, new SpectorSession(connectionB, txB), y, 2, "K", default);
                await txB.CommitAsync();
                return "committed";
            }
            catch (IdempotencyKeyReusedException)
            {
                await txB.RollbackAsync();
                return "reused";
            }
            catch (Exception e) when (IsSerializationFailure(e))
            {
                await txB.RollbackAsync();
                return "serialization";
            }
        });
        await Task.Delay(300);
        await txA.CommitAsync();
        var outcome = await late;
        TestContext.Out.WriteLine($"{kind} {level}: B {outcome}");
        Assert.That(outcome, Is.Not.EqualTo("committed"), "B was told its keyed write stood");
        await AssertRecordAsync(kind, x, [1], new HashSet<int>());
        await AssertRecordAsync(kind, y, [], new HashSet<int> { 2 });
        await AssertChainsAsync(kind, [x, y]);
    }

    private static Attrs Renamed(Kind kind, string name) =>
        new()
        {
            [
                kind switch
                {
                    Kind.TableChain => "owner",
                    Kind.RecordChain => "customer",
                    Kind.Unhashed => "name",
                    _ => "title",
                }
            ] = name,
        };

    private static Task UpdateAsync(Kind kind, SpectorSession s, Guid id, Attrs attrs, string? key) =>
        kind switch
        {
            Kind.TableChain => new LedgerAccount { Id = id }.UpdateAsync(s, attrs, Key(key)),
            Kind.RecordChain => new Receipt { Id = id }.UpdateAsync(s, attrs, Key(key)),
            Kind.Unhashed => new Counter { Id = id }.UpdateAsync(s, attrs, Key(key)),
            _ => new ShardNote { Id = id }.UpdateAsync(s, attrs, Key(key)),
        };

    /// <summary>
    /// A user's unique index refuses a keyed write inside a caller transaction at each level: the error is the
    /// database's own, nothing of the write stands (event, head, chain head, key), the transaction goes on, the key
    /// is free for the corrected write, and the refused payload under that key is then a reuse.
    /// </summary>
    [Test]
    public async Task A_users_unique_index_refusing_a_keyed_write_in_a_caller_transaction_leaves_no_trace(
        [Values(IsolationLevel.ReadCommitted, IsolationLevel.RepeatableRead, IsolationLevel.Serializable)]
            IsolationLevel level,
        [Values] Kind kind
    )
    {
        await UniqueNameIndexAsync(kind);
        var a = await InsertAsync(kind, "taken");
        var b = await InsertAsync(kind, "free");
        await using (var connection = await OpenAsync())
        await using (var tx = await BeginAsync(connection, level))
        {
            var session = new SpectorSession(connection, tx);
            await WriteAsync(kind, session, b, 1, "before", default);
            var error = Assert.CatchAsync<DbException>(() =>
                UpdateAsync(kind, session, b, Renamed(kind, "taken"), "u1")
            )!;
            Assert.That(
                error is Npgsql.PostgresException { SqlState: "23505" } or SqliteException { SqliteErrorCode: 19 },
                Is.True,
                error.ToString()
            );
            // The key was not consumed: the corrected write under it appends.
            await UpdateAsync(kind, session, b, Renamed(kind, "renamed"), "u1");
            await WriteAsync(kind, session, b, 2, "after", default);
            // The refused payload under the now-used key is a reuse, not a silent success.
            Assert.ThrowsAsync<IdempotencyKeyReusedException>(() =>
                UpdateAsync(kind, session, b, Renamed(kind, "taken"), "u1")
            );
            await WriteAsync(kind, session, a, 3, null, default);
            await tx.CommitAsync();
        }
        await AssertRecordAsync(kind, b, [1, 2], new HashSet<int>());
        await AssertRecordAsync(kind, a, [3], new HashSet<int>());
        var table2 = EventsTable(kind, b);
        Assert.That(await CountAsync(table2, "\"idempotency_key\" = 'u1'"), Is.EqualTo(1));
        await AssertChainsAsync(kind, [a, b]);
    }

    private static Task<Guid> InsertAsync(Kind kind, SpectorSession s, string name, string? key, CancellationToken t) =>
        kind switch
        {
            Kind.TableChain => Id(LedgerAccount.InsertAsync(s, new Attrs { ["owner"] = name }, Key(key), t)),
            Kind.RecordChain => Id(Receipt.InsertAsync(s, new Attrs { ["customer"] = name }, Key(key), t)),
            Kind.Unhashed => Id(Counter.InsertAsync(s, new Attrs { ["name"] = name }, Key(key), t)),
            _ => Id(ShardNote.InsertAsync(s, new Attrs { ["title"] = name, ["body"] = "b" }, Key(key), t)),
        };

    private static async Task<Guid> Id<T>(Task<T> write)
        where T : class => (Guid)typeof(T).GetProperty("Id")!.GetValue(await write)!;

    /// <summary>Events stored under <paramref name="key"/>, in every shard of a sharded log.</summary>
    private async Task<long> KeyCountAsync(Kind kind, string key)
    {
        string[] tables = kind == Kind.Sharded ? ["notes_even", "notes_odd"] : [EventsTable(kind, Guid.Empty)];
        long count = 0;
        foreach (var table in tables)
            count += await CountAsync(table, "\"idempotency_key\" = @key", new { key });
        return count;
    }

    private async Task<long> EventCountAsync(Kind kind) =>
        kind switch
        {
            Kind.TableChain => await CountAsync("ledger"),
            Kind.RecordChain => await CountAsync("receipts"),
            Kind.Unhashed => await CountAsync("events"),
            _ => await CountAsync("notes_even") + await CountAsync("notes_odd"),
        };

    /// <summary>
    /// The very first chained write of a fresh store happens inside a caller transaction that is rolled back (or is
    /// cancelled, then rolled back). Whatever the store remembers about the chain must not outlive the rollback:
    /// later writes, in and out of caller transactions, chain and verify.
    /// </summary>
    [Test]
    public async Task The_first_chained_write_rolled_back_in_a_caller_transaction_leaves_later_writes_chained(
        [Values(IsolationLevel.ReadCommitted, IsolationLevel.RepeatableRead, IsolationLevel.Serializable)]
            IsolationLevel level,
        [Values(Kind.TableChain, Kind.RecordChain, Kind.Sharded)] Kind kind,
        [Values(false, true)] bool cancelled
    )
    {
        var ids = new List<Guid>();
        await using (var connection = await OpenAsync())
        await using (var tx = await BeginAsync(connection, level))
        {
            var session = new SpectorSession(connection, tx);
            var first = await InsertAsync(kind, session, "gone", "first", default);
            await WriteAsync(kind, session, first, 1, "w1", default);
            if (cancelled)
            {
                using var cancel = new CancellationTokenSource();
                cancel.Cancel();
                Assert.CatchAsync<OperationCanceledException>(() =>
                    WriteAsync(kind, session, first, 2, "w2", cancel.Token)
                );
            }
            await tx.RollbackAsync();
        }
        Assert.That(await EventCountAsync(kind), Is.Zero);
        // The same keys again, own transactions and caller transactions alternating.
        for (var i = 0; i < 6; i++)
        {
            await using var connection = await OpenAsync();
            await using var tx = await BeginAsync(connection, level);
            var session = i % 2 == 0 ? new SpectorSession(connection, tx) : ShardedEvents.Log.Store.Session;
            var id = await InsertAsync(kind, session, $"n{i}", i == 0 ? "first" : null, default);
            await WriteAsync(kind, session, id, 10 + i, i == 0 ? "w1" : null, default);
            await tx.CommitAsync();
            ids.Add(id);
        }
        Assert.That(await EventCountAsync(kind), Is.EqualTo(12));
        for (var i = 0; i < ids.Count; i++)
            await AssertRecordAsync(kind, ids[i], [10 + i], new HashSet<int>());
        await AssertChainsAsync(kind, ids);
    }

    /// <summary>
    /// Keyed inserts inside caller transactions: cancelled, rolled back or refused, then retried with the same key
    /// until one commits. Each key ends as exactly one record, also on a sharded log, where each attempt's new id
    /// may route it to another shard than the last.
    /// </summary>
    [Test]
    public async Task Keyed_inserts_in_caller_transactions_cancelled_or_refused_then_retried_make_one_record_each(
        [Values(IsolationLevel.ReadCommitted, IsolationLevel.RepeatableRead, IsolationLevel.Serializable)]
            IsolationLevel level,
        [Values] Kind kind
    )
    {
        var made = new ConcurrentDictionary<string, Guid>();
        var (cancels, refusals, mismatches) = (0, 0, 0);
        await Task.WhenAll(
            Enumerable
                .Range(0, 4)
                .Select(w =>
                    Task.Run(async () =>
                    {
                        var random = new Random(w + 77);
                        for (var i = 0; i < 15; i++)
                        {
                            var key = $"ins-{w}-{i}";
                            for (var attempt = 0; ; attempt++)
                            {
                                Assert.That(attempt, Is.LessThan(300));
                                await using var connection = await OpenAsync();
                                await using var tx = await BeginAsync(connection, level);
                                var session = new SpectorSession(connection, tx);
                                using var cancel = new CancellationTokenSource();
                                if (attempt < 2 && random.Next(3) == 0)
                                    cancel.CancelAfter(random.Next(0, 3));
                                var committing = false;
                                try
                                {
                                    if (random.Next(2) == 0)
                                        await InsertAsync(kind, session, "noise", null, default);
                                    var id = await InsertAsync(kind, session, key, key, cancel.Token);
                                    if (attempt < 2 && random.Next(4) == 0)
                                    {
                                        await tx.RollbackAsync();
                                        continue;
                                    }
                                    committing = true;
                                    await tx.CommitAsync();
                                    // A second send after the commit returns the same record.
                                    var again = await InsertAsync(
                                        kind,
                                        ShardedEvents.Log.Store.Session,
                                        key,
                                        key,
                                        default
                                    );
                                    if (again != id)
                                        Interlocked.Increment(ref mismatches);
                                    made[key] = id;
                                    break;
                                }
                                catch (OperationCanceledException)
                                {
                                    Interlocked.Increment(ref cancels);
                                    await tx.RollbackAsync();
                                }
                                catch (Exception e) when (IsSerializationFailure(e))
                                {
                                    Interlocked.Increment(ref refusals);
                                    if (!committing)
                                        await tx.RollbackAsync();
                                }
                            }
                        }
                    })
                )
        );
        TestContext.Out.WriteLine($"{kind} {level}: cancels {cancels}, refusals {refusals}, mismatches {mismatches}");
        Assert.That(mismatches, Is.Zero, "a keyed insert sent again returned another record");
        foreach (var (key, id) in made)
        {
            Assert.That(await KeyCountAsync(kind, key), Is.EqualTo(1), key);
            await AssertRecordAsync(kind, id, [], new HashSet<int>());
        }
        Assert.That(made.Count, Is.EqualTo(60));
        await AssertChainsAsync(kind, made.Values);
    }

    /// <summary>
    /// Two caller transactions insert with one key and the same payload; A commits while B waits. At READ COMMITTED
    /// (and on SQLite, whose B read nothing) B returns A's record; above it B is refused with a serialization
    /// failure. Either way B never returns a record that is not stored. On the sharded log B's new id is routed
    /// to the other shard than A's record, where the key is not stored.
    /// </summary>
    [Test]
    public async Task A_keyed_insert_twin_in_an_open_transaction_is_answered_or_refused_never_invented(
        [Values(IsolationLevel.ReadCommitted, IsolationLevel.RepeatableRead, IsolationLevel.Serializable)]
            IsolationLevel level,
        [Values] Kind kind,
        [Values(false, true)] bool readFirst
    )
    {
        await InsertAsync(kind, "other");
        await using var connectionA = await OpenAsync();
        await using var connectionB = await OpenAsync();
        await using var txA = await BeginAsync(connectionA, level);
        await using var txB = await BeginAsync(connectionB, level);
        if (readFirst)
            await EventsReadAsync(kind, new SpectorSession(connectionB, txB));
        var a = await InsertAsync(kind, new SpectorSession(connectionA, txA), "twin", "K", default);
        if (kind == Kind.Sharded)
        {
            var home = Home(a);
            ShardedEvents.Misroute = id =>
                id == a ? home
                : home == "notes_even" ? "notes_odd"
                : "notes_even";
        }
        var late = Task.Run(async () =>
        {
            try
            {
                var id = await InsertAsync(kind, new SpectorSession(connectionB, txB), "twin", "K", default);
                await txB.CommitAsync();
                return (Guid?)id;
            }
            catch (Exception e) when (IsSerializationFailure(e))
            {
                await txB.RollbackAsync();
                return null;
            }
        });
        await Task.Delay(300);
        await txA.CommitAsync();
        var b = await late;
        TestContext.Out.WriteLine($"{kind} {level} read first {readFirst}: B {(b is null ? "refused" : "answered")}");
        if (b is not null)
            Assert.That(b, Is.EqualTo(a), "B returned a record of its own");
        Assert.That(await EventCountAsync(kind), Is.EqualTo(2));
        await AssertRecordAsync(kind, a, [], new HashSet<int>());
        await AssertChainsAsync(kind, [a]);
    }

    private static Task EventsReadAsync(Kind kind, SpectorSession session) =>
        kind switch
        {
            Kind.TableChain => LedgerAccount.GetAsync(session, Guid.NewGuid()),
            Kind.RecordChain => Receipt.GetAsync(session, Guid.NewGuid()),
            Kind.Sharded => ShardNote.GetAsync(session, Guid.NewGuid()),
            _ => Counter.GetAsync(session, Guid.NewGuid()),
        };

    /// <summary>Runs the write and returns the record's measure as the write returned it.</summary>
    private static async Task<decimal> WriteReturningAsync(Kind kind, SpectorSession s, Guid id, int op, string? key) =>
        kind switch
        {
            Kind.TableChain => (await new LedgerAccount { Id = id }.PostAsync(s, op, $"op{op}", Key(key))).Balance,
            Kind.RecordChain => (await new Receipt { Id = id }.RefundAsync(s, op, Key(key))).Refunded,
            Kind.Unhashed => (await new Counter { Id = id }.UpdateAsync(s, new Attrs { ["by"] = op }, Key(key))).Value,
            _ => (await new ShardNote { Id = id }.ReviseAsync(s, $"op{op}", Key(key))).Revisions,
        };

    /// <summary>
    /// A keyed write sent again returns "the record as that event left it", also when later writes and savepoints
    /// (every 4 events on the receipt and the sharded note) came after it, inside a caller transaction or not.
    /// </summary>
    [Test]
    public async Task A_keyed_replay_returns_the_state_its_event_left_even_after_later_writes_and_savepoints(
        [Values] Kind kind,
        [Values(IsolationLevel.ReadCommitted, IsolationLevel.Serializable)] IsolationLevel level
    )
    {
        var id = await InsertAsync(kind, "r");
        var after = new List<decimal>();
        await using (var connection = await OpenAsync())
        await using (var tx = await BeginAsync(connection, level))
        {
            var session = new SpectorSession(connection, tx);
            for (var op = 1; op <= 6; op++)
                after.Add(await WriteReturningAsync(kind, session, id, op, $"r{op}"));
            // Replays inside the transaction that wrote them.
            for (var op = 1; op <= 6; op++)
                Assert.That(await WriteReturningAsync(kind, session, id, op, $"r{op}"), Is.EqualTo(after[op - 1]));
            await tx.CommitAsync();
        }
        var store = ShardedEvents.Log.Store.Session;
        for (var op = 7; op <= 12; op++)
            after.Add(await WriteReturningAsync(kind, store, id, op, $"r{op}"));
        for (var op = 12; op >= 1; op--)
            Assert.That(await WriteReturningAsync(kind, store, id, op, $"r{op}"), Is.EqualTo(after[op - 1]), $"r{op}");
        await AssertRecordAsync(kind, id, [.. Enumerable.Range(1, 12)], new HashSet<int>());
        await AssertChainsAsync(kind, [id]);
    }

    /// <summary>
    /// A session with a connection and no transaction commits each write. Tokens cancel slow writes (a trigger on
    /// the record table) while they run: each write is stored exactly when it returns, and the caller's connection
    /// is never left inside a transaction.
    /// </summary>
    [Test]
    public async Task Cancelled_writes_in_a_session_without_a_transaction_are_stored_exactly_when_they_return(
        [Values] Kind kind
    )
    {
        await InstallSlowTriggerAsync(kind);
        var id = await InsertAsync(kind, "r");
        var random = new Random(5 + (int)kind);
        var acknowledged = new List<int>();
        var absent = new HashSet<int>();
        await using var connection = await OpenAsync();
        var session = new SpectorSession(connection);
        for (var op = 1; op <= 40; op++)
        {
            using var cancel = new CancellationTokenSource(random.Next(0, 25));
            var key = op % 2 == 0 ? $"s{op}" : null;
            try
            {
                await WriteAsync(kind, session, id, op, key, cancel.Token);
                acknowledged.Add(op);
            }
            catch (OperationCanceledException)
            {
                if (key is null)
                    absent.Add(op);
                else
                {
                    // The keyed retry lands exactly once.
                    await WriteAsync(kind, session, id, op, key, default);
                    acknowledged.Add(op);
                }
            }
            catch (InvalidOperationException) when (connection.State != ConnectionState.Open)
            {
                // A cancellation that broke the caller's connection: that is visible; reopen.
                await connection.OpenAsync();
                absent.Add(op);
            }
            Assert.That(await NoTransactionLeftOpenAsync(), Is.True, $"op {op} left a transaction open");
        }
        TestContext.Out.WriteLine($"{kind}: returned {acknowledged.Count}, cancelled unkeyed {absent.Count}");
        await AssertRecordAsync(kind, id, acknowledged, absent);
        await AssertChainsAsync(kind, [id]);
    }

    /// <summary>
    /// ExpectedSeq inside a caller transaction: it counts the transaction's own writes; a stale one is refused with
    /// nothing stored and the transaction goes on; after another writer commits, a snapshot transaction cannot
    /// write with the seq it read.
    /// </summary>
    [Test]
    public async Task Expected_seq_inside_caller_transactions_counts_own_writes_and_refuses_stale_ones(
        [Values(IsolationLevel.ReadCommitted, IsolationLevel.RepeatableRead, IsolationLevel.Serializable)]
            IsolationLevel level,
        [Values] Kind kind
    )
    {
        var id = await InsertAsync(kind, "r");
        await using (var connection = await OpenAsync())
        await using (var tx = await BeginAsync(connection, level))
        {
            var session = new SpectorSession(connection, tx);
            await ExpectAsync(kind, session, id, 1, 1);
            await ExpectAsync(kind, session, id, 2, 2);
            Assert.ThrowsAsync<ConcurrencyConflictException>(() => ExpectAsync(kind, session, id, 3, 2));
            await ExpectAsync(kind, session, id, 4, 3);
            await tx.CommitAsync();
        }
        await AssertRecordAsync(kind, id, [1, 2, 4], new HashSet<int> { 3 });

        // A snapshot reads seq 4 (3 on kinds without savepoints); another writer commits; the snapshot writes.
        var seq = await SeqAsync(kind, id);
        await using (var connection = await OpenAsync())
        await using (var tx = await BeginAsync(connection, level))
        {
            var session = new SpectorSession(connection, tx);
            await ReadAsync(kind, session, id);
            await WriteAsync(kind, ShardedEvents.Log.Store.Session, id, 5, null, default);
            var outcome = "committed";
            try
            {
                await ExpectAsync(kind, session, id, 6, seq);
                await tx.CommitAsync();
            }
            catch (ConcurrencyConflictException)
            {
                outcome = "conflict";
            }
            catch (Exception e) when (IsSerializationFailure(e))
            {
                outcome = "serialization";
            }
            TestContext.Out.WriteLine($"{kind} {level}: stale expected seq after another's commit: {outcome}");
            Assert.That(outcome, Is.Not.EqualTo("committed"));
        }
        await AssertRecordAsync(kind, id, [1, 2, 4, 5], new HashSet<int> { 3, 6 });
        await AssertChainsAsync(kind, [id]);
    }

    private static async Task<long> SeqAsync(Kind kind, Guid id) =>
        kind switch
        {
            Kind.TableChain => (await LedgerAccount.GetVersionedAsync(id))!.Seq,
            Kind.RecordChain => (await Receipt.GetVersionedAsync(id))!.Seq,
            Kind.Unhashed => (await Counter.GetVersionedAsync(id))!.Seq,
            _ => (await ShardNote.GetVersionedAsync(id))!.Seq,
        };

    private static Task ExpectAsync(Kind kind, SpectorSession s, Guid id, int op, long seq)
    {
        var o = new WriteOptions { ExpectedSeq = seq };
        return kind switch
        {
            Kind.TableChain => new LedgerAccount { Id = id }.PostAsync(s, op, $"op{op}", o),
            Kind.RecordChain => new Receipt { Id = id }.RefundAsync(s, op, o),
            Kind.Unhashed => new Counter { Id = id }.UpdateAsync(s, new Attrs { ["by"] = op }, o),
            _ => new ShardNote { Id = id }.ReviseAsync(s, $"op{op}", o),
        };
    }

    /// <summary>
    /// The caller's own savepoints around Spector's writes: rolling back to one undoes the writes after it (events,
    /// heads, chain head, keys), and the writes that follow in the same transaction chain onto what is left.
    /// </summary>
    [Test]
    public async Task Rolling_back_to_the_callers_own_savepoint_undoes_spectors_writes_and_later_ones_chain_on(
        [Values(IsolationLevel.ReadCommitted, IsolationLevel.RepeatableRead, IsolationLevel.Serializable)]
            IsolationLevel level,
        [Values] Kind kind
    )
    {
        var a = await InsertAsync(kind, "a");
        var b = await InsertAsync(kind, "b");
        await using (var connection = await OpenAsync())
        await using (var tx = await BeginAsync(connection, level))
        {
            var session = new SpectorSession(connection, tx);
            await WriteAsync(kind, session, a, 1, "k1", default);
            await connection.ExecuteAsync("SAVEPOINT \"mine\"", transaction: tx);
            await WriteAsync(kind, session, a, 2, "k2", default);
            await WriteAsync(kind, session, b, 3, "k3", default);
            var c = await InsertAsync(kind, session, "c", "kc", default);
            await connection.ExecuteAsync("ROLLBACK TO SAVEPOINT \"mine\"", transaction: tx);
            // The same keys with other payloads are free again; the rolled-back insert's key too.
            await WriteAsync(kind, session, b, 4, "k2", default);
            await WriteAsync(kind, session, a, 5, "k3", default);
            var c2 = await InsertAsync(kind, session, "c2", "kc", default);
            Assert.That(c2, Is.Not.EqualTo(c));
            await tx.CommitAsync();
            await AssertRecordAsync(kind, c2, [], new HashSet<int>());
            Assert.That(await CountAsync(EventsTable(kind, c), "\"parent_id\" = @c", new { c }), Is.Zero);
        }
        await AssertRecordAsync(kind, a, [1, 5], new HashSet<int> { 2 });
        await AssertRecordAsync(kind, b, [4], new HashSet<int> { 3 });
        // Own-transaction writes after it chain on.
        await WriteAsync(kind, ShardedEvents.Log.Store.Session, a, 6, null, default);
        await AssertRecordAsync(kind, a, [1, 5, 6], new HashSet<int> { 2 });
        await AssertChainsAsync(kind, [a, b]);
    }

    /// <summary>A user's unique index refusing a write in a session without a transaction: the error is the
    /// database's own, nothing is stored, no transaction is left open on the caller's connection.</summary>
    [Test]
    public async Task A_users_unique_index_refusing_a_write_in_a_session_without_a_transaction_leaves_nothing(
        [Values] Kind kind
    )
    {
        await UniqueNameIndexAsync(kind);
        var a = await InsertAsync(kind, "taken");
        await using var connection = await OpenAsync();
        var session = new SpectorSession(connection);
        var b = await InsertAsync(kind, session, "free", null, default);
        for (var i = 0; i < 3; i++)
        {
            Assert.CatchAsync<DbException>(() => UpdateAsync(kind, session, b, Renamed(kind, "taken"), $"u{i}"));
            Assert.CatchAsync<DbException>(() => InsertAsync(kind, session, "taken", $"i{i}", default));
            Assert.That(await NoTransactionLeftOpenAsync(), Is.True);
            await WriteAsync(kind, session, b, i + 1, $"u{i}x", default);
        }
        await AssertRecordAsync(kind, b, [1, 2, 3], new HashSet<int>());
        await AssertRecordAsync(kind, a, [], new HashSet<int>());
        Assert.That(
            await EventCountAsync(kind),
            Is.EqualTo(kind is Kind.RecordChain or Kind.Sharded ? 6 : 5),
            "b's savepoint after seq 4"
        );
        await AssertChainsAsync(kind, [a, b]);
    }

    /// <summary>
    /// Verification while writers run (own transactions, caller transactions at snapshot levels that roll back or
    /// are cancelled): an honest log never reports a break, whatever moment the verifier reads it.
    /// </summary>
    [Test]
    public async Task Verifying_while_writers_commit_roll_back_and_cancel_never_reports_a_break_on_an_honest_log(
        [Values(Kind.TableChain, Kind.RecordChain, Kind.Sharded)] Kind kind
    )
    {
        var ids = new List<Guid>();
        for (var i = 0; i < 6; i++)
            ids.Add(await InsertAsync(kind, $"r{i}"));
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(8));
        var next = 0;
        var writes = 0;
        async Task WriterAsync(int w)
        {
            var random = new Random(w);
            var level = w % 2 == 0 ? IsolationLevel.RepeatableRead : IsolationLevel.Serializable;
            while (!stop.IsCancellationRequested)
            {
                var id = ids[random.Next(ids.Count)];
                var op = Interlocked.Increment(ref next);
                try
                {
                    if (random.Next(2) == 0)
                    {
                        await WriteAsync(kind, ShardedEvents.Log.Store.Session, id, op, null, default);
                        Interlocked.Increment(ref writes);
                        continue;
                    }
                    await using var connection = await OpenAsync();
                    await using var tx = await BeginAsync(connection, level);
                    var session = new SpectorSession(connection, tx);
                    using var cancel = new CancellationTokenSource(random.Next(0, 6));
                    await WriteAsync(kind, session, id, op, $"v{op}", cancel.Token);
                    if (random.Next(3) == 0)
                        await tx.RollbackAsync();
                    else
                    {
                        await tx.CommitAsync();
                        Interlocked.Increment(ref writes);
                    }
                }
                catch (OperationCanceledException) { }
                catch (Exception e) when (IsSerializationFailure(e)) { }
            }
        }
        var verifications = 0;
        async Task VerifierAsync()
        {
            while (!stop.IsCancellationRequested)
            {
                await AssertChainsAsync(kind, [ids[verifications % ids.Count]]);
                verifications++;
            }
        }
        await Task.WhenAll([
            .. Enumerable.Range(0, 4).Select(w => Task.Run(() => WriterAsync(w))),
            Task.Run(VerifierAsync),
        ]);
        TestContext.Out.WriteLine($"{kind}: {writes} writes committed, {verifications} verifications");
        Assert.That(verifications, Is.GreaterThan(3));
        await AssertChainsAsync(kind, ids);
        foreach (var id in ids)
        {
            var events = await EventsAsync(kind, id);
            Assert.That(events.Select(e => e.Seq), Is.EqualTo(Enumerable.Range(1, events.Count).Select(i => (long)i)));
        }
    }

    /// <summary>
    /// The database itself gives up on a write: PostgreSQL's statement_timeout (57014 with no token involved) and
    /// lock_timeout (55P03, another transaction holds the record), SQLite's busy timeout. Through a session on that
    /// connection, with and without the caller's transaction: every write either returns and is stored, or throws
    /// and stores nothing, no transaction is left open, and the caller's transaction goes on.
    /// </summary>
    [Test]
    public async Task Writes_the_database_times_out_store_nothing_and_leave_the_session_usable(
        [Values] Kind kind,
        [Values(false, true)] bool inTransaction
    )
    {
        await InstallSlowTriggerAsync(kind);
        var id = await InsertAsync(kind, "r");
        var acknowledged = new List<int>();
        var absent = new HashSet<int>();
        var random = new Random(3);
        var failures = new Dictionary<string, int>();
        await using var connection = await OpenAsync();
        DbTransaction? tx = null;
        for (var op = 1; op <= 30; op++)
        {
            if (inTransaction && tx is null)
                tx = await BeginAsync(connection, IsolationLevel.ReadCommitted);
            var session = tx is null ? new SpectorSession(connection) : new SpectorSession(connection, tx);
            // On SQLite a session without a transaction waits out the 30 s busy timeout behind a blocker (whatever
            // the connection's timeouts say) and then fails with SerializationFailureException: too slow to repeat
            // here, so only caller transactions meet a blocker there.
            var blocked = op % 3 == 0 && (Database == Db.Postgres || inTransaction);
            if (blocked && tx is not null)
            {
                // The caller's transaction may hold the record (or SQLite's write lock): commit it before the
                // blocker takes it.
                await tx.CommitAsync();
                await tx.DisposeAsync();
                tx = await BeginAsync(connection, IsolationLevel.ReadCommitted);
                session = new SpectorSession(connection, tx);
            }
            await using var blocker = blocked ? await OpenAsync() : null;
            DbTransaction? blockerTx = null;
            if (blocker is not null)
            {
                // Another transaction holds the record's head row (PostgreSQL) or the write lock (SQLite).
                blockerTx = await BeginAsync(blocker, IsolationLevel.ReadCommitted);
                await WriteAsync(kind, new SpectorSession(blocker, blockerTx), id, 1000 + op, null, default);
            }
            var timeout = random.Next(3, 40);
            if (Database == Db.Postgres)
                await connection.ExecuteAsync(
                    blocked ? $"SET lock_timeout = {timeout}" : $"SET statement_timeout = {timeout}",
                    transaction: tx
                );
            else
            {
                await connection.ExecuteAsync($"PRAGMA busy_timeout = {timeout}", transaction: tx);
                // Microsoft.Data.Sqlite retries a busy database until the command timeout: make that 1 s.
                ((SqliteConnection)connection).DefaultTimeout = 1;
            }
            try
            {
                await WriteAsync(kind, session, id, op, null, default);
                acknowledged.Add(op);
            }
            catch (Exception e) when (e is DbException or SpectorException or OperationCanceledException)
            {
                var name = e is DbException db
                    ? $"{e.GetType().Name} {db.SqlState ?? db.ErrorCode.ToString()}"
                    : e.GetType().Name;
                failures[name] = failures.GetValueOrDefault(name) + 1;
                absent.Add(op);
            }
            if (Database == Db.Postgres)
                await connection.ExecuteAsync("SET statement_timeout = 0; SET lock_timeout = 0", transaction: tx);
            else
            {
                await connection.ExecuteAsync("PRAGMA busy_timeout = 30000", transaction: tx);
                ((SqliteConnection)connection).DefaultTimeout = 30;
            }
            if (blockerTx is not null)
                await blockerTx.RollbackAsync();
            if (tx is not null && op % 5 == 0)
            {
                await tx.CommitAsync();
                await tx.DisposeAsync();
                tx = null;
            }
        }
        if (tx is not null)
            await tx.CommitAsync();
        TestContext.Out.WriteLine(
            $"{kind} in tx {inTransaction}: stored {acknowledged.Count}, failed "
                + string.Join(", ", failures.Select(f => $"{f.Key} x{f.Value}"))
        );
        Assert.That(await NoTransactionLeftOpenAsync(), Is.True);
        await AssertRecordAsync(kind, id, acknowledged, absent);
        await AssertChainsAsync(kind, [id]);
    }
}
