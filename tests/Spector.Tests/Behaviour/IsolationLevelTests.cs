using System.Data;
using System.Data.Common;
using Microsoft.Data.Sqlite;

namespace Spector.Tests;

/// <summary>
/// Writes inside callers' transactions at every isolation level: the table chain never forks, no update is lost,
/// and when the database refuses a write the caller gets <see cref="SerializationFailureException"/>.
/// </summary>
[TestFixture(Db.Sqlite)]
[TestFixture(Db.Postgres)]
public sealed class IsolationLevelTests(Db db) : DatabaseTest(db)
{
    private static readonly IsolationLevel[] Levels =
    [
        IsolationLevel.ReadCommitted,
        IsolationLevel.RepeatableRead,
        IsolationLevel.Serializable,
    ];

    /// <summary>SQLite's transactions are serializable at every level; deferred ones read a snapshot before they write,
    /// like PostgreSQL's.</summary>
    private static async Task<DbTransaction> BeginAsync(DbConnection connection, IsolationLevel level) =>
        connection is SqliteConnection sqlite
            ? sqlite.BeginTransaction(level, deferred: true)
            : await connection.BeginTransactionAsync(level);

    /// <summary>
    /// Two transactions take their snapshots, then write: the first commits while the second waits for it. The
    /// second either commits on top (READ COMMITTED on PostgreSQL) or is refused with the typed error.
    /// </summary>
    private async Task<bool> RaceAsync(
        Func<SpectorSession, Task> read,
        Func<SpectorSession, Task> first,
        Func<SpectorSession, Task> second,
        IsolationLevel level
    )
    {
        await using var connectionA = await OpenAsync();
        // Default timeouts: the second writer waits for the first's lock, and a stale snapshot is refused at once.
        await using var connectionB = await OpenAsync();
        await using var txA = await BeginAsync(connectionA, level);
        await using var txB = await BeginAsync(connectionB, level);
        var (a, b) = (new SpectorSession(connectionA, txA), new SpectorSession(connectionB, txB));
        await read(a);
        await read(b);

        await first(a);
        var late = Task.Run(async () =>
        {
            try
            {
                await second(b);
                await txB.CommitAsync();
                return true;
            }
            catch (SerializationFailureException e)
            {
                Assert.That(e.Message, Does.Contain("retry the whole transaction"));
                await txB.RollbackAsync();
                return false;
            }
        });
        await Task.Delay(300);
        await txA.CommitAsync();
        return await late;
    }

    [TestCaseSource(nameof(Levels))]
    public async Task Transactions_writing_different_records_never_fork_the_table_chain(IsolationLevel level)
    {
        var first = await LedgerAccount.InsertAsync(new Attrs { ["owner"] = "ann" });
        var second = await LedgerAccount.InsertAsync(new Attrs { ["owner"] = "bob" });

        var secondCommitted = await RaceAsync(
            session => LedgerAccount.GetAsync(session, first.Id),
            session => first.PostAsync(session, 10m, "first"),
            session => second.PostAsync(session, 5m, "second"),
            level
        );

        var report = await LedgerEvents.Log.VerifyHashChainAsync();
        Assert.That(report.FirstBreak, Is.Null, "honest writes verify");
        Assert.That(report.EventsChecked, Is.EqualTo(secondCommitted ? 4 : 3));
        Assert.That((await LedgerAccount.GetAsync(first.Id))!.Balance, Is.EqualTo(10m));
        Assert.That((await LedgerAccount.GetAsync(second.Id))!.Balance, Is.EqualTo(secondCommitted ? 5m : 0m));
        // PostgreSQL READ COMMITTED waits for the chain head and appends after it; a snapshot that cannot see the
        // first write is refused. SQLite's deferred transaction read before the other committed: refused too.
        Assert.That(secondCommitted, Is.EqualTo(Database == Db.Postgres && level == IsolationLevel.ReadCommitted));
    }

    [TestCaseSource(nameof(Levels))]
    public async Task Transactions_updating_one_record_lose_no_update(IsolationLevel level)
    {
        var counter = await Counter.InsertAsync(new Attrs { ["name"] = "hits" });

        var secondCommitted = await RaceAsync(
            session => Counter.GetAsync(session, counter.Id),
            session => counter.UpdateAsync(session, new Attrs { ["by"] = 1 }),
            session => new Counter { Id = counter.Id }.UpdateAsync(session, new Attrs { ["by"] = 1 }),
            level
        );

        Assert.That((await Counter.GetAsync(counter.Id))!.Value, Is.EqualTo(secondCommitted ? 2 : 1));
        Assert.That(
            (await Counter.AllEventsAsync(counter.Id)).Select(e => e.Seq),
            Is.EqualTo(secondCommitted ? new[] { 1L, 2L, 3L } : [1L, 2L])
        );
        Assert.That(secondCommitted, Is.EqualTo(Database == Db.Postgres && level == IsolationLevel.ReadCommitted));
    }

