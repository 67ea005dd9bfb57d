using System.Security.Cryptography;
using Dapper;

namespace Spector.Tests;

/// <summary>
/// HashScope.Record: each record's events form their own chain from the genesis hash, in sequence order, with no
/// table-wide lock; verification finds a break in the record it belongs to and leaves other records' chains valid.
/// </summary>
[TestFixture(Db.Sqlite)]
[TestFixture(Db.Postgres)]
public sealed class RecordChainTests(Db db) : DatabaseTest(db)
{
    private static EventLog Receipts => ReceiptEvents.Log;

    private async Task<List<(long Position, long Seq, byte[] Hash)>> RowsOfAsync(Guid recordId)
    {
        await using var connection = await OpenAsync();
        return (
            await connection.QueryAsync<(long, long, byte[])>(
                "SELECT \"position\", \"seq\", \"hash\" FROM \"receipts\" "
                    + "WHERE \"parent_id\" = @recordId ORDER BY \"seq\"",
                new { recordId }
            )
        ).ToList();
    }

    [Test]
    public async Task Each_record_chains_from_the_genesis_hash_in_sequence_order()
    {
        var first = await Receipt.InsertAsync(new Attrs { ["customer"] = "Ann", ["total"] = 40m });
        var second = await Receipt.InsertAsync(new Attrs { ["customer"] = "Bo", ["total"] = 10m });
        await first.RefundAsync(5m);
        await second.UpdateAsync(new Attrs { ["total"] = 12m });
        await first.UpdateAsync(new Attrs { ["total"] = 45m });

        var events = await Receipts.EventsOfAsync(first.Id);
        var rows = await RowsOfAsync(first.Id);
        Assert.That(rows.Select(r => r.Seq), Is.EqualTo(new long[] { 1, 2, 3 }));
        // Interleaved with the other record's events, yet each hash chains onto the record's previous event.
        var previous = new byte[32];
        for (var i = 0; i < events.Count; i++)
        {
            var e = events[i];
            var envelope = EventHash.Envelope(
                e.Id,
                e.ParentId,
                e.Seq,
                e.Schema,
                e.ActionCode,
                e.InsertedAt,
                e.PayloadJson,
                e.MetadataJson
            );
            Assert.That(rows[i].Hash, Is.EqualTo(SHA256.HashData([.. previous, .. envelope])), $"seq {e.Seq}");
            previous = rows[i].Hash;
        }

        var table = await Receipts.VerifyHashChainAsync();
        Assert.That(table.IsValid, Is.True, table.FirstBreak?.Message);
        Assert.That(table.EventsChecked, Is.EqualTo(5));
        Assert.That(table.Head, Is.Null);

        var record = await Receipts.VerifyRecordChainAsync(first.Id);
        Assert.That(record.IsValid, Is.True, record.FirstBreak?.Message);
        Assert.That(record.EventsChecked, Is.EqualTo(3));
        Assert.That(record.Head, Is.EqualTo(new ChainHead(rows[^1].Position, rows[^1].Hash)));
        Assert.That(record.Table, Is.EqualTo("receipts"));
    }

    [Test]
    public async Task Concurrent_writers_keep_every_record_chain_whole_including_savepoints()
    {
        var shared = await Receipt.InsertAsync(new Attrs { ["customer"] = "shared", ["total"] = 100m });
        var own = new Guid[4];
        await Task.WhenAll(
            Enumerable
                .Range(0, 8)
                .Select(w =>
                    Task.Run(async () =>
                    {
                        if (w < 4)
                        {
                            var receipt = await Receipt.InsertAsync(
                                new Attrs { ["customer"] = $"writer {w}", ["total"] = 50m }
                            );
                            own[w] = receipt.Id;
                            for (var i = 0; i < 10; i++)
                                receipt = await receipt.RefundAsync(1m);
                        }
                        else
                        {
                            for (var i = 0; i < 10; i++)
                                await shared.RefundAsync(1m);
                        }
                    })
                )
        );

        var reloaded = await Receipt.GetAsync(shared.Id);
        Assert.That(reloaded!.Refunded, Is.EqualTo(40m));
        // 1 insert + 40 refunds, and a savepoint after every 4th event.
        var sharedRows = await RowsOfAsync(shared.Id);
        Assert.That(
            sharedRows.Select(r => r.Seq),
            Is.EqualTo(Enumerable.Range(1, sharedRows.Count).Select(i => (long)i))
        );
        Assert.That(
            await CountAsync(
                "receipts",
                "\"parent_id\" = @id AND \"action\" = @a",
                new { id = shared.Id, a = EventActions.Savepoint }
            ),
            Is.GreaterThanOrEqualTo(10)
        );

        var table = await Receipts.VerifyHashChainAsync();
        Assert.That(table.IsValid, Is.True, table.FirstBreak?.Message);
        Assert.That(table.EventsChecked, Is.EqualTo(await CountAsync("receipts")));
        foreach (var id in own.Append(shared.Id))
        {
            var record = await Receipts.VerifyRecordChainAsync(id);
            Assert.That(record.IsValid, Is.True, record.FirstBreak?.Message);
        }
    }

