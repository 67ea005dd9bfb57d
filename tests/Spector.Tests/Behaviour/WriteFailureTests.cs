using System.Data;
using System.Globalization;
using Dapper;
using DocumentLinks;
using Microsoft.Data.Sqlite;

namespace Spector.Tests;

/// <summary>
/// A write can fail at every step: the handler, a hook, the database (a unique index, a trigger, a link), a stale
/// seq, a cancelled token. After each failure nothing of the write is stored, no transaction is left open, and the
/// next writes on the same store append at exactly the next seq with a valid chain.
/// </summary>
[TestFixture(Db.Sqlite)]
[TestFixture(Db.Postgres)]
public sealed class WriteFailureTests(Db db) : DatabaseTest(db)
{
    private static Attrs Opening(string owner) => new() { ["owner"] = owner };

    [Test]
    public async Task A_unique_index_refusing_an_update_stores_nothing_and_the_next_update_takes_the_next_seq()
    {
        await ExecuteRawAsync("CREATE UNIQUE INDEX \"ledger_owner_unique\" ON \"ledger_accounts\" (\"owner\")");
        var ann = await LedgerAccount.InsertAsync(Opening("Ann"));
        var bob = await LedgerAccount.InsertAsync(Opening("Bob"));
        bob = await bob.PostAsync(2m, "before");

        for (var i = 0; i < 3; i++)
            Assert.CatchAsync<System.Data.Common.DbException>(() => bob.UpdateAsync(Opening("Ann")));
        await AssertCleanAsync();

        bob = await bob.PostAsync(3m, "after");
        var stored = await LedgerAccount.GetVersionedAsync(bob.Id);
        Assert.That((stored!.Record.Owner, stored.Record.Balance, stored.Seq), Is.EqualTo(("Bob", 5m, 3L)));
        Assert.That(await CountAsync("ledger"), Is.EqualTo(4));
        Assert.That(await RowBalanceAsync(bob.Id), Is.EqualTo("5"));
        Assert.That((await LedgerAccount.GetAsync(ann.Id))!.Owner, Is.EqualTo("Ann"));
    }

    [Test]
    public async Task A_handler_that_throws_or_refuses_stores_nothing()
    {
        var counter = await Counter.InsertAsync(new Attrs { ["name"] = "c" });
        counter = await counter.UpdateAsync(new Attrs { ["by"] = 2 });

        // GetValue<int> on a string throws inside the handler, after the head row was locked.
        Assert.CatchAsync<Exception>(() => counter.UpdateAsync(new Attrs { ["by"] = "two" }));
        Assert.ThrowsAsync<ChangesetInvalidException>(() => counter.UpdateAsync(new Attrs { ["by"] = -5 }));
        await AssertCleanAsync();

        counter = await counter.UpdateAsync(new Attrs { ["by"] = 1 });
        var stored = await Counter.GetVersionedAsync(counter.Id);
        Assert.That((stored!.Record.Value, stored.Seq), Is.EqualTo((3, 3L)));
        Assert.That(await CountAsync("events"), Is.EqualTo(3));
        Assert.That(await CountAsync("counters", "\"value\" = 3"), Is.EqualTo(1));
    }

    [Test]
    public async Task Hooks_that_refuse_or_throw_store_nothing()
    {
        var ticket = await Ticket.InsertAsync(new Attrs { ["title"] = "Short" });
        Assert.ThrowsAsync<ChangesetInvalidException>(() =>
            Ticket.InsertAsync(new Attrs { ["title"] = "A title far too long for any slug" })
        );
        Assert.ThrowsAsync<ChangesetInvalidException>(() =>
            ticket.UpdateAsync(new Attrs { ["title"] = "A title far too long for any slug" })
        );
        var memo = await Memo.InsertAsync(new Attrs { ["title"] = "m" });
        // The PrepareEvent hook reads signed_by as a string: a number makes it throw inside the write.
        Assert.CatchAsync<Exception>(() => memo.UpdateAsync(new Attrs { ["signed_by"] = 7 }));
        await AssertCleanAsync();

        ticket = await ticket.UpdateAsync(new Attrs { ["title"] = "Second Title" });
        memo = await memo.UpdateAsync(new Attrs { ["title"] = "m2", ["signed_by"] = "ann" });
        Assert.That((await Ticket.GetVersionedAsync(ticket.Id))!.Seq, Is.EqualTo(2));
        Assert.That((await Memo.GetVersionedAsync(memo.Id))!.Seq, Is.EqualTo(2));
        Assert.That(await CountAsync("events"), Is.EqualTo(4));
        Assert.That(await CountAsync("tickets", "\"slug\" = 'second-title'"), Is.EqualTo(1));
        Assert.That(await CountAsync("tickets"), Is.EqualTo(1));
    }

    [Test]
    public async Task A_link_to_a_missing_event_stores_nothing_and_later_linked_writes_commit()
    {
        var doc = await Document.InsertAsync(new Attrs { ["title"] = "D", ["body"] = "v1" });
        var first = (await Document.AllEventsAsync(doc.Id))[0].Id;

        for (var i = 0; i < 3; i++)
            Assert.ThrowsAsync<InvalidLinkException>(() => doc.CommentAsync(Guid.CreateVersion7(), "to nowhere"));
        await AssertCleanAsync();

        doc = await doc.CommentAsync(first, "fine");
        doc = await doc.ReviseAsync("v2");
        Assert.ThrowsAsync<InvalidLinkException>(() => doc.CommentAsync(Guid.CreateVersion7(), "again"));
        await AssertCleanAsync();
        doc = await doc.ReviseAsync("v3");

        Assert.That((await Document.GetVersionedAsync(doc.Id))!.Seq, Is.EqualTo(4));
        Assert.That(await CountAsync("document_events"), Is.EqualTo(4));
        Assert.That(await CountAsync("document_links"), Is.EqualTo(3));
        Assert.That(await CountAsync("documents", "\"comments\" = 1 AND \"revision\" = 3"), Is.EqualTo(1));
    }

    [Test]
    public async Task Idempotency_twins_and_stale_seqs_store_one_event_each_and_leave_nothing_open()
    {
        var ann = await LedgerAccount.InsertAsync(Opening("Ann"));
        var results = await Task.WhenAll(
            Enumerable
                .Range(0, 16)
                .Select(_ => ann.PostAsync(4m, "once", options: new WriteOptions { IdempotencyKey = "k1" }))
        );
        Assert.That(results.Select(r => r.Balance), Is.All.EqualTo(4m));
        Assert.ThrowsAsync<IdempotencyKeyReusedException>(() =>
            ann.PostAsync(5m, "once", options: new WriteOptions { IdempotencyKey = "k1" })
        );
        var error = Assert.ThrowsAsync<ConcurrencyConflictException>(() =>
            ann.PostAsync(1m, "stale", options: new WriteOptions { ExpectedSeq = 1 })
        );
        Assert.That((error!.ExpectedSeq, error.ActualSeq), Is.EqualTo((1L, 2L)));
        await AssertCleanAsync();

        var inserts = await Task.WhenAll(
            Enumerable
                .Range(0, 16)
                .Select(_ => LedgerAccount.InsertAsync(Opening("Twin"), new WriteOptions { IdempotencyKey = "k2" }))
        );
        Assert.That(inserts.Select(r => r.Id).Distinct().Count(), Is.EqualTo(1));
        ann = await ann.PostAsync(1m, "next", options: new WriteOptions { ExpectedSeq = 2 });

        Assert.That((await LedgerAccount.GetVersionedAsync(ann.Id))!.Seq, Is.EqualTo(3));
        Assert.That(await CountAsync("ledger"), Is.EqualTo(4));
        Assert.That(await CountAsync("ledger_accounts"), Is.EqualTo(2));
        await AssertCleanAsync();
    }

