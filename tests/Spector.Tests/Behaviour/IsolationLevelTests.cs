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
    private static readonly IsolationLevel[] Levels = [IsolationLevel.ReadCommitted, IsolationLevel.RepeatableRead, IsolationLevel.Serializable];

    /// <summary>SQLite's transactions are serializable at every level; deferred ones read a snapshot before they write, like PostgreSQL's.</summary>
    private static async Task<DbTransaction> BeginAsync(DbConnection connection, IsolationLevel level) =>
        connection is SqliteConnection sqlite ? sqlite.BeginTransaction(level, deferred: true) : await connection.BeginTransactionAsync(level);

    /// <summary>
    /// Two transactions take their snapshots, then write: the first commits while the second waits for it. The
    /// second either commits on top (READ COMMITTED on PostgreSQL) or is refused with the typed error.
    /// </summary>
    private async Task<bool> RaceAsync(Func<SpectorSession, Task> read, Func<SpectorSession, Task> first, Func<SpectorSession, Task> second,
        IsolationLevel level)
    {
        await using var connectionA = await OpenAsync();
        // A stale SQLite snapshot cannot be fixed by waiting: give up after a second instead of the default 30.
        await using var connectionB = await OpenImpatientAsync(1);
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
            level);

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
            level);

        Assert.That((await Counter.GetAsync(counter.Id))!.Value, Is.EqualTo(secondCommitted ? 2 : 1));
        Assert.That((await Counter.AllEventsAsync(counter.Id)).Select(e => e.Seq), Is.EqualTo(secondCommitted ? new[] { 1L, 2L, 3L } : [1L, 2L]));
        Assert.That(secondCommitted, Is.EqualTo(Database == Db.Postgres && level == IsolationLevel.ReadCommitted));
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
        Assert.That((rolledBack!.Record.Value, rolledBack.Seq), Is.EqualTo((0, 1L)), "the head moved back with the rollback");
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