    [Test]
    public async Task A_changed_event_breaks_its_own_record_only()
    {
        var tampered = await Receipt.InsertAsync(new Attrs { ["customer"] = "Ann", ["total"] = 40m });
        await tampered.RefundAsync(5m);
        await tampered.RefundAsync(6m);
        var untouched = await Receipt.InsertAsync(new Attrs { ["customer"] = "Bo", ["total"] = 10m });
        await untouched.RefundAsync(1m);
        var rows = await RowsOfAsync(tampered.Id);
        await DropAppendOnlyTriggersAsync("receipts");

        await ExecuteRawAsync(
            Database == Db.Postgres
                ? "UPDATE \"receipts\" SET \"payload\" = jsonb_set(\"payload\", '{amount}', '500') "
                    + "WHERE \"parent_id\" = @id AND \"seq\" = 2"
                : "UPDATE \"receipts\" SET \"payload\" = json_set(\"payload\", '$.amount', 500) "
                    + "WHERE \"parent_id\" = @id AND \"seq\" = 2",
            new { id = tampered.Id }
        );

        var table = await Receipts.VerifyHashChainAsync();
        Assert.That(table.IsValid, Is.False);
        Assert.That(table.FirstBreak!.Kind, Is.EqualTo(ChainBreakKind.HashMismatch));
        Assert.That(table.FirstBreak.Position, Is.EqualTo(rows[1].Position));
        Assert.That(table.FirstBreak.LastGoodPosition, Is.EqualTo(rows[0].Position));
        Assert.That(table.FirstBreak.Message, Does.Contain(tampered.Id.ToString()).And.Contain("seq 2"));

        var record = await Receipts.VerifyRecordChainAsync(tampered.Id);
        Assert.That(record.FirstBreak!.Position, Is.EqualTo(rows[1].Position));
        Assert.That((await Receipts.VerifyRecordChainAsync(untouched.Id)).IsValid, Is.True);
    }

    [Test]
    public async Task A_removed_event_is_a_missing_row_and_a_removed_tail_is_caught_by_the_anchored_head()
    {
        var gap = await Receipt.InsertAsync(new Attrs { ["customer"] = "Ann", ["total"] = 40m });
        await gap.RefundAsync(1m);
        await gap.RefundAsync(2m);
        var tail = await Receipt.InsertAsync(new Attrs { ["customer"] = "Bo", ["total"] = 10m });
        await tail.RefundAsync(1m);
        var anchored = (await Receipts.VerifyRecordChainAsync(tail.Id)).Head!;
        var gapRows = await RowsOfAsync(gap.Id);
        await DropAppendOnlyTriggersAsync("receipts");

        await ExecuteRawAsync(
            "DELETE FROM \"receipts\" WHERE \"parent_id\" = @id AND \"seq\" = 2",
            new { id = gap.Id }
        );
        var missing = await Receipts.VerifyRecordChainAsync(gap.Id);
        Assert.That(missing.FirstBreak!.Kind, Is.EqualTo(ChainBreakKind.MissingRow));
        Assert.That(missing.FirstBreak.Position, Is.EqualTo(gapRows[2].Position));
        Assert.That(missing.FirstBreak.Message, Does.Contain("no seq 2"));

        await ExecuteRawAsync(
            "DELETE FROM \"receipts\" WHERE \"parent_id\" = @id AND \"seq\" = 2",
            new { id = tail.Id }
        );
        // Without the anchor a shortened record still chains; the anchored head says what is gone.
        Assert.That((await Receipts.VerifyRecordChainAsync(tail.Id)).IsValid, Is.True);
        var truncated = await Receipts.VerifyRecordChainAsync(tail.Id, anchored);
        Assert.That(truncated.FirstBreak!.Kind, Is.EqualTo(ChainBreakKind.Truncated));
        Assert.That(
            truncated.FirstBreak.Message,
            Does.Contain(tail.Id.ToString()).And.Contain($"position {anchored.Position}")
        );
    }

    [Test]
    public void Verifications_that_do_not_fit_the_scope_are_refused_clearly()
    {
        var tableHead = Assert.ThrowsAsync<ArgumentException>(() =>
            Receipts.VerifyHashChainAsync(new ChainHead(1, new byte[32]))
        );
        Assert.That(tableHead!.Message, Does.Contain("receipts").And.Contain("VerifyRecordChainAsync"));

        var tableScoped = Assert.ThrowsAsync<InvalidOperationException>(() =>
            LedgerEvents.Log.VerifyRecordChainAsync(Guid.NewGuid())
        );
        Assert.That(tableScoped!.Message, Does.Contain("ledger").And.Contain("HashScope.Record"));

        var unhashed = Assert.ThrowsAsync<InvalidOperationException>(() => Log.VerifyRecordChainAsync(Guid.NewGuid()));
        Assert.That(unhashed!.Message, Does.Contain("Hashed = true"));

        var declared = Assert.Throws<ArgumentException>(() =>
            new EventLog("plain", [], [], hashScope: HashScope.Record)
        );
        Assert.That(declared!.Message, Does.Contain("plain").And.Contain("Hashed = true"));
    }
}
