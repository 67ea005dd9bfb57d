namespace Spector.Tests;

/// <summary>Writers of one record queue on its head row: no conflict, no lost update, no gap, chains intact.</summary>
[TestFixture(Db.Sqlite)]
[TestFixture(Db.Postgres)]
public sealed class ContentionTests(Db db) : DatabaseTest(db)
{
    private const int Writers = 32;
    private const int Increments = 20;

    public enum Table
    {
        Unhashed,
        TableChain,
        RecordChain,
    }

    [TestCase(Table.Unhashed)]
    [TestCase(Table.TableChain)]
    [TestCase(Table.RecordChain)]
    public async Task Thirty_two_writers_of_one_record_queue_without_conflicts(Table table)
    {
        // Each writer holds its own stale copy: only the id matters.
        Func<Task> increment;
        Func<Task<decimal>> value;
        Func<Task<IReadOnlyList<StoredEvent>>> events;
        switch (table)
        {
            case Table.Unhashed:
                var counter = await Counter.InsertAsync(new Attrs { ["name"] = "hits" });
                increment = () => new Counter { Id = counter.Id }.UpdateAsync(new Attrs { ["by"] = 1 });
                value = async () => (await Counter.GetAsync(counter.Id))!.Value;
                events = () => Counter.AllEventsAsync(counter.Id);
                break;
            case Table.TableChain:
                var wallet = await Wallet.InsertAsync(new Attrs { ["owner"] = "ann" });
                increment = () => new Wallet { Id = wallet.Id }.DepositAsync(1m, "one");
                value = async () => (await Wallet.GetAsync(wallet.Id))!.Balance;
                events = () => Wallet.AllEventsAsync(wallet.Id);
                break;
            default:
                var receipt = await Receipt.InsertAsync(new Attrs { ["customer"] = "ann", ["total"] = 1000m });
                increment = () => new Receipt { Id = receipt.Id }.RefundAsync(1m);
                value = async () => (await Receipt.GetAsync(receipt.Id))!.Refunded;
                events = () => Receipt.AllEventsAsync(receipt.Id);
                break;
        }

        await Task.WhenAll(
            Enumerable
                .Range(0, Writers)
                .Select(_ =>
                    Task.Run(async () =>
                    {
                        for (var i = 0; i < Increments; i++)
                            await increment();
                    })
                )
        );

        Assert.That(await value(), Is.EqualTo(Writers * Increments));
        var stored = await events();
        Assert.That(stored.Count(e => e.Action is "update" or "deposit" or "refund"), Is.EqualTo(Writers * Increments));
        Assert.That(
            stored.Select(e => e.Seq),
            Is.EqualTo(Enumerable.Range(1, stored.Count).Select(i => (long)i)),
            "seq has no gap"
        );
        if (table == Table.TableChain)
            Assert.That((await LedgerEvents.Log.VerifyHashChainAsync()).FirstBreak, Is.Null);
        if (table == Table.RecordChain)
            Assert.That((await ReceiptEvents.Log.VerifyRecordChainAsync(stored[0].ParentId)).FirstBreak, Is.Null);
    }
}
