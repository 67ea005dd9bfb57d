using Dapper;

namespace Spector.Tests;

[TestFixture(Db.Sqlite)]
[TestFixture(Db.Postgres)]
public sealed class SavepointTests(Db db) : DatabaseTest(db)
{
    private async Task<Wallet> WalletWithDepositsAsync(int deposits)
    {
        var wallet = await Wallet.InsertAsync(new Attrs { ["owner"] = "Ann" });
        for (var i = 1; i <= deposits; i++)
            wallet = await wallet.DepositAsync(i, $"d{i}");
        return wallet;
    }

    [Test]
    public async Task A_savepoint_is_a_hashed_event_and_replay_starts_from_it()
    {
        var wallet = await WalletWithDepositsAsync(3);
        var saved = await wallet.SavepointAsync();
        await saved.DepositAsync(100m, "after");

        var events = await Wallet.AllEventsAsync(wallet.Id);
        Assert.That(
            events.Select(e => e.Action),
            Is.EqualTo(new[] { "insert", "deposit", "deposit", "deposit", "savepoint", "deposit" })
        );
        Assert.That(events[4].ReadAttrs().Get<decimal>("balance"), Is.EqualTo(6m));
        Assert.That(
            (await LedgerEvents.Log.VerifyHashChainAsync()).IsValid,
            Is.True,
            "savepoints are hashed like any event"
        );

        // Break an event before the savepoint: replay never reads it, a full replay does.
        await ExecuteRawAsync(
            Database == Db.Postgres
                ? "ALTER TABLE \"ledger\" DISABLE TRIGGER USER"
                : "DROP TRIGGER \"ledger_no_update\""
        );
        await ExecuteRawAsync(
            Database == Db.Postgres
                ? "UPDATE \"ledger\" SET \"payload\" = jsonb_set(\"payload\", '{amount}', '\"lots\"') "
                    + "WHERE \"parent_id\" = @id AND \"seq\" = 2"
                : "UPDATE \"ledger\" SET \"payload\" = json_set(\"payload\", '$.amount', 'lots') "
                    + "WHERE \"parent_id\" = @id AND \"seq\" = 2",
            new { id = wallet.Id }
        );

        var replayed = await Wallet.GetAsync(wallet.Id);
        Assert.That(replayed!.Balance, Is.EqualTo(106m));
        Assert.That(replayed.Memos, Is.EqualTo(new[] { "d1", "d2", "d3", "after" }));
        Assert.ThrowsAsync<EventReplayException>(() => Wallet.VerifySavepointsAsync(wallet.Id));
    }

    [Test]
    public async Task Automatic_savepoints_keep_replay_short_and_history_intact()
    {
        var wallet = await WalletWithDepositsAsync(30);

        var events = await Wallet.AllEventsAsync(wallet.Id);
        Assert.That(
            events.Where(e => e.Action == "savepoint").Select(e => e.Seq),
            Is.EqualTo(new[] { 11L, 21L, 31L }),
            "after every event whose seq is a multiple of 10"
        );
        Assert.That(
            events.Select(e => e.Seq),
            Is.EqualTo(Enumerable.Range(1, 34).Select(i => (long)i)),
            "1 insert, 30 deposits, 3 savepoints"
        );
        var replayed = await Wallet.GetAsync(wallet.Id);
        Assert.That(replayed!.Balance, Is.EqualTo(Enumerable.Range(1, 30).Sum()));
        Assert.That(replayed.Deposits, Is.EqualTo(30));
        Assert.That(
            (await Wallet.GetAtAsync(wallet.Id, 15))!.Deposits,
            Is.EqualTo(13),
            "time travel uses the savepoint before seq 15"
        );
        Assert.That((await Wallet.GetAtAsync(wallet.Id, 5))!.Deposits, Is.EqualTo(4));
        var check = await Wallet.VerifySavepointsAsync(wallet.Id);
        Assert.That(check.IsValid, Is.True);
        Assert.That(check.SavepointsChecked, Is.EqualTo(3));
        Assert.That((await LedgerEvents.Log.VerifyHashChainAsync()).IsValid, Is.True);
        await using var connection = await OpenAsync();
        Assert.That(
            await connection.ExecuteScalarAsync<decimal>("SELECT \"balance\" FROM \"wallets\""),
            Is.EqualTo(465m)
        );
    }

    [Test]
    public async Task A_stale_record_is_refused()
    {
        var wallet = await WalletWithDepositsAsync(1);
        await new Wallet { Id = wallet.Id }.DepositAsync(5m, "elsewhere");

        var error = Assert.ThrowsAsync<StaleRecordException>(() => wallet.SavepointAsync());

        Assert.That(error!.Fields, Is.EquivalentTo(new[] { "balance", "deposits", "memos" }));
        Assert.That(error.RecordId, Is.EqualTo(wallet.Id));
        Assert.That((await Wallet.AllEventsAsync(wallet.Id)).Any(e => e.Action == "savepoint"), Is.False);
    }

    [Test]
    public async Task A_savepoint_that_would_not_restore_the_state_is_refused()
    {
        var leaky = await LeakyWallet.InsertAsync(new Attrs { ["owner"] = "Lee" });
        leaky = await leaky.DepositAsync(new Attrs());

        var error = Assert.ThrowsAsync<ChangesetInvalidException>(() => leaky.SavepointAsync());

        Assert.That(error!.Errors.Keys, Is.EqualTo(new[] { "deposits" }));
        Assert.That(await LeakyWallet.AllEventsAsync(leaky.Id), Has.Count.EqualTo(2));
    }

    [Test]
    public async Task Verification_names_every_savepoint_and_field_that_disagrees()
    {
        var wallet = await WalletWithDepositsAsync(21);
        var savepoints = (await Wallet.AllEventsAsync(wallet.Id)).Where(e => e.Action == "savepoint").ToList();
        await ExecuteRawAsync(
            Database == Db.Postgres
                ? "ALTER TABLE \"ledger\" DISABLE TRIGGER USER"
                : "DROP TRIGGER \"ledger_no_update\""
        );
        await ExecuteRawAsync(
            Database == Db.Postgres
                ? "UPDATE \"ledger\" SET \"payload\" = jsonb_set(\"payload\", '{balance}', '1') WHERE \"id\" = @id"
                : "UPDATE \"ledger\" SET \"payload\" = json_set(\"payload\", '$.balance', 1) WHERE \"id\" = @id",
            new { id = savepoints[1].Id }
        );

        var check = await Wallet.VerifySavepointsAsync(wallet.Id);

        Assert.That(check.IsValid, Is.False);
        Assert.That(check.SavepointsChecked, Is.EqualTo(2));
        var mismatch = check.Mismatches.Single();
        Assert.That(mismatch.SavepointEventId, Is.EqualTo(savepoints[1].Id));
        Assert.That(mismatch.Seq, Is.EqualTo(21));
        Assert.That(
            mismatch.Fields.Single(),
            Is.EqualTo(new FieldDifference("balance", "171", "1")),
            "deposits 1..18 came before it"
        );
    }

    [Test]
    public async Task A_deleted_record_has_no_savepoint()
    {
        var wallet = await WalletWithDepositsAsync(1);
        await wallet.DeleteAsync();

        Assert.ThrowsAsync<RecordNotFoundException>(() => wallet.SavepointAsync());
    }
}