    /// <summary>A keyed event is inserted by a command of its own before the rest of the write: when the rest
    /// fails, the key must go with it, so the same key later writes afresh.</summary>
    [Test]
    public async Task A_keyed_write_that_fails_after_its_event_row_leaves_its_key_free()
    {
        await ExecuteRawAsync("CREATE UNIQUE INDEX \"ledger_owner_unique\" ON \"ledger_accounts\" (\"owner\")");
        var ann = await LedgerAccount.InsertAsync(Opening("Ann"));
        var bob = await LedgerAccount.InsertAsync(Opening("Bob"));
        var key = new WriteOptions { IdempotencyKey = "retry-me" };
        var insertKey = new WriteOptions { IdempotencyKey = "insert-me" };
        Assert.CatchAsync<System.Data.Common.DbException>(() => bob.UpdateAsync(Opening("Ann"), key));
        Assert.CatchAsync<System.Data.Common.DbException>(() => LedgerAccount.InsertAsync(Opening("Ann"), insertKey));
        await AssertCleanAsync();
        Assert.That(await CountAsync("ledger", "\"idempotency_key\" IS NOT NULL"), Is.Zero);

        await ExecuteRawAsync("DROP INDEX \"ledger_owner_unique\"");
        bob = await bob.UpdateAsync(Opening("Ann"), key);
        var again = await bob.UpdateAsync(Opening("Ann"), key);
        var inserted = await LedgerAccount.InsertAsync(Opening("Ann"), insertKey);
        Assert.That(bob.Owner, Is.EqualTo("Ann"));
        Assert.That(again.Owner, Is.EqualTo("Ann"));
        Assert.That((await LedgerAccount.GetVersionedAsync(bob.Id))!.Seq, Is.EqualTo(2));
        Assert.That(inserted.Id, Is.Not.EqualTo(ann.Id));
        Assert.That(await CountAsync("ledger"), Is.EqualTo(4));
    }

    /// <summary>An enum column sends the user's row through Dapper on a command of its own, outside the kept ones:
    /// its failures must end the write's transaction as well.</summary>
    [Test]
    public async Task Failed_writes_of_rows_bound_through_Dapper_store_nothing_under_concurrency()
    {
        await ExecuteRawAsync("CREATE UNIQUE INDEX \"users_email_unique\" ON \"users\" (\"email\")");
        var ann = await User.InsertAsync(
            new Attrs
            {
                ["name"] = "Ann",
                ["email"] = "ann@x",
                ["plan"] = "Pro",
            }
        );
        await User.InsertAsync(new Attrs { ["name"] = "Bob", ["email"] = "bob@x" });
        var outcomes = await Task.WhenAll(
            Enumerable
                .Range(0, 24)
                .Select(async i =>
                {
                    await Task.Yield();
                    try
                    {
                        if (i % 3 == 0)
                            await ann.UpdateAsync(new Attrs { ["email"] = "bob@x" });
                        else if (i % 3 == 1)
                            await User.InsertAsync(new Attrs { ["name"] = "Dup", ["email"] = "ann@x" });
                        else
                            await ann.UpdateAsync(new Attrs { ["visits"] = i, ["balance"] = 1.10m });
                        return true;
                    }
                    catch (System.Data.Common.DbException)
                    {
                        return false;
                    }
                })
        );
        await AssertCleanAsync();
        Assert.That(outcomes.Count(ok => ok), Is.EqualTo(8));
        var stored = await User.GetVersionedAsync(ann.Id);
        Assert.That((stored!.Seq, stored.Record.Email, stored.Record.Plan), Is.EqualTo((9L, "ann@x", Plan.Pro)));
        Assert.That(await CountAsync("events"), Is.EqualTo(10));
        Assert.That(await CountAsync("users"), Is.EqualTo(2));
        Assert.That(await UserBalanceTextAsync(ann.Id), Is.EqualTo("1.10"));
    }

    [Test]
    public async Task A_refused_delete_stores_nothing_and_writes_to_a_deleted_record_leave_nothing_open()
    {
        await ExecuteRawAsync("CREATE TABLE \"keep_rows\" (\"on\" INTEGER NOT NULL)");
        await ExecuteRawAsync("INSERT INTO \"keep_rows\" VALUES (1)");
        if (Database == Db.Postgres)
        {
            await ExecuteRawAsync(
                """
                CREATE OR REPLACE FUNCTION keep_rows() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN
                  IF (SELECT "on" FROM keep_rows) = 1 THEN RAISE EXCEPTION 'delete refused by test'; END IF;
                  RETURN OLD;
                END $$
                """
            );
            await ExecuteRawAsync(
                "CREATE TRIGGER \"keep_rows\" BEFORE DELETE ON \"ledger_accounts\" "
                    + "FOR EACH ROW EXECUTE FUNCTION keep_rows()"
            );
        }
        else
        {
            await ExecuteRawAsync(
                "CREATE TRIGGER \"keep_rows\" BEFORE DELETE ON \"ledger_accounts\" "
                    + "WHEN (SELECT \"on\" FROM \"keep_rows\") = 1 "
                    + "BEGIN SELECT RAISE(ABORT, 'delete refused by test'); END"
            );
        }
        var ann = await LedgerAccount.InsertAsync(Opening("Ann"));
        ann = await ann.PostAsync(1m, "before");

        Assert.CatchAsync<System.Data.Common.DbException>(() => ann.DeleteAsync());
        await AssertCleanAsync();
        Assert.That((await LedgerAccount.GetVersionedAsync(ann.Id))!.Seq, Is.EqualTo(2));
        Assert.That(await CountAsync("ledger_accounts"), Is.EqualTo(1));

        await ExecuteRawAsync("UPDATE \"keep_rows\" SET \"on\" = 0");
        await ann.DeleteAsync();
        var gone = Assert.ThrowsAsync<RecordNotFoundException>(() => ann.PostAsync(1m, "after the delete"));
        Assert.That(gone!.WasDeleted, Is.True);
        Assert.ThrowsAsync<RecordNotFoundException>(() => ann.DeleteAsync());
        await AssertCleanAsync();
        Assert.That(await CountAsync("ledger"), Is.EqualTo(3));
        Assert.That(await CountAsync("ledger_accounts"), Is.Zero);
        var bob = await LedgerAccount.InsertAsync(Opening("Bob"));
        Assert.That((await LedgerAccount.GetVersionedAsync(bob.Id))!.Seq, Is.EqualTo(1));
    }

    [Test]
    public async Task A_cancelled_token_stores_nothing()
    {
        var ann = await LedgerAccount.InsertAsync(Opening("Ann"));
        using var cancelled = new CancellationTokenSource();
        cancelled.Cancel();

        Assert.CatchAsync<OperationCanceledException>(() =>
            ann.PostAsync(1m, "never", cancellationToken: cancelled.Token)
        );
        Assert.CatchAsync<OperationCanceledException>(() =>
            LedgerAccount.InsertAsync(Opening("Bob"), cancellationToken: cancelled.Token)
        );
        await AssertCleanAsync();

        ann = await ann.PostAsync(1m, "after");
        Assert.That((await LedgerAccount.GetVersionedAsync(ann.Id))!.Seq, Is.EqualTo(2));
        Assert.That(await CountAsync("ledger"), Is.EqualTo(2));
    }

