using System.Collections.Concurrent;
using System.Data;
using System.Data.Common;
using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;
using Dapper;
using Microsoft.Data.Sqlite;

namespace Spector.Tests;

/// <summary>
/// Attacks on keyed writes of a sharded log (storage.md, Idempotency): each insert looks for its key in every shard
/// and, on PostgreSQL, every keyed write first locks its key's gate (schema -2) in the first shard's heads table.
/// One key forced into different shards, different keys that a bucketed gate would have made share one, gate rows
/// where users read records, a key first used by an update, cancellation while waiting on the gate.
/// </summary>
[TestFixture(Db.Sqlite)]
[TestFixture(Db.Postgres)]
public sealed class ShardedKeyAttackTests(Db db) : DatabaseTest(db)
{
    private static readonly TimeSpan Forever = TimeSpan.FromSeconds(30);

    [TearDown]
    public void RestoreRouting() => ShardedEvents.Misroute = null;

    // ---- helpers -------------------------------------------------------------------------------------------------

    private static WriteOptions Key(string key) => new() { IdempotencyKey = key };

    private static Attrs Note(string title) => new() { ["title"] = title, ["body"] = "b" };

    private static string Home(Guid id) =>
        Convert.ToInt32(id.ToString("N")[^1..], 16) % 2 == 0 ? "notes_even" : "notes_odd";

    private static string Other(string shard) => shard == "notes_even" ? "notes_odd" : "notes_even";

    /// <summary>A key's gate row id: the first 16 bytes of its SHA-256, version nibble 0.</summary>
    private static Guid GateOf(string key)
    {
        var d = SHA256.HashData(Encoding.UTF8.GetBytes(key));
        d[6] &= 0x0F;
        return new Guid(d.AsSpan(0, 16), bigEndian: true);
    }

    /// <summary>One of 4,096 buckets of a key's SHA-256, as a first, bucketed design of the gates used.</summary>
    private static int BucketOf(string key)
    {
        var d = SHA256.HashData(Encoding.UTF8.GetBytes(key));
        return (d[0] & 0x0F) << 8 | d[1];
    }

    /// <summary>Two different keys of one bucket (optionally a bucket <paramref name="where"/> accepts): a gate
    /// per bucket would make them wait for each other, and deadlock when taken in opposite orders.</summary>
    private static (string, string) KeysOfOneGate(string prefix, Func<int, bool>? where = null)
    {
        var seen = new Dictionary<int, string>();
        for (var i = 0; ; i++)
        {
            var key = $"{prefix}-{i}";
            var gate = BucketOf(key);
            if (where is not null && !where(gate))
                continue;
            if (seen.TryGetValue(gate, out var first))
                return (first, key);
            seen[gate] = key;
        }
    }

    private static async Task<DbTransaction> BeginAsync(DbConnection connection, IsolationLevel level) =>
        connection is SqliteConnection sqlite
            ? sqlite.BeginTransaction(level, deferred: true)
            : await connection.BeginTransactionAsync(level);

    private static bool IsSerializationFailure(Exception e) =>
        e is SerializationFailureException
        || e is Npgsql.PostgresException { SqlState: "40001" or "40P01" }
        || e.InnerException is Npgsql.PostgresException { SqlState: "40001" or "40P01" };

    /// <summary>
    /// Routes every new id of the test: to <see cref="Force"/> of the calling flow when set, else alternately to
    /// each shard; an id keeps its first route.
    /// </summary>
    private sealed class Router
    {
        private readonly ConcurrentDictionary<Guid, string> _routes = new();
        private int _next;
        public readonly AsyncLocal<string?> Force = new();

        public Router() => ShardedEvents.Misroute = Route;

        private string Route(Guid id) =>
            _routes.GetOrAdd(
                id,
                _ => Force.Value ?? ((Interlocked.Increment(ref _next) & 1) == 0 ? "notes_even" : "notes_odd")
            );
    }

    private async Task<long> EventsAsync() => await CountAsync("notes_even") + await CountAsync("notes_odd");

    private async Task<List<Guid>> IdsAsync()
    {
        var ids = new List<Guid>();
        await foreach (var id in ShardNote.IdsAsync())
            ids.Add(id);
        return ids;
    }