    /// <summary>
    /// A transaction read the record, then another writer committed: its write cannot go on top of a stale
    /// snapshot (SQLite at every level, PostgreSQL above READ COMMITTED) and is refused at once. SQLite's answer is
    /// immediate; waiting out the 30 s busy timeout first, as Microsoft.Data.Sqlite's retries would, helps nobody.
    /// </summary>
    [TestCaseSource(nameof(Levels))]
    public async Task A_write_on_a_stale_snapshot_is_refused_at_once_not_after_the_busy_timeout(IsolationLevel level)
    {
        var counter = await Counter.InsertAsync(new Attrs { ["name"] = "hits" });
        await using var connection = await OpenAsync();
        if (connection is SqliteConnection sqlite)
            Assert.That(sqlite.DefaultTimeout, Is.GreaterThanOrEqualTo(30), "the timeout not waited");
        await using var tx = await BeginAsync(connection, level);
        var session = new SpectorSession(connection, tx);
        Assert.That((await Counter.GetAsync(session, counter.Id))!.Value, Is.EqualTo(0), "the snapshot is taken");
        await counter.UpdateAsync(new Attrs { ["by"] = 1 });

        var clock = System.Diagnostics.Stopwatch.StartNew();
        var onTop = Database == Db.Postgres && level == IsolationLevel.ReadCommitted;
        if (onTop)
        {
            await new Counter { Id = counter.Id }.UpdateAsync(session, new Attrs { ["by"] = 1 });
            await tx.CommitAsync();
        }
        else
        {
            var refused = Assert.ThrowsAsync<SerializationFailureException>(() =>
                new Counter { Id = counter.Id }.UpdateAsync(session, new Attrs { ["by"] = 1 })
            );
            Assert.That(refused!.Message, Does.Contain("retry the whole transaction"));
            await tx.RollbackAsync();
        }
        Assert.That(clock.Elapsed, Is.LessThan(TimeSpan.FromSeconds(5)), "answered at once, not after the 30 s");
        Assert.That((await Counter.GetAsync(counter.Id))!.Value, Is.EqualTo(onTop ? 2 : 1), "none lost or half-done");
        Assert.That(
            (await Counter.AllEventsAsync(counter.Id)).Select(e => e.Seq),
            Is.EqualTo(onTop ? new[] { 1L, 2L, 3L } : [1L, 2L])
        );
    }

    /// <summary>
    /// A transaction that has read nothing yet writes while another holds the record. A deferred SQLite transaction
    /// takes the write lock before the write reads, so it waits for the other and appends on top, at every level;
    /// PostgreSQL does the same at READ COMMITTED and refuses above it (the snapshot predates the other's commit).
    /// </summary>
    [TestCaseSource(nameof(Levels))]
    public async Task A_transaction_that_read_nothing_waits_for_another_writer_then_appends(IsolationLevel level)
    {
        var counter = await Counter.InsertAsync(new Attrs { ["name"] = "hits" });
        await using var connectionA = await OpenAsync();
        await using var connectionB = await OpenAsync();
        await using var txA = await BeginAsync(connectionA, level);
        await using var txB = await BeginAsync(connectionB, level);
        await counter.UpdateAsync(new SpectorSession(connectionA, txA), new Attrs { ["by"] = 1 });
        var sessionB = new SpectorSession(connectionB, txB);
        var late = Task.Run(() => new Counter { Id = counter.Id }.UpdateAsync(sessionB, new Attrs { ["by"] = 1 }));
        await Task.Delay(300);
        Assert.That(late.IsCompleted, Is.False, "the second writer waits for the first");
        var clock = System.Diagnostics.Stopwatch.StartNew();
        await txA.CommitAsync();
        var onTop = Database == Db.Sqlite || level == IsolationLevel.ReadCommitted;
        if (onTop)
        {
            await late;
            await txB.CommitAsync();
        }
        else
        {
            Assert.ThrowsAsync<SerializationFailureException>(() => late);
            await txB.RollbackAsync();
        }
        Assert.That(clock.Elapsed, Is.LessThan(TimeSpan.FromSeconds(5)), "the wait ends with the other's commit");
        Assert.That((await Counter.GetAsync(counter.Id))!.Value, Is.EqualTo(onTop ? 2 : 1));
        Assert.That(
            (await Counter.AllEventsAsync(counter.Id)).Select(e => e.Seq),
            Is.EqualTo(onTop ? new[] { 1L, 2L, 3L } : [1L, 2L])
        );
    }

    [TestCaseSource(nameof(Levels))]
    public async Task A_transaction_alone_writes_at_any_level_and_its_rollback_leaves_nothing(IsolationLevel level)
    {
        var counter = await Counter.InsertAsync(new Attrs { ["name"] = "hits" });
        await using (var connection = await OpenAsync())
        {
            await using var tx = await BeginAsync(connection, level);
            var session = new SpectorSession(connection, tx);
            await counter.UpdateAsync(session, new Attrs { ["by"] = 2 });
            await counter.UpdateAsync(session, new Attrs { ["by"] = 3 });
            await tx.RollbackAsync();
        }
        var rolledBack = await Counter.GetVersionedAsync(counter.Id);
        Assert.That(
            (rolledBack!.Record.Value, rolledBack.Seq),
            Is.EqualTo((0, 1L)),
            "the head moved back with the rollback"
        );
        await using (var connection = await OpenAsync())
        {
            await using var tx = await BeginAsync(connection, level);
            var session = new SpectorSession(connection, tx);
            await counter.UpdateAsync(session, new Attrs { ["by"] = 2 });
            await counter.UpdateAsync(session, new Attrs { ["by"] = 3 });
            await tx.CommitAsync();
        }
        var versioned = await Counter.GetVersionedAsync(counter.Id);
        Assert.That((versioned!.Record.Value, versioned.Seq), Is.EqualTo((5, 3L)));
    }
}