    /// <summary>
    /// Tokens cancelled at random moments while writes run: a write either returns and is stored, or throws and
    /// stores nothing. A write that committed must not report a cancellation.
    /// </summary>
    [Test]
    public async Task Writes_cancelled_while_they_run_are_stored_exactly_when_they_return()
    {
        var ann = await LedgerAccount.InsertAsync(Opening("Ann"));
        var random = new Random(7);
        var tasks = Enumerable
            .Range(0, 32)
            .Select(async i =>
            {
                using var cancel = new CancellationTokenSource();
                var write = ann.PostAsync(1m, $"p{i}", cancellationToken: cancel.Token);
                if (i % 2 == 0)
                    cancel.CancelAfter(random.Next(0, 5));
                else
                    cancel.Cancel();
                try
                {
                    await write;
                    return true;
                }
                catch (OperationCanceledException)
                {
                    return false;
                }
            })
            .ToList();
        var succeeded = (await Task.WhenAll(tasks)).Count(ok => ok);
        await AssertCleanAsync();

        ann = await ann.PostAsync(0m, "last");
        var stored = await LedgerAccount.GetVersionedAsync(ann.Id);
        Assert.That(stored!.Seq, Is.EqualTo(1 + succeeded + 1), "exactly the writes that returned were stored");
        Assert.That(stored.Record.Balance, Is.EqualTo((decimal)succeeded));
        Assert.That(await RowBalanceAsync(ann.Id), Is.EqualTo(succeeded.ToString(CultureInfo.InvariantCulture)));
    }

    /// <summary>A trigger refuses the wallet row whenever its deposit count equals the value in a control table,
    /// so any write, savepoint-due or not, can be made to fail.</summary>
    [Test]
    public async Task Savepoint_due_writes_that_fail_store_nothing_and_the_savepoint_lands_on_the_retry()
    {
        await InstallWalletRefusalAsync();
        var wallet = await Wallet.InsertAsync(new Attrs { ["owner"] = "Ann" });
        var seq = 1L;
        for (var deposits = 1; deposits <= 23; deposits++)
        {
            await ExecuteRawAsync("UPDATE \"wallet_fail_at\" SET \"deposits\" = @deposits", new { deposits });
            Assert.CatchAsync<System.Data.Common.DbException>(() => wallet.DepositAsync(1m, $"refused {deposits}"));
            await AssertCleanAsync();
            await ExecuteRawAsync("UPDATE \"wallet_fail_at\" SET \"deposits\" = -1");
            wallet = await wallet.DepositAsync(1m, $"m{deposits}");
            var stored = await Wallet.GetVersionedAsync(wallet.Id);
            // A savepoint follows, in the same transaction, every event whose seq is a multiple of 10.
            seq += seq + 1 is var next && next % 10 == 0 ? 2 : 1;
            Assert.That((stored!.Seq, stored.Record.Deposits), Is.EqualTo((seq, deposits)));
        }
        Assert.That(seq, Is.EqualTo(26), "savepoints at 11 and 21");
        Assert.That(await CountAsync("ledger"), Is.EqualTo(seq));
        Assert.That(await CountAsync("ledger", "\"action\" = 4"), Is.EqualTo(2));
        var replayed = await Wallet.GetAsync(wallet.Id);
        Assert.That(replayed!.Memos, Is.EqualTo(Enumerable.Range(1, 23).Select(i => $"m{i}")));
        Assert.That(replayed.Balance, Is.EqualTo(23m));
    }

    /// <summary>The savepoint's own event row is refused (a trigger on the events table): the deposit that made it
    /// due is undone with it, and the next deposit lands the savepoint.</summary>
    [Test]
    public async Task A_refused_savepoint_row_undoes_the_event_that_made_it_due()
    {
        const string guard = "\"ledger_savepoint_guard\"";
        await ExecuteRawAsync($"CREATE TABLE {guard} (\"refuse\" INTEGER NOT NULL)");
        await ExecuteRawAsync($"INSERT INTO {guard} VALUES (1)");
        if (Database == Db.Postgres)
        {
            await ExecuteRawAsync(
                """
                CREATE OR REPLACE FUNCTION ledger_savepoint_guard() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN
                  IF NEW.action = 4 AND (SELECT refuse FROM ledger_savepoint_guard) = 1 THEN
                    RAISE EXCEPTION 'savepoint refused by test';
                  END IF;
                  RETURN NEW;
                END $$
                """
            );
            await ExecuteRawAsync(
                "CREATE TRIGGER \"ledger_savepoint_guard\" BEFORE INSERT ON \"ledger\" "
                    + "FOR EACH ROW EXECUTE FUNCTION ledger_savepoint_guard()"
            );
        }
        else
        {
            await ExecuteRawAsync(
                "CREATE TRIGGER \"ledger_savepoint_guard\" BEFORE INSERT ON \"ledger\" "
                    + "WHEN NEW.\"action\" = 4 AND (SELECT \"refuse\" FROM \"ledger_savepoint_guard\") = 1 "
                    + "BEGIN SELECT RAISE(ABORT, 'savepoint refused by test'); END"
            );
        }
        var wallet = await Wallet.InsertAsync(new Attrs { ["owner"] = "Ann" });
        for (var i = 1; i <= 8; i++)
            wallet = await wallet.DepositAsync(1m, $"m{i}");
        Assert.That((await Wallet.GetVersionedAsync(wallet.Id))!.Seq, Is.EqualTo(9));

        // Seq 10 makes a savepoint due; its row is refused, so seq 10 must not stay either.
        for (var i = 0; i < 3; i++)
            Assert.CatchAsync<System.Data.Common.DbException>(() => wallet.DepositAsync(1m, "refused"));
        await AssertCleanAsync();
        Assert.That((await Wallet.GetVersionedAsync(wallet.Id))!.Seq, Is.EqualTo(9));
        Assert.That(await CountAsync("ledger"), Is.EqualTo(9));
        Assert.That(await CountAsync("wallets", "\"deposits\" = 8"), Is.EqualTo(1));

        await ExecuteRawAsync($"UPDATE {guard} SET \"refuse\" = 0");
        wallet = await wallet.DepositAsync(1m, "m9");
        wallet = await wallet.DepositAsync(1m, "m10");
        var stored = await Wallet.GetVersionedAsync(wallet.Id);
        Assert.That((stored!.Seq, stored.Record.Deposits), Is.EqualTo((12L, 10)));
        Assert.That(await CountAsync("ledger", "\"action\" = 4"), Is.EqualTo(1));
        Assert.That((await Wallet.GetAsync(wallet.Id))!.Memos.Last(), Is.EqualTo("m10"));
    }

    /// <summary>Another connection holds SQLite's write lock for a while: the kept BEGIN IMMEDIATE waits for it,
    /// then every queued write lands.</summary>
    [Test]
    public async Task Writes_wait_for_a_foreign_write_lock_and_then_all_land()
    {
        var ann = await LedgerAccount.InsertAsync(Opening("Ann"));
        await using var connection = await OpenAsync();
        await using var tx = await connection.BeginTransactionAsync();
        // A lock on the heads of both databases' writers: SQLite's write lock, PostgreSQL's row lock on ann's head.
        await connection.ExecuteAsync(
            "UPDATE \"ledger_heads\" SET \"last_seq\" = \"last_seq\" WHERE 1 = 1",
            transaction: tx
        );
        var writes = Enumerable.Range(0, 16).Select(i => Task.Run(() => ann.PostAsync(1m, $"p{i}"))).ToList();
        await Task.Delay(300);
        Assert.That(writes.Count(w => w.IsCompleted), Is.Zero, "every write waits for the lock");
        await tx.CommitAsync();
        await Task.WhenAll(writes);
        await AssertCleanAsync();
        var stored = await LedgerAccount.GetVersionedAsync(ann.Id);
        Assert.That((stored!.Seq, stored.Record.Balance), Is.EqualTo((17L, 16m)));
    }