    private async Task<long> GateRowsAsync(string shard) => await CountAsync($"{shard}_heads", "\"schema\" = -2");

    private static async Task AssertChainsAsync()
    {
        var shards = await ShardedEvents.Log.VerifyShardChainsAsync();
        foreach (var chain in shards.Chains)
            Assert.That(chain.FirstBreak, Is.Null, () => $"{chain.Table}: {chain.FirstBreak!.Message}");
    }

    /// <summary>
    /// A keyed insert in its own transaction (<see cref="IsolationLevel.Unspecified"/>) or a caller's at
    /// <paramref name="level"/>, retried with the same key and payload after each serialization failure.
    /// </summary>
    private async Task<(Guid Id, int Refusals)> InsertUntilAnsweredAsync(IsolationLevel level, string title, string key)
    {
        var refusals = 0;
        for (var attempt = 0; ; attempt++)
        {
            if (level == IsolationLevel.Unspecified)
            {
                try
                {
                    var own = await ShardNote.InsertAsync(ShardedEvents.Log.Store.Session, Note(title), Key(key));
                    return (own.Id, refusals);
                }
                catch (Exception e) when (IsSerializationFailure(e) && attempt < 40)
                {
                    refusals++;
                    continue;
                }
            }
            await using var connection = await OpenAsync();
            await using var tx = await BeginAsync(connection, level);
            try
            {
                var note = await ShardNote.InsertAsync(new SpectorSession(connection, tx), Note(title), Key(key));
                await tx.CommitAsync();
                return (note.Id, refusals);
            }
            catch (Exception e) when (IsSerializationFailure(e) && attempt < 40)
            {
                refusals++;
                try
                {
                    await tx.RollbackAsync();
                }
                catch (Exception) { }
            }
        }
    }

    // ---- 1. one key, concurrent inserts forced into different shards ---------------------------------------------

    /// <summary>
    /// Four writers insert one key at once, their new ids routed alternately to each shard, in their own
    /// transactions or callers' at each level (serialization failures retried with the same key): one record per
    /// key, every writer is answered with it, one event per key, heads and chains agree.
    /// </summary>
    [Test]
    public async Task Concurrent_inserts_of_one_key_routed_to_both_shards_make_one_record_per_key(
        [Values(
            IsolationLevel.Unspecified,
            IsolationLevel.ReadCommitted,
            IsolationLevel.RepeatableRead,
            IsolationLevel.Serializable
        )]
            IsolationLevel level
    )
    {
        _ = new Router();
        const int rounds = 12;
        var extra = 0;
        var refusals = 0;
        var winners = new List<Guid>();
        for (var round = 0; round < rounds; round++)
        {
            var results = await Task.WhenAll(
                Enumerable
                    .Range(0, 4)
                    .Select(_ => Task.Run(() => InsertUntilAnsweredAsync(level, $"t{round}", $"race-{round}")))
            );
            extra += results.Select(r => r.Id).Distinct().Count() - 1;
            refusals += results.Sum(r => r.Refusals);
            winners.Add(results[0].Id);
        }
        var stored = await EventsAsync();
        TestContext.Out.WriteLine(
            $"{level}: extra records answered {extra}; events {stored}; serialization refusals retried {refusals}; "
                + $"winners in even {winners.Count(w => ShardedEvents.Log.ShardFor(w).Table == "notes_even")}"
        );
        Assert.That((extra, stored), Is.EqualTo((0, (long)rounds)), "one record and one event per key");
        Assert.That(await IdsAsync(), Is.EquivalentTo(winners));
        Assert.That(await CountAsync("sharded_notes"), Is.EqualTo(rounds));
        foreach (var id in winners)
            Assert.That(
                await CountAsync(ShardedEvents.Log.ShardFor(id).Table + "_heads", "\"record_id\" = @id", new { id }),
                Is.EqualTo(1)
            );
        await AssertChainsAsync();
        Assert.That(await NoTransactionLeftOpenAsync(), Is.True);
    }

