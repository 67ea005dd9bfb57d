namespace Spector.Tests;

/// <summary>
/// Verifying a busy chain again costs only what was appended since: the head an earlier verification returned
/// is checked in place and the chain continues from its hash.
/// </summary>
[TestFixture(Db.Sqlite)]
[TestFixture(Db.Postgres)]
public sealed class IncrementalVerificationTests(Db db) : DatabaseTest(db)
{
    private async Task<LedgerAccount> PostAsync(int count, LedgerAccount? account = null)
    {
        account ??= await LedgerAccount.InsertAsync(new Attrs { ["owner"] = "Ann" });
        for (var i = 0; i < count; i++)
            account = await account.PostAsync(i + 1, $"p{i}");
        return account;
    }

    [Test]
    public async Task Only_events_after_the_verified_head_are_read_and_the_head_moves_on()
    {
        var account = await PostAsync(2);
        var first = await LedgerEvents.Log.VerifyHashChainAsync();
        await PostAsync(3, account);

        var next = await LedgerEvents.Log.VerifyHashChainFromAsync(first.Head!);

        Assert.That(next.IsValid, Is.True);
        Assert.That(next.EventsChecked, Is.EqualTo(3));
        var full = await LedgerEvents.Log.VerifyHashChainAsync();
        Assert.That(next.Head, Is.EqualTo(full.Head), "the same head a full verification reaches");
        var nothingNew = await LedgerEvents.Log.VerifyHashChainFromAsync(next.Head!);
        Assert.That((nothingNew.IsValid, nothingNew.EventsChecked, nothingNew.Head), Is.EqualTo((true, 0L, next.Head)));
    }

    [Test]
    public async Task A_changed_event_after_the_head_is_a_hash_mismatch()
    {
        var account = await PostAsync(1);
        var head = (await LedgerEvents.Log.VerifyHashChainAsync()).Head!;
        await PostAsync(2, account);
        await DropAppendOnlyTriggersAsync("ledger");
        await ExecuteRawAsync(
            Database == Db.Postgres
                ? "UPDATE \"ledger\" SET \"payload\" = jsonb_set(\"payload\", '{amount}', '9') WHERE \"seq\" = 3"
                : "UPDATE \"ledger\" SET \"payload\" = json_set(\"payload\", '$.amount', 9) WHERE \"seq\" = 3"
        );

        var result = await LedgerEvents.Log.VerifyHashChainFromAsync(head);

        Assert.That(result.FirstBreak?.Kind, Is.EqualTo(ChainBreakKind.HashMismatch));
        Assert.That(result.FirstBreak!.LastGoodPosition, Is.EqualTo(head.Position));
    }

    [Test]
    public async Task A_head_that_is_gone_or_has_another_hash_is_reported_as_truncated()
    {
        await PostAsync(2);
        var head = (await LedgerEvents.Log.VerifyHashChainAsync()).Head!;
        var forged = head with { Hash = [.. head.Hash.Select(b => (byte)~b)] };

        var replaced = await LedgerEvents.Log.VerifyHashChainFromAsync(forged);
        var beyondTheEnd = await LedgerEvents.Log.VerifyHashChainFromAsync(
            head with
            {
                Position = head.Position + 100,
            }
        );

        Assert.That(replaced.FirstBreak?.Kind, Is.EqualTo(ChainBreakKind.Truncated));
        Assert.That(replaced.FirstBreak!.StoredHash, Is.EqualTo(head.Hash));
        Assert.That(beyondTheEnd.FirstBreak?.Kind, Is.EqualTo(ChainBreakKind.Truncated));
        Assert.That(beyondTheEnd.FirstBreak!.Message, Does.Contain("gone or has another hash"));
    }

    [Test]
    public void Per_record_chains_have_no_table_head_to_continue_from()
    {
        var error = Assert.ThrowsAsync<InvalidOperationException>(() =>
            ReceiptEvents.Log.VerifyHashChainFromAsync(new ChainHead(1, new byte[32]))
        );

        Assert.That(error!.Message, Does.Contain("VerifyRecordChainAsync"));
    }
}