    private async Task InstallWalletRefusalAsync()
    {
        if (Database == Db.Postgres)
        {
            await ExecuteRawAsync("DROP TABLE IF EXISTS \"wallet_fail_at\"");
            await ExecuteRawAsync("CREATE TABLE \"wallet_fail_at\" (\"deposits\" integer NOT NULL)");
            await ExecuteRawAsync(
                """
                CREATE OR REPLACE FUNCTION wallet_refuse() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN
                  IF NEW.deposits = (SELECT deposits FROM wallet_fail_at) THEN
                    RAISE EXCEPTION 'refused by test';
                  END IF;
                  RETURN NEW;
                END $$
                """
            );
            await ExecuteRawAsync(
                "CREATE TRIGGER \"wallet_refuse\" BEFORE INSERT OR UPDATE ON \"wallets\" "
                    + "FOR EACH ROW EXECUTE FUNCTION wallet_refuse()"
            );
        }
        else
        {
            await ExecuteRawAsync("CREATE TABLE \"wallet_fail_at\" (\"deposits\" INTEGER NOT NULL)");
            foreach (var when in new[] { "INSERT", "UPDATE" })
                await ExecuteRawAsync(
                    $"CREATE TRIGGER \"wallet_refuse_{when}\" BEFORE {when} ON \"wallets\" "
                        + "WHEN NEW.\"deposits\" = (SELECT \"deposits\" FROM \"wallet_fail_at\") "
                        + "BEGIN SELECT RAISE(ABORT, 'refused by test'); END"
                );
        }
        await ExecuteRawAsync("INSERT INTO \"wallet_fail_at\" VALUES (-1)");
    }

    /// <summary>
    /// A deferred foreign key, broken by a trigger on the record table, fails the COMMIT itself: the statement the
    /// write's last command ends with. SQLite leaves the transaction open after such a COMMIT, PostgreSQL ends it.
    /// </summary>
    [Test]
    public async Task A_write_whose_commit_itself_fails_stores_nothing_and_leaves_nothing_open()
    {
        await InstallCommitGuardAsync();
        var ann = await LedgerAccount.InsertAsync(Opening("Ann"));
        ann = await ann.PostAsync(1m, "before");

        for (var i = 0; i < 3; i++)
        {
            Assert.CatchAsync<System.Data.Common.DbException>(() =>
                ann.UpdateAsync(new Attrs { ["note"] = "fail at commit" })
            );
            Assert.CatchAsync<System.Data.Common.DbException>(() =>
                LedgerAccount.InsertAsync(new Attrs { ["owner"] = "Bob", ["note"] = "fail at commit" })
            );
            await AssertCleanAsync();
            ann = await ann.PostAsync(1m, $"after {i}");
        }

        var stored = await LedgerAccount.GetVersionedAsync(ann.Id);
        Assert.That((stored!.Seq, stored.Record.Balance, stored.Record.Note), Is.EqualTo((5L, 4m, (string?)null)));
        Assert.That(await CountAsync("ledger"), Is.EqualTo(5));
        Assert.That(await CountAsync("ledger_accounts"), Is.EqualTo(1));
        Assert.That(await CountAsync("commit_guard"), Is.Zero);
    }

    private async Task InstallCommitGuardAsync()
    {
        if (Database == Db.Postgres)
        {
            await ExecuteRawAsync("DROP TABLE IF EXISTS \"commit_guard\", \"commit_parent\" CASCADE");
            await ExecuteRawAsync("CREATE TABLE \"commit_parent\" (\"id\" text PRIMARY KEY)");
            await ExecuteRawAsync(
                "CREATE TABLE \"commit_guard\" (\"ref\" text REFERENCES \"commit_parent\" (\"id\") "
                    + "DEFERRABLE INITIALLY DEFERRED)"
            );
            await ExecuteRawAsync(
                """
                CREATE OR REPLACE FUNCTION commit_guard() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN
                  IF NEW.note = 'fail at commit' THEN
                    INSERT INTO commit_guard VALUES ('missing');
                  END IF;
                  RETURN NEW;
                END $$
                """
            );
            await ExecuteRawAsync(
                "CREATE TRIGGER \"commit_guard\" AFTER INSERT OR UPDATE ON \"ledger_accounts\" "
                    + "FOR EACH ROW EXECUTE FUNCTION commit_guard()"
            );
            return;
        }
        await ExecuteRawAsync("CREATE TABLE \"commit_parent\" (\"id\" TEXT PRIMARY KEY)");
        await ExecuteRawAsync(
            "CREATE TABLE \"commit_guard\" (\"ref\" TEXT REFERENCES \"commit_parent\" (\"id\") "
                + "DEFERRABLE INITIALLY DEFERRED)"
        );
        foreach (var when in new[] { "INSERT", "UPDATE" })
            await ExecuteRawAsync(
                $"CREATE TRIGGER \"commit_guard_{when}\" AFTER {when} ON \"ledger_accounts\" "
                    + "WHEN NEW.\"note\" = 'fail at commit' "
                    + "BEGIN INSERT INTO \"commit_guard\" VALUES ('missing'); END"
            );
    }

    [Test]
    public async Task A_replay_that_fails_on_a_corrupt_event_stores_nothing_and_other_records_still_write()
    {
        var ann = await LedgerAccount.InsertAsync(Opening("Ann"));
        ann = await ann.PostAsync(1m, "ok");
        var bob = await LedgerAccount.InsertAsync(Opening("Bob"));
        await DropAppendOnlyTriggersAsync("ledger");
        var corrupt = Database == Db.Postgres ? "'{\"amount\": []}'::jsonb" : "'{\"amount\": []}'";
        await ExecuteRawAsync(
            $"UPDATE \"ledger\" SET \"payload\" = {corrupt} WHERE \"parent_id\" = @id AND \"seq\" = 2",
            new { id = IdArg(ann.Id) }
        );

        for (var i = 0; i < 3; i++)
            Assert.CatchAsync<SpectorException>(() => ann.PostAsync(1m, "replays the corrupt event"));
        Assert.That(await NoTransactionLeftOpenAsync(), Is.True);

        bob = await bob.PostAsync(2m, "other record");
        Assert.That((await LedgerAccount.GetVersionedAsync(bob.Id))!.Seq, Is.EqualTo(2));
        Assert.That(await CountAsync("ledger"), Is.EqualTo(4));
    }