    /// <summary>One caller transaction inserts one key twice, routed to each shard: the second is the first.</summary>
    [Test]
    public async Task One_transaction_inserting_a_key_twice_into_both_shards_gets_its_first_record_back(
        [Values(IsolationLevel.ReadCommitted, IsolationLevel.RepeatableRead, IsolationLevel.Serializable)]
            IsolationLevel level
    )
    {
        var router = new Router();
        await using var connection = await OpenAsync();
        await using var tx = await BeginAsync(connection, level);
        var session = new SpectorSession(connection, tx);
        router.Force.Value = "notes_even";
        var first = await ShardNote.InsertAsync(session, Note("once"), Key("twice"));
        router.Force.Value = "notes_odd";
        var second = await ShardNote.InsertAsync(session, Note("once"), Key("twice"));
        var reuse = Assert.ThrowsAsync<IdempotencyKeyReusedException>(() =>
            ShardNote.InsertAsync(session, Note("other"), Key("twice"))
        )!;
        await tx.CommitAsync();
        Assert.That(second.Id, Is.EqualTo(first.Id));
        Assert.That(reuse.FirstRecordId, Is.EqualTo(first.Id));
        Assert.That(await EventsAsync(), Is.EqualTo(1));
    }

    // ---- 2. keys sharing a gate ----------------------------------------------------------------------------------

    /// <summary>
    /// Two different keys of one gate: transaction A inserts the first and stays open, B inserts the second into the
    /// other shard. B may wait for A (and at REPEATABLE READ / SERIALIZABLE be refused once, then retried) but never
    /// forever, and each key keeps its own record: replays return their own, a payload of the other key's is a
    /// reuse naming the right record.
    /// </summary>
    [Test]
    public async Task Keys_sharing_a_gate_wait_at_most_for_the_other_transaction_and_are_never_confused(
        [Values(IsolationLevel.ReadCommitted, IsolationLevel.RepeatableRead, IsolationLevel.Serializable)]
            IsolationLevel level,
        [Values(true, false)] bool commitA
    )
    {
        var (k1, k2) = KeysOfOneGate("shared");
        Assert.That(GateOf(k1), Is.Not.EqualTo(GateOf(k2)));
        var router = new Router();
        await using var connectionA = await OpenAsync();
        await using var txA = await BeginAsync(connectionA, level);
        router.Force.Value = "notes_even";
        var a = await ShardNote.InsertAsync(new SpectorSession(connectionA, txA), Note("one"), Key(k1));
        var b = Task.Run(() =>
        {
            router.Force.Value = "notes_odd";
            return InsertUntilAnsweredAsync(level, "two", k2);
        });
        await Task.Delay(400);
        var waited = !b.IsCompleted;
        if (Database == Db.Postgres)
            Assert.That(waited, Is.False, "a different key waited for A's transaction");
        if (commitA)
            await txA.CommitAsync();
        else
            await txA.RollbackAsync();
        var done = await Task.WhenAny(b, Task.Delay(Forever));
        Assert.That(done, Is.SameAs(b), "B is still waiting after A ended");
        var (bId, refusals) = await b;
        TestContext.Out.WriteLine($"{level} commitA {commitA}: B waited for A {waited}; B refused {refusals} time(s)");
        Assert.That(bId, Is.Not.EqualTo(a.Id));
        Assert.That((await ShardNote.GetAsync(bId))!.Title, Is.EqualTo("two"));
        Assert.That((await ShardNote.InsertAsync(Note("two"), Key(k2))).Id, Is.EqualTo(bId), "the second key's replay");
        var reuse = Assert.ThrowsAsync<IdempotencyKeyReusedException>(() =>
            ShardNote.InsertAsync(Note("one"), Key(k2))
        )!;
        Assert.That(reuse.FirstRecordId, Is.EqualTo(bId));
        var k1Again = await ShardNote.InsertAsync(Note("one"), Key(k1));
        if (commitA)
            Assert.That(k1Again.Id, Is.EqualTo(a.Id), "the first key's replay");
        else
            Assert.That(k1Again.Id, Is.Not.EqualTo(bId), "the first key, rolled back, makes its own record");
        Assert.That(await EventsAsync(), Is.EqualTo(2));
        Assert.That(await IdsAsync(), Is.EquivalentTo(new[] { k1Again.Id, bId }));
        await AssertChainsAsync();
        Assert.That(await NoTransactionLeftOpenAsync(), Is.True);
    }

    /// <summary>
    /// Many writers insert many keys that fall on a handful of gates, at once, each routed alternately: every key
    /// gets exactly one record with its own payload, and nothing waits forever.
    /// </summary>
    [Test]
    public async Task Many_keys_crowded_on_few_gates_each_get_one_record_with_their_own_payload(
        [Values(IsolationLevel.Unspecified, IsolationLevel.ReadCommitted, IsolationLevel.RepeatableRead)]
            IsolationLevel level
    )
    {
        _ = new Router();
        var keys = new List<string>();
        for (var g = 0; g < 4; g++)
        {
            var (x, y) = KeysOfOneGate($"crowd{g}");
            keys.Add(x);
            keys.Add(y);
        }
        var work = keys.SelectMany(k => Enumerable.Repeat(k, 3)).OrderBy(_ => Random.Shared.Next()).ToList();
        var answers = new ConcurrentBag<(string Key, Guid Id)>();
        var all = Task.WhenAll(
            Enumerable
                .Range(0, 4)
                .Select(w =>
                    Task.Run(async () =>
                    {
                        for (var i = w; i < work.Count; i += 4)
                        {
                            var (id, _) = await InsertUntilAnsweredAsync(level, "p:" + work[i], work[i]);
                            answers.Add((work[i], id));
                        }
                    })
                )
        );
        Assert.That(await Task.WhenAny(all, Task.Delay(Forever * 2)), Is.SameAs(all), "writers stuck");
        await all;
        foreach (var group in answers.GroupBy(a => a.Key))
        {
            Assert.That(group.Select(a => a.Id).Distinct().Count(), Is.EqualTo(1), group.Key);
            Assert.That((await ShardNote.GetAsync(group.First().Id))!.Title, Is.EqualTo("p:" + group.Key));
        }
        Assert.That(answers.Select(a => a.Id).Distinct().Count(), Is.EqualTo(keys.Count));
        Assert.That(await EventsAsync(), Is.EqualTo(keys.Count));
        await AssertChainsAsync();
    }

    /// <summary>
    /// READ COMMITTED, four different keys on two gates (k1, k2 on one; k3, k4 on another): T1 inserts k1 into the
    /// even shard, T2 k3 into the odd one; then T1 inserts k4 (even) and T2 k2 (odd). Neither transaction touches the
    /// other's shard, record or key; without gates nothing would wait. storage.md mentions refusals between keys
    /// of one gate only at REPEATABLE READ and SERIALIZABLE.
    /// </summary>
    [Test]
    public async Task Unrelated_keys_crossing_two_gates_in_read_committed_transactions_both_commit(
        [Values(true, false)] bool keyed
    )
    {
        var (k1, k2) = KeysOfOneGate("cross-a");
        var firstGate = BucketOf(k1);
        var (k3, k4) = KeysOfOneGate("cross-b", g => g != firstGate);
        var router = new Router();
        await using var c1 = await OpenAsync();
        await using var c2 = await OpenAsync();
        await using var t1 = await BeginAsync(c1, IsolationLevel.ReadCommitted);
        await using var t2 = await BeginAsync(c2, IsolationLevel.ReadCommitted);
        var s1 = new SpectorSession(c1, t1);
        var s2 = new SpectorSession(c2, t2);
        async Task<string> RunAsync(DbTransaction tx, SpectorSession s, string shard, string first, string second)
        {
            router.Force.Value = shard;
            try
            {
                await ShardNote.InsertAsync(s, Note(first), keyed ? Key(first) : null);
                await Task.Delay(300);
                await ShardNote.InsertAsync(s, Note(second), keyed ? Key(second) : null);
                await tx.CommitAsync();
                return "committed";
            }
            catch (Exception e) when (IsSerializationFailure(e))
            {
                await tx.RollbackAsync();
                return e.GetType().Name + " " + (e as DbException ?? e.InnerException as DbException)?.SqlState;
            }
        }
        var one = Task.Run(() => RunAsync(t1, s1, "notes_even", k1, k4));
        var two = Task.Run(() => RunAsync(t2, s2, "notes_odd", k3, k2));
        var both = Task.WhenAll(one, two);
        Assert.That(await Task.WhenAny(both, Task.Delay(Forever)), Is.SameAs(both), "stuck");
        TestContext.Out.WriteLine($"keyed {keyed}: T1: {one.Result}; T2: {two.Result}");
        Assert.That((one.Result, two.Result), Is.EqualTo(("committed", "committed")));
        Assert.That(await EventsAsync(), Is.EqualTo(4));
    }