    /// <summary>32 writers on one record and across records, a third of them failing in different ways.</summary>
    [Test]
    public async Task Concurrent_writers_mixing_failures_and_successes_end_in_the_exact_state()
    {
        await ExecuteRawAsync("CREATE UNIQUE INDEX \"ledger_owner_unique\" ON \"ledger_accounts\" (\"owner\")");
        var ann = await LedgerAccount.InsertAsync(Opening("Ann"));
        var bob = await LedgerAccount.InsertAsync(Opening("Bob"));
        var kinds = new int[32];
        var tasks = Enumerable
            .Range(0, 32)
            .Select(async i =>
            {
                await Task.Yield();
                var target = i % 4 == 3 ? bob : ann;
                try
                {
                    switch (i % 8)
                    {
                        case 0:
                            await target.UpdateAsync(Opening("Bob")); // unique index
                            break;
                        case 1:
                            await target.UpdateAsync(new Attrs { ["owner"] = "" }); // refused by the handler
                            break;
                        case 2:
                            await target.PostAsync(1m, "stale", options: new WriteOptions { ExpectedSeq = 99 });
                            break;
                        case 5:
                            await LedgerAccount.InsertAsync(Opening("Ann")); // unique index
                            break;
                        default:
                            await target.PostAsync(1m, $"p{i}");
                            break;
                    }
                    kinds[i] = 1;
                }
                catch (Exception e) when (e is SpectorException or System.Data.Common.DbException)
                {
                    kinds[i] = -1;
                }
            });
        await Task.WhenAll(tasks);
        await AssertCleanAsync();

        // By i % 8: 0, 1, 2 and 5 fail (unique index, handler, stale seq, duplicate insert); 4 and 6 post to Ann,
        // 3 and 7 to Bob.
        var annPosts = Enumerable.Range(0, 32).Count(i => i % 8 is 4 or 6);
        var bobPosts = Enumerable.Range(0, 32).Count(i => i % 8 is 3 or 7);
        Assert.That(kinds.Count(k => k == 1), Is.EqualTo(annPosts + bobPosts));
        var annStored = await LedgerAccount.GetVersionedAsync(ann.Id);
        var bobStored = await LedgerAccount.GetVersionedAsync(bob.Id);
        Assert.That((annStored!.Seq, annStored.Record.Balance), Is.EqualTo((1L + annPosts, (decimal)annPosts)));
        Assert.That((bobStored!.Seq, bobStored.Record.Balance), Is.EqualTo((1L + bobPosts, (decimal)bobPosts)));
        Assert.That(await CountAsync("ledger"), Is.EqualTo(2 + annPosts + bobPosts));
        Assert.That(await CountAsync("ledger_accounts"), Is.EqualTo(2));
        Assert.That(await RowBalanceAsync(ann.Id), Is.EqualTo(annPosts.ToString(CultureInfo.InvariantCulture)));
        await AssertSeqsGapFreeAsync(ann.Id, bob.Id);

        ann = await ann.PostAsync(1m, "after");
        Assert.That((await LedgerAccount.GetVersionedAsync(ann.Id))!.Seq, Is.EqualTo(2L + annPosts));
    }

    [Test]
    public async Task A_store_disposed_while_its_writes_run_still_stores_every_write()
    {
        var store = StoreWith(new SpectorOptions());
        var ann = await LedgerAccount.InsertAsync(store, Opening("Ann"));
        var writes = Enumerable.Range(0, 24).Select(i => Task.Run(() => ann.PostAsync(store, 1m, $"p{i}"))).ToList();
        await Task.Delay(5);
        await store.DisposeAsync();
        var more = Enumerable.Range(0, 8).Select(i => ann.PostAsync(store, 1m, $"q{i}"));
        await Task.WhenAll(writes.Concat(more));
        await AssertCleanAsync();

        var stored = await LedgerAccount.GetVersionedAsync(ann.Id);
        Assert.That((stored!.Seq, stored.Record.Balance), Is.EqualTo((33L, 32m)));
        Assert.That(await RowBalanceAsync(ann.Id), Is.EqualTo("32"));
        await store.DisposeAsync();
    }

    /// <summary>An inline projection that counts posts and refuses the memo "boom"; own-transaction writes of
    /// another log on the same store run beside it.</summary>
    private sealed class PostCount() : Projection("post_count", LedgerEvents.Log)
    {
        public override IReadOnlyList<string> CreateSql(SqlDialect dialect) =>
            ["CREATE TABLE IF NOT EXISTS \"post_count\" (\"record_id\" TEXT NOT NULL, \"seq\" BIGINT NOT NULL)"];

        public override IReadOnlyList<string> ClearSql(SqlDialect dialect) => ["DELETE FROM \"post_count\""];

        public override async Task ApplyAsync(
            FollowedEvent followed,
            SpectorSession session,
            CancellationToken cancellationToken
        )
        {
            if (followed.Event.Action == "post" && followed.Event.ReadAttrs()["memo"]?.GetValue<string>() == "boom")
                throw new InvalidOperationException("boom");
            await session.Connection.ExecuteAsync(
                "INSERT INTO \"post_count\" (\"record_id\", \"seq\") VALUES (@id, @seq)",
                new { id = followed.Event.ParentId.ToString(), seq = followed.Event.Seq },
                session.Transaction
            );
        }
    }

    [Test]
    public async Task Inline_projections_and_own_transaction_writes_mixed_on_one_store_store_exactly_what_returned()
    {
        var ann = await LedgerAccount.InsertAsync(Opening("Ann"));
        var counter = await Counter.InsertAsync(new Attrs { ["name"] = "c" });
        var projection = new PostCount();
        if (Database == Db.Postgres)
            await ExecuteRawAsync("DROP TABLE IF EXISTS \"post_count\"");
        await projection.MigrateAsync();
        LedgerEvents.Log.AddInlineProjection(projection);
        int[] outcomes;
        try
        {
            outcomes = await Task.WhenAll(
                Enumerable
                    .Range(0, 24)
                    .Select(async i =>
                    {
                        await Task.Yield();
                        try
                        {
                            if (i % 3 == 0)
                                await counter.UpdateAsync(new Attrs { ["by"] = 1 });
                            else
                                await ann.PostAsync(1m, i % 3 == 1 ? "boom" : $"p{i}");
                            return i % 3 == 0 ? 0 : 1;
                        }
                        catch (InvalidOperationException)
                        {
                            return -1;
                        }
                    })
            );
        }
        finally
        {
            LedgerEvents.Log.RemoveInlineProjection(projection);
        }
        await AssertCleanAsync();
        Assert.That(outcomes.Count(o => o == -1), Is.EqualTo(8), "every boom failed, nothing else did");

        ann = await ann.PostAsync(1m, "boom");
        var stored = await LedgerAccount.GetVersionedAsync(ann.Id);
        Assert.That((stored!.Seq, stored.Record.Balance), Is.EqualTo((10L, 9m)));
        Assert.That((await Counter.GetVersionedAsync(counter.Id))!.Seq, Is.EqualTo(9));
        Assert.That(await CountAsync("counters", "\"value\" = 8"), Is.EqualTo(1));
        Assert.That(await CountAsync("post_count"), Is.EqualTo(8), "the projection saw the 8 stored posts only");
        await AssertSeqsGapFreeAsync(ann.Id);
    }