    /// <summary>
    /// READ COMMITTED, two caller transactions each insert 100 notes under their own keys (no key in common, a
    /// "batch import" each), T1 into the even shard, T2 into the odd one, at the same time. Without keys neither
    /// waits for the other; with 4,096 gates two sets of 100 keys share about 2.4 gates, and gates taken in
    /// opposite orders deadlock. Expected from storage.md at READ COMMITTED: both commit.
    /// </summary>
    [Test]
    public async Task Two_read_committed_batches_of_disjoint_keys_into_different_shards_both_commit(
        [Values(true, false)] bool keyed
    )
    {
        var router = new Router();
        var shared = Enumerable
            .Range(0, 100)
            .Select(i => BucketOf($"batch-a-{i}"))
            .Intersect(Enumerable.Range(0, 100).Select(i => BucketOf($"batch-b-{i}")))
            .Count();
        async Task<string> BatchAsync(string prefix, string shard)
        {
            router.Force.Value = shard;
            await using var connection = await OpenAsync();
            await using var tx = await BeginAsync(connection, IsolationLevel.ReadCommitted);
            var session = new SpectorSession(connection, tx);
            try
            {
                for (var i = 0; i < 100; i++)
                {
                    var key = $"{prefix}-{i}";
                    await ShardNote.InsertAsync(session, Note(key), keyed ? Key(key) : null);
                    await Task.Delay(5);
                }
                await tx.CommitAsync();
                return "committed";
            }
            catch (Exception e) when (IsSerializationFailure(e))
            {
                await tx.RollbackAsync();
                return e.GetType().Name + " " + (e as DbException ?? e.InnerException as DbException)?.SqlState;
            }
        }
        var clock = Stopwatch.StartNew();
        var one = Task.Run(() => BatchAsync("batch-a", "notes_even"));
        var two = Task.Run(() => BatchAsync("batch-b", "notes_odd"));
        var both = Task.WhenAll(one, two);
        Assert.That(await Task.WhenAny(both, Task.Delay(Forever * 2)), Is.SameAs(both), "stuck");
        TestContext.Out.WriteLine(
            $"keyed {keyed}: gates shared by the two key sets {shared}; T1 {one.Result}; T2 {two.Result}; "
                + $"{clock.ElapsedMilliseconds} ms"
        );
        Assert.That((one.Result, two.Result), Is.EqualTo(("committed", "committed")));
        Assert.That(await EventsAsync(), Is.EqualTo(200));
    }

    // ---- 3. gate rows where users read records -------------------------------------------------------------------

    /// <summary>
    /// After keyed inserts (one of whose gate routes to the first shard by the test rule), the gate rows (PostgreSQL
    /// only, first shard only) show up nowhere a user reads records: IdsAsync, ExistsAsync/GetAsync/AllEventsAsync
    /// on a gate id, writes to a gate id, shard chain verification, savepoint verification, a record-table rebuild,
    /// a follower, migrations run again, and a heads table dropped and rebuilt by the migration.
    /// </summary>
    [Test]
    public async Task Gate_rows_never_show_up_where_records_are_read_verified_rebuilt_or_followed()
    {
        var evenGateKey = Enumerable
            .Range(0, 1000)
            .Select(i => $"list-even-{i}")
            .First(k => Home(GateOf(k)) == "notes_even");
        var keys = Enumerable.Range(0, 30).Select(i => $"list-{i}").Append(evenGateKey).ToList();
        var ids = new List<Guid>();
        foreach (var key in keys)
            ids.Add((await ShardNote.InsertAsync(Note(key), Key(key))).Id);
        await new ShardNote { Id = ids[0] }.ReviseAsync("rev", Key("list-revise"));
        // The revise takes its key's gate too, as every keyed write of a sharded log does.
        var gates = keys.Append("list-revise").Select(GateOf).Distinct().ToList();
        var gateRows = await GateRowsAsync("notes_even");
        TestContext.Out.WriteLine($"gate rows in notes_even_heads: {gateRows} (distinct gates {gates.Count})");
        Assert.That(gateRows, Is.EqualTo(Database == Db.Postgres ? gates.Count : 0));
        Assert.That(await GateRowsAsync("notes_odd"), Is.Zero, "gates live in the first shard only");
        if (Database == Db.Postgres)
            Assert.That(
                await CountAsync(
                    "notes_even_heads",
                    "\"record_id\" = @g AND \"schema\" = -2",
                    new { g = GateOf(evenGateKey) }
                ),
                Is.EqualTo(1),
                "the gate id is the documented SHA-256 pick"
            );

        async Task AssertInvisibleAsync(string stage)
        {
            Assert.That(await IdsAsync(), Is.EquivalentTo(ids), stage + ": IdsAsync");
            foreach (var gate in gates)
            {
                Assert.That(await ShardNote.ExistsAsync(gate), Is.False, $"{stage}: ExistsAsync({gate})");
                Assert.That(await ShardNote.GetAsync(gate), Is.Null, $"{stage}: GetAsync({gate})");
                Assert.That(await ShardNote.AllEventsAsync(gate), Is.Empty, stage);
            }
            var evenGate = GateOf(evenGateKey);
            Assert.ThrowsAsync<RecordNotFoundException>(() =>
                new ShardNote { Id = evenGate }.UpdateAsync(new Attrs { ["title"] = "x" })
            );
            Assert.ThrowsAsync<RecordNotFoundException>(() => new ShardNote { Id = evenGate }.ReviseAsync("x"));
            Assert.ThrowsAsync<RecordNotFoundException>(() => new ShardNote { Id = evenGate }.DeleteAsync());
            var shards = await ShardedEvents.Log.VerifyShardChainsAsync();
            foreach (var chain in shards.Chains)
                Assert.That(chain.FirstBreak, Is.Null, () => $"{stage}: {chain.Table}: {chain.FirstBreak!.Message}");
            Assert.That(shards.EventsChecked, Is.EqualTo(ids.Count + 1), stage);
            foreach (var id in ids.Take(3))
                Assert.That((await ShardNote.VerifySavepointsAsync(id)).IsValid, Is.True, stage);
            Assert.That(
                (await ShardNote.InsertAsync(Note(keys[5]), Key(keys[5]))).Id,
                Is.EqualTo(ids[5]),
                stage + ": replay"
            );
            Assert.That(await EventsAsync(), Is.EqualTo(ids.Count + 1), stage + ": events");
        }

        await AssertInvisibleAsync("after writes");

        await RecordTables.RebuildAsync(ShardNote.SpectorType);
        Assert.That(await CountAsync("sharded_notes"), Is.EqualTo(ids.Count), "record table rebuilt");
        foreach (var gate in gates)
            Assert.That(await CountAsync("sharded_notes", "\"id\" = @gate", new { gate }), Is.Zero);

        var followed = new List<FollowedEvent>();
        var follower = new Follower(
            new FollowerOptions("f_" + Guid.NewGuid().ToString("N")[..12], ShardedEvents.Log)
            {
                MinPollInterval = TimeSpan.FromMilliseconds(5),
                MaxPollInterval = TimeSpan.FromMilliseconds(100),
                FirstRetryDelay = TimeSpan.FromMilliseconds(5),
                LeaseDuration = TimeSpan.FromSeconds(5),
            },
            (e, _) =>
            {
                followed.Add(e);
                return Task.CompletedTask;
            }
        );
        await follower.MigrateAsync();
        Assert.That(await follower.CatchUpAsync(), Is.EqualTo(ids.Count + 1), "follower");
        Assert.That(followed.Select(e => e.Event.ParentId).Intersect(gates), Is.Empty);

        await ShardedEvents.Log.MigrateUpAsync();
        await ShardedEvents.Log.MigrateUpAsync();
        await AssertInvisibleAsync("after migrating again");

        await ExecuteRawAsync("DROP TABLE \"notes_even_heads\"");
        await ShardedEvents.Log.MigrateUpAsync();
        Assert.That(await GateRowsAsync("notes_even"), Is.Zero, "the rebuilt heads hold records only");
        await AssertInvisibleAsync("after the heads table was rebuilt");
        var late = await ShardNote.InsertAsync(Note("late"), Key(evenGateKey + "-late"));
        ids.Add(late.Id);
        Assert.That(await IdsAsync(), Is.EquivalentTo(ids));
        Assert.That((await ShardNote.InsertAsync(Note("late"), Key(evenGateKey + "-late"))).Id, Is.EqualTo(late.Id));
    }