    /// <summary>An inline projection added and removed over and over while own-transaction writes run: a write
    /// that began without projections may find one when it appends.</summary>
    [Test]
    public async Task Inline_projections_toggled_while_writes_run_leave_every_write_whole()
    {
        var ann = await LedgerAccount.InsertAsync(Opening("Ann"));
        var projection = new PostCount();
        if (Database == Db.Postgres)
            await ExecuteRawAsync("DROP TABLE IF EXISTS \"post_count\"");
        await projection.MigrateAsync();
        using var stop = new CancellationTokenSource();
        var toggler = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                LedgerEvents.Log.AddInlineProjection(projection);
                await Task.Yield();
                LedgerEvents.Log.RemoveInlineProjection(projection);
                await Task.Yield();
            }
        });
        var writes = await Task.WhenAll(
            Enumerable
                .Range(0, 32)
                .Select(async i =>
                {
                    await Task.Yield();
                    try
                    {
                        await ann.PostAsync(1m, $"p{i}");
                        return 1;
                    }
                    catch (Exception e) when (e is not AssertionException)
                    {
                        TestContext.Out.WriteLine(e);
                        return 0;
                    }
                })
        );
        await stop.CancelAsync();
        await toggler;
        LedgerEvents.Log.RemoveInlineProjection(projection);
        await AssertCleanAsync();

        Assert.That(writes.Sum(), Is.EqualTo(32), "no write fails because a projection came or went");
        var stored = await LedgerAccount.GetVersionedAsync(ann.Id);
        Assert.That((stored!.Seq, stored.Record.Balance), Is.EqualTo((33L, 32m)));
        Assert.That(await CountAsync("post_count"), Is.LessThanOrEqualTo(32));
        await AssertSeqsGapFreeAsync(ann.Id);
    }

    /// <summary>
    /// The projection is added at the one moment a write passes between appending its event and applying inline
    /// projections (the appends counter's measurement runs there, synchronously): the write must either apply it in
    /// its transaction (and fail with it, storing nothing) or not apply it at all. It must never commit and then
    /// fail, nor run the projection outside its transaction.
    /// </summary>
    [Test]
    public async Task A_projection_added_while_a_write_appends_is_applied_in_its_transaction_or_not_at_all(
        [Values("p", "boom")] string memo,
        [Values] bool atTheAppend
    )
    {
        var ann = await LedgerAccount.InsertAsync(Opening("Ann"));
        var projection = new PostCount();
        if (Database == Db.Postgres)
            await ExecuteRawAsync("DROP TABLE IF EXISTS \"post_count\"");
        await projection.MigrateAsync();
        var armed = 1;
        using var listener = new System.Diagnostics.Metrics.MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            // Else at the write's first measurement tagged with the table: after it chose its transaction's form.
            if (
                instrument.Meter.Name == SpectorTelemetry.MeterName
                && (!atTheAppend || instrument.Name == "spector.events.appended")
            )
                l.EnableMeasurementEvents(instrument);
        };
        listener.SetMeasurementEventCallback<long>(
            (_, _, tags, _) =>
            {
                foreach (var tag in tags)
                    if (tag is { Key: "spector.table", Value: "ledger" } && Interlocked.Exchange(ref armed, 0) == 1)
                        LedgerEvents.Log.AddInlineProjection(projection);
            }
        );
        listener.Start();
        bool returned;
        try
        {
            await ann.PostAsync(1m, memo);
            returned = true;
        }
        catch (InvalidOperationException)
        {
            returned = false;
        }
        finally
        {
            listener.Dispose();
            LedgerEvents.Log.RemoveInlineProjection(projection);
        }
        Assert.That(armed, Is.Zero, "the projection was added mid-write");
        await AssertCleanAsync();

        var stored = (await LedgerAccount.GetVersionedAsync(ann.Id))!.Seq;
        var projected = await CountAsync("post_count");
        Assert.That(stored, Is.EqualTo(returned ? 2 : 1), "a write is stored exactly when it returns");
        Assert.That(projected, Is.EqualTo(0).Or.EqualTo(stored - 1), "the projection saw only a stored event");
    }

    /// <summary>A trigger makes the record write slow; the token is cancelled while it runs.</summary>
    [Test]
    public async Task A_token_cancelled_during_a_slow_statement_stores_the_write_exactly_when_it_returns()
    {
        if (Database == Db.Postgres)
        {
            await ExecuteRawAsync(
                """
                CREATE OR REPLACE FUNCTION ledger_slow() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN
                  IF NEW.note = 'slow' THEN PERFORM pg_sleep(0.3); END IF;
                  RETURN NEW;
                END $$
                """
            );
            await ExecuteRawAsync(
                "CREATE TRIGGER \"ledger_slow\" BEFORE INSERT OR UPDATE ON \"ledger_accounts\" "
                    + "FOR EACH ROW EXECUTE FUNCTION ledger_slow()"
            );
        }
        else
        {
            foreach (var when in new[] { "INSERT", "UPDATE" })
                await ExecuteRawAsync(
                    $"CREATE TRIGGER \"ledger_slow_{when}\" BEFORE {when} ON \"ledger_accounts\" "
                        + "WHEN NEW.\"note\" = 'slow' AND length(hex(randomblob(30000000))) < 0 "
                        + "BEGIN SELECT 1; END"
                );
        }
        var ann = await LedgerAccount.InsertAsync(Opening("Ann"));
        var doc = await Document.InsertAsync(new Attrs { ["title"] = "D", ["body"] = "v1" });
        var returned = 0;
        for (var i = 0; i < 4; i++)
        {
            using var cancel = new CancellationTokenSource(TimeSpan.FromMilliseconds(60));
            var slowReturned = false;
            try
            {
                ann = await ann.UpdateAsync(new Attrs { ["note"] = "slow" }, cancellationToken: cancel.Token);
                slowReturned = true;
                returned++;
            }
            catch (OperationCanceledException) { }
            await AssertCleanAsync();
            Assert.That((await LedgerAccount.GetVersionedAsync(ann.Id))!.Seq, Is.EqualTo(1 + returned));
            Assert.That(await CountAsync("ledger_accounts", "\"note\" = 'slow'"), Is.EqualTo(slowReturned ? 1 : 0));
            ann = await ann.UpdateAsync(new Attrs { ["note"] = null });
            returned++;
            doc = await doc.ReviseAsync($"v{i + 2}");
        }
        Assert.That(await CountAsync("ledger"), Is.EqualTo(1 + returned));
        Assert.That(await CountAsync("document_links"), Is.EqualTo(4));
    }

    [Test]
    public async Task Caller_sessions_at_each_isolation_level_mixed_with_own_transaction_writes(
        [Values(IsolationLevel.ReadCommitted, IsolationLevel.RepeatableRead, IsolationLevel.Serializable)]
            IsolationLevel level
    )
    {
        await ExecuteRawAsync("CREATE UNIQUE INDEX \"ledger_owner_unique\" ON \"ledger_accounts\" (\"owner\")");
        var ann = await LedgerAccount.InsertAsync(Opening("Ann"));
        await LedgerAccount.InsertAsync(Opening("Bob"));
        var expectedSeq = 1L;
        for (var round = 0; round < 3; round++)
        {
            await using (var connection = await OpenAsync())
            await using (var tx = await connection.BeginTransactionAsync(level))
            {
                var session = new SpectorSession(connection, tx);
                await ann.PostAsync(session, 10m, "in session, rolled back");
                Assert.CatchAsync<System.Data.Common.DbException>(() => ann.UpdateAsync(session, Opening("Bob")));
                await tx.RollbackAsync();
            }
            ann = await ann.PostAsync(1m, "own");
            expectedSeq++;
            await using (var connection = await OpenAsync())
            await using (var tx = await connection.BeginTransactionAsync(level))
            {
                var session = new SpectorSession(connection, tx);
                Assert.CatchAsync<System.Data.Common.DbException>(() => ann.UpdateAsync(session, Opening("Bob")));
                ann = await ann.PostAsync(session, 2m, "in session, committed");
                await tx.CommitAsync();
            }
            expectedSeq++;
            Assert.ThrowsAsync<ChangesetInvalidException>(() => ann.UpdateAsync(Opening("")));
            await AssertCleanAsync();
            ann = await ann.PostAsync(1m, "own again");
            expectedSeq++;
        }
        var stored = await LedgerAccount.GetVersionedAsync(ann.Id);
        Assert.That((stored!.Seq, stored.Record.Balance), Is.EqualTo((expectedSeq, 12m)));
        Assert.That(await RowBalanceAsync(ann.Id), Is.EqualTo("12"));
        Assert.That(await CountAsync("ledger"), Is.EqualTo(expectedSeq + 1));
        await AssertSeqsGapFreeAsync(ann.Id);
    }

    [Test]
    public async Task Decimals_keep_their_invariant_text_under_a_comma_culture_with_and_without_Dapper_columns()
    {
        var previous = CultureInfo.CurrentCulture;
        CultureInfo.CurrentCulture = CultureInfo.GetCultureInfo("de-DE");
        try
        {
            var account = await LedgerAccount.InsertAsync(Opening("Ann"));
            account = await account.PostAsync(-1234.50m, "comma culture");
            Assert.That(await RowBalanceAsync(account.Id), Is.EqualTo("-1234.50"));

            // An enum column sends the user's row through Dapper: its decimal must keep its scale too.
            var user = await User.InsertAsync(
                new Attrs
                {
                    ["name"] = "Ann",
                    ["email"] = "a@x",
                    ["balance"] = 2.50m,
                    ["plan"] = "Pro",
                }
            );
            user = await user.UpdateAsync(new Attrs { ["balance"] = 0.10m });
            await using var connection = await OpenAsync();
            var text = await connection.QuerySingleAsync<string>(
                $"SELECT {TextOf("balance")} FROM \"users\" WHERE \"id\" = @id",
                new { id = IdArg(user.Id) }
            );
            Assert.That(text, Is.EqualTo("0.10"));
            Assert.That(
                (await User.GetAsync(user.Id))!.Balance.ToString(CultureInfo.InvariantCulture),
                Is.EqualTo("0.10")
            );
        }
        finally
        {
            CultureInfo.CurrentCulture = previous;
        }
    }

    [Test]
    public async Task Bring_up_keeps_a_decimal_s_scale_in_the_new_row()
    {
        await using (var connection = await OpenAsync())
        {
            var args = new DynamicParameters(new { id = IdArg(Guid.NewGuid()) });
            // As another tool would have written it: SQLite text, PostgreSQL numeric.
            args.Add("balance", Database == Db.Postgres ? 1.50m : "1.50");
            args.Add("at", Database == Db.Postgres ? DateTimeOffset.UnixEpoch : "2020-01-01T00:00:00.000000Z");
            await connection.ExecuteAsync(
                "INSERT INTO \"users\" (\"id\", \"name\", \"email\", \"age\", \"visits\", \"balance\", "
                    + "\"score\", \"active\", \"plan\", \"inserted_at\", \"updated_at\") "
                    + "VALUES (@id, 'Old', 'o@x', 0, 0, @balance, 0, @active, 'Pro', @at, @at)",
                AddActive(args)
            );
        }

        var user = (await User.BringUpAsync()).Single();

        Assert.That(await UserBalanceTextAsync(user.Id), Is.EqualTo("1.50"));
        Assert.That((await User.GetAsync(user.Id))!.Balance.ToString(CultureInfo.InvariantCulture), Is.EqualTo("1.50"));
        await ExecuteRawAsync("DELETE FROM \"users\"");
        Assert.That((await User.MaterializeAsync(user.Id)).Outcome, Is.EqualTo(MaterializeOutcome.Materialized));
        Assert.That(await UserBalanceTextAsync(user.Id), Is.EqualTo("1.50"), "materialized");
        await RecordTables.RebuildAsync(User.SpectorType);
        Assert.That(await UserBalanceTextAsync(user.Id), Is.EqualTo("1.50"), "rebuilt");
    }

    private static DynamicParameters AddActive(DynamicParameters args)
    {
        args.Add("active", true);
        return args;
    }

    private async Task<string> UserBalanceTextAsync(Guid id)
    {
        await using var connection = await OpenAsync();
        return await connection.QuerySingleAsync<string>(
            $"SELECT {TextOf("balance")} FROM \"users\" WHERE \"id\" = @id",
            new { id = IdArg(id) }
        );
    }

    [Test]
    public async Task A_failed_write_in_a_session_without_a_transaction_leaves_the_caller_s_connection_usable()
    {
        await ExecuteRawAsync("CREATE UNIQUE INDEX \"ledger_owner_unique\" ON \"ledger_accounts\" (\"owner\")");
        var ann = await LedgerAccount.InsertAsync(Opening("Ann"));
        await using var connection = await OpenAsync();
        var session = new SpectorSession(connection);
        var bob = await LedgerAccount.InsertAsync(session, Opening("Bob"));
        Assert.CatchAsync<System.Data.Common.DbException>(() => bob.UpdateAsync(session, Opening("Ann")));
        Assert.ThrowsAsync<ChangesetInvalidException>(() => bob.UpdateAsync(session, Opening("")));
        await AssertCleanAsync();

        bob = await bob.PostAsync(session, 1m, "session");
        ann = await ann.PostAsync(1m, "own");
        await using (var tx = await connection.BeginTransactionAsync())
        {
            bob = await bob.PostAsync(new SpectorSession(connection, tx), 1m, "caller's transaction");
            await tx.CommitAsync();
        }
        Assert.That((await LedgerAccount.GetVersionedAsync(bob.Id))!.Seq, Is.EqualTo(3));
        Assert.That((await LedgerAccount.GetVersionedAsync(ann.Id))!.Seq, Is.EqualTo(2));
        Assert.That(await CountAsync("ledger"), Is.EqualTo(5));
    }

    /// <summary>A caller's snapshot goes stale under an own-transaction write: its write is refused as a
    /// serialization failure, and the store's own writes go on at the exact next seq.</summary>
    [Test]
    public async Task A_stale_caller_snapshot_is_refused_while_own_transaction_writes_go_on()
    {
        var ann = await LedgerAccount.InsertAsync(Opening("Ann"));
        for (var round = 0; round < 3; round++)
        {
            await using var connection = await OpenAsync();
            await using var tx = connection is SqliteConnection sqlite
                ? sqlite.BeginTransaction(deferred: true)
                : await connection.BeginTransactionAsync(IsolationLevel.RepeatableRead);
            var session = new SpectorSession(connection, tx);
            Assert.That((await LedgerAccount.GetAsync(session, ann.Id))!.Balance, Is.EqualTo((decimal)round));

            ann = await ann.PostAsync(1m, $"own {round}");
            Assert.ThrowsAsync<SerializationFailureException>(() => ann.PostAsync(session, 100m, "stale"));
            await tx.RollbackAsync();
            await AssertCleanAsync();
        }
        ann = await ann.PostAsync(1m, "last");
        var stored = await LedgerAccount.GetVersionedAsync(ann.Id);
        Assert.That((stored!.Seq, stored.Record.Balance), Is.EqualTo((5L, 4m)));
        Assert.That(await RowBalanceAsync(ann.Id), Is.EqualTo("4"));
    }

    [Test]
    public async Task Decimals_written_in_a_caller_s_session_keep_their_text_too(
        [Values("1.50", "-0.10", "0.000")] string text
    )
    {
        var value = decimal.Parse(text, CultureInfo.InvariantCulture);
        var expected = value.ToString(CultureInfo.InvariantCulture);
        await using var connection = await OpenAsync();
        LedgerAccount account;
        await using (var tx = await connection.BeginTransactionAsync())
        {
            var session = new SpectorSession(connection, tx);
            account = await LedgerAccount.InsertAsync(session, Opening("Ann"));
            account = await account.PostAsync(session, value, "in a session");
            await tx.CommitAsync();
        }
        Assert.That(await RowBalanceAsync(account.Id), Is.EqualTo(expected), "a caller's transaction");
        account = await account.PostAsync(new SpectorSession(connection), value, "in a session without one");
        Assert.That(
            await RowBalanceAsync(account.Id),
            Is.EqualTo((value + value).ToString(CultureInfo.InvariantCulture)),
            "a session without a transaction"
        );
    }

    private static readonly decimal[] Decimals =
    [
        1.50m,
        1.500m,
        -0.10m,
        0.00m,
        100m,
        0.0000000000000000000000000001m,
        -0.0000000000000000000000000010m,
        1.0000000000000000000000000000m,
        7.9228162514264337593543950335m,
        decimal.MaxValue,
        decimal.MinValue,
        12345678901234.5678m,
    ];

    [Test]
    public async Task Decimals_keep_their_text_through_insert_update_rebuild_and_materialize(
        [ValueSource(nameof(Decimals))] decimal value
    )
    {
        var expected = value.ToString(CultureInfo.InvariantCulture);
        // The handler adds to 0m, which keeps the amount's scale.
        var account = await LedgerAccount.InsertAsync(Opening("Ann"));
        account = await account.PostAsync(value, "set");
        Assert.That(account.Balance.ToString(CultureInfo.InvariantCulture), Is.EqualTo(expected));
        Assert.That(await RowBalanceAsync(account.Id), Is.EqualTo(expected), "after the update");
        account = await account.UpdateAsync(new Attrs { ["note"] = "touched" });
        Assert.That(await RowBalanceAsync(account.Id), Is.EqualTo(expected), "after a second update");

        await RecordTables.RebuildAsync(LedgerAccount.SpectorType);
        Assert.That(await RowBalanceAsync(account.Id), Is.EqualTo(expected), "after a rebuild");

        await ExecuteRawAsync("DELETE FROM \"ledger_accounts\"");
        var materialized = await LedgerAccount.MaterializeAsync(account.Id);
        Assert.That(materialized.Outcome, Is.EqualTo(MaterializeOutcome.Materialized));
        Assert.That(await RowBalanceAsync(account.Id), Is.EqualTo(expected), "after materialize");

        var replayed = await LedgerAccount.GetAsync(account.Id);
        Assert.That(replayed!.Balance.ToString(CultureInfo.InvariantCulture), Is.EqualTo(expected), "replay");
        await using var connection = await OpenAsync();
        var read = await connection.QuerySingleAsync<decimal>(
            "SELECT \"balance\" FROM \"ledger_accounts\" WHERE \"id\" = @id",
            new { id = IdArg(account.Id) }
        );
        Assert.That(read, Is.EqualTo(value), "the column reads back as the same decimal");
    }

    [Test]
    public async Task A_decimal_inserted_in_a_record_row_keeps_its_scale()
    {
        var wallet = await Wallet.InsertAsync(
            new Attrs
            {
                ["owner"] = "Ann",
                ["balance"] = 2.50m,
                ["deposits"] = 0,
            }
        );
        await using var connection = await OpenAsync();
        var text = await connection.QuerySingleAsync<string>(
            $"SELECT {TextOf("balance")} FROM \"wallets\" WHERE \"id\" = @id",
            new { id = IdArg(wallet.Id) }
        );
        Assert.That(text, Is.EqualTo("2.50"));
    }

    // SQLite stores ids as upper-case hyphenated text.
    private object IdArg(Guid id) => Database == Db.Postgres ? id : id.ToString().ToUpperInvariant();

    private string TextOf(string column) =>
        Database == Db.Postgres ? $"\"{column}\"::text" : $"CAST(\"{column}\" AS TEXT)";

    private async Task<string> RowBalanceAsync(Guid id)
    {
        await using var connection = await OpenAsync();
        return await connection.QuerySingleAsync<string>(
            $"SELECT {TextOf("balance")} FROM \"ledger_accounts\" WHERE \"id\" = @id",
            new { id = IdArg(id) }
        );
    }

    private async Task AssertSeqsGapFreeAsync(params Guid[] ids)
    {
        foreach (var id in ids)
        {
            var seqs = (await LedgerAccount.AllEventsAsync(id)).Select(e => e.Seq).ToList();
            Assert.That(seqs, Is.EqualTo(Enumerable.Range(1, seqs.Count).Select(s => (long)s)), $"seqs of {id}");
        }
    }

    /// <summary>No transaction is left open and every chain is valid.</summary>
    private async Task AssertCleanAsync()
    {
        Assert.That(await NoTransactionLeftOpenAsync(), Is.True, "a failed write left a transaction open");
        foreach (var log in new[] { LedgerEvents.Log })
            Assert.That((await log.VerifyHashChainAsync()).IsValid, Is.True, "the chain is valid");
    }
}