    // ---- 4. a key first used by an update ------------------------------------------------------------------------

    /// <summary>
    /// A key first used by a committed update of a record in one shard, then by an insert routed to that shard or
    /// the other, in its own transaction or a caller's: the insert is refused as a reuse naming the update's event
    /// and record; nothing is stored.
    /// </summary>
    [Test]
    public async Task An_insert_under_a_key_a_committed_update_used_is_refused_as_a_reuse_in_either_shard(
        [Values(
            IsolationLevel.Unspecified,
            IsolationLevel.ReadCommitted,
            IsolationLevel.RepeatableRead,
            IsolationLevel.Serializable
        )]
            IsolationLevel level,
        [Values(true, false)] bool sameShard
    )
    {
        var router = new Router();
        router.Force.Value = "notes_even";
        var record = await ShardNote.InsertAsync(Note("r"));
        var updated = await record.UpdateAsync(new Attrs { ["body"] = "u" }, Key("upd"));
        var updateEvent = (await ShardNote.AllEventsAsync(record.Id)).Last().Id;
        router.Force.Value = sameShard ? "notes_even" : "notes_odd";
        IdempotencyKeyReusedException? error;
        if (level == IsolationLevel.Unspecified)
            error = Assert.ThrowsAsync<IdempotencyKeyReusedException>(() =>
                ShardNote.InsertAsync(Note("r"), Key("upd"))
            );
        else
        {
            await using var connection = await OpenAsync();
            await using var tx = await BeginAsync(connection, level);
            error = Assert.ThrowsAsync<IdempotencyKeyReusedException>(() =>
                ShardNote.InsertAsync(new SpectorSession(connection, tx), Note("r"), Key("upd"))
            );
            await tx.CommitAsync();
        }
        Assert.That((error!.FirstRecordId, error.FirstEventId), Is.EqualTo((record.Id, updateEvent)));
        Assert.That(await EventsAsync(), Is.EqualTo(2));
        Assert.That(await IdsAsync(), Is.EqualTo(new[] { record.Id }));
        Assert.That(updated.Body, Is.EqualTo("u"));
    }

    /// <summary>
    /// REPEATABLE READ / SERIALIZABLE: the caller's snapshot is taken, then an update stores key K in the even
    /// shard and commits, then the caller inserts under K, routed to the odd shard. On one events table the key's
    /// unique index refuses this (40001); on a sharded log the key's gate, which the update took, does. Expected:
    /// refused (reuse or serialization failure), K held by one event.
    /// </summary>
    [Test]
    public async Task An_insert_whose_snapshot_predates_an_updates_key_in_the_other_shard_does_not_store_it_twice(
        [Values(IsolationLevel.RepeatableRead, IsolationLevel.Serializable)] IsolationLevel level,
        [Values(true, false)] bool sameShard
    )
    {
        var router = new Router();
        router.Force.Value = "notes_even";
        var record = await ShardNote.InsertAsync(Note("r"));
        await using var connection = await OpenAsync();
        await using var tx = await BeginAsync(connection, level);
        var session = new SpectorSession(connection, tx);
        await ShardNote.GetAsync(session, record.Id); // the snapshot
        await record.UpdateAsync(new Attrs { ["body"] = "u" }, Key("late-upd"));
        router.Force.Value = sameShard ? "notes_even" : "notes_odd";
        string outcome;
        try
        {
            await ShardNote.InsertAsync(session, Note("r"), Key("late-upd"));
            await tx.CommitAsync();
            outcome = "committed";
        }
        catch (IdempotencyKeyReusedException)
        {
            await tx.RollbackAsync();
            outcome = "reused";
        }
        catch (Exception e) when (IsSerializationFailure(e))
        {
            await tx.RollbackAsync();
            outcome = "serialization";
        }
        var holders =
            await CountAsync("notes_even", "\"idempotency_key\" = 'late-upd'")
            + await CountAsync("notes_odd", "\"idempotency_key\" = 'late-upd'");
        TestContext.Out.WriteLine($"{level} same shard {sameShard}: insert {outcome}; events under the key {holders}");
        Assert.That((outcome, holders), Is.Not.EqualTo(("committed", 2L)), "the key was stored twice");
    }

    // ---- 5. cancellation while waiting on the gate ---------------------------------------------------------------

    /// <summary>
    /// Transaction A holds a key's gate; B inserts the same key, routed to the other shard, with a token cancelled
    /// while it waits. B ends promptly with OperationCanceledException, nothing of B stands, A commits, B's retry
    /// returns A's record, no transaction is left open. PostgreSQL only: on SQLite B waits for the write lock, which
    /// does not see a token until the lock frees (getting-started.md, "Note on SQLite").
    /// </summary>
    [Test]
    public async Task A_keyed_insert_cancelled_while_waiting_on_its_gate_ends_promptly_and_its_retry_is_answered(
        [Values(IsolationLevel.Unspecified, IsolationLevel.ReadCommitted, IsolationLevel.Serializable)]
            IsolationLevel level
    )
    {
        Assume.That(Database, Is.EqualTo(Db.Postgres), "SQLite's write lock does not see a token while it waits");
        var router = new Router();
        await using var connectionA = await OpenAsync();
        await using var txA = await BeginAsync(connectionA, IsolationLevel.ReadCommitted);
        router.Force.Value = "notes_even";
        var a = await ShardNote.InsertAsync(new SpectorSession(connectionA, txA), Note("k"), Key("cancel-me"));
        router.Force.Value = "notes_odd";
        using var cancel = new CancellationTokenSource(TimeSpan.FromMilliseconds(400));
        var clock = Stopwatch.StartNew();
        Exception? caught = null;
        await using (var connectionB = await OpenAsync())
        {
            DbTransaction? txB = level == IsolationLevel.Unspecified ? null : await BeginAsync(connectionB, level);
            var session = txB is null ? ShardedEvents.Log.Store.Session : new SpectorSession(connectionB, txB);
            var b = Task.Run(() => ShardNote.InsertAsync(session, Note("k"), Key("cancel-me"), cancel.Token));
            var done = await Task.WhenAny(b, Task.Delay(TimeSpan.FromSeconds(10)));
            clock.Stop();
            Assert.That(done, Is.SameAs(b), "B did not end after its token was cancelled");
            try
            {
                if (done == b)
                    await b;
            }
            catch (Exception e)
            {
                caught = e;
            }
            if (txB is not null)
            {
                try
                {
                    await txB.RollbackAsync();
                }
                catch (Exception) { }
                await txB.DisposeAsync();
            }
        }
        TestContext.Out.WriteLine(
            $"{level}: B ended after {clock.ElapsedMilliseconds} ms with " + caught?.GetType().Name
        );
        Assert.That(caught, Is.InstanceOf<OperationCanceledException>(), caught?.ToString());
        Assert.That(clock.Elapsed, Is.LessThan(TimeSpan.FromSeconds(5)));
        await txA.CommitAsync();
        var retry = await ShardNote.InsertAsync(Note("k"), Key("cancel-me"));
        Assert.That(retry.Id, Is.EqualTo(a.Id));
        Assert.That(await EventsAsync(), Is.EqualTo(1));
        Assert.That(await IdsAsync(), Is.EqualTo(new[] { a.Id }));
        Assert.That(await NoTransactionLeftOpenAsync(), Is.True);
        await AssertChainsAsync();
    }
}