/// <summary>A SQLite file deleted under a store with kept connections, written before it is migrated again.</summary>
public sealed class SqliteWriteFailureTests() : DatabaseTest(Db.Sqlite)
{
    [Test]
    public async Task Writes_to_a_deleted_file_fail_until_it_is_migrated_then_land_in_the_new_file()
    {
        var ann = await LedgerAccount.InsertAsync(new Attrs { ["owner"] = "Ann" });
        await Task.WhenAll(Enumerable.Range(0, 8).Select(i => ann.PostAsync(1m, $"p{i}")));

        SqliteConnection.ClearAllPools();
        foreach (var suffix in new[] { "", "-wal", "-shm" })
            File.Delete(SqliteFile + suffix);
        // The new, empty file has no tables: the write fails and must not leave its connection in a transaction.
        Assert.CatchAsync<SqliteException>(() => LedgerAccount.InsertAsync(new Attrs { ["owner"] = "Lost" }));
        Assert.CatchAsync<Exception>(() => ann.PostAsync(1m, "to a record that is gone"));
        await LedgerEvents.Log.MigrateUpAsync();
        var bob = await LedgerAccount.InsertAsync(new Attrs { ["owner"] = "Bob" });
        bob = (await Task.WhenAll(Enumerable.Range(0, 8).Select(i => bob.PostAsync(1m, $"q{i}")))).Last();

        await using var connection = new SqliteConnection($"Data Source={SqliteFile}");
        await connection.OpenAsync();
        Assert.That(await connection.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM \"ledger\""), Is.EqualTo(9));
        Assert.That(
            await connection.QueryAsync<string>("SELECT \"owner\" FROM \"ledger_accounts\""),
            Is.EqualTo(new[] { "Bob" })
        );
        Assert.That((await LedgerAccount.GetVersionedAsync(bob.Id))!.Seq, Is.EqualTo(9));
        Assert.That((await LedgerEvents.Log.VerifyHashChainAsync()).IsValid, Is.True);
        await connection.ExecuteAsync("PRAGMA busy_timeout = 0");
        await connection.ExecuteAsync("BEGIN IMMEDIATE; ROLLBACK;");
    }

    [Test]
    public async Task A_store_disposed_while_writes_run_closes_every_connection_once_they_end()
    {
        var store = StoreWith(new SpectorOptions());
        var ann = await LedgerAccount.InsertAsync(store, new Attrs { ["owner"] = "Ann" });
        var writes = Enumerable.Range(0, 24).Select(i => Task.Run(() => ann.PostAsync(store, 1m, $"p{i}"))).ToList();
        await Task.Delay(2);
        await store.DisposeAsync();
        await Task.WhenAll(writes);

        foreach (var log in AllLogs)
            await log.Store.DisposeAsync();
        SqliteConnection.ClearAllPools();
        Assert.That(File.Exists(SqliteFile + "-wal"), Is.False, "a connection returned after disposal was closed");
    }
}
