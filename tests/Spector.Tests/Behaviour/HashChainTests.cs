using System.Data.Common;
using System.Security.Cryptography;
using System.Text;
using Dapper;

namespace Spector.Tests;

[TestFixture(Db.Sqlite)]
[TestFixture(Db.Postgres)]
public sealed class HashChainTests(Db db) : DatabaseTest(db)
{
    private static EventLog Ledger => LedgerEvents.Log;

    [Test]
    public async Task Each_hash_is_sha256_of_the_previous_hash_and_the_canonical_envelope()
    {
        var account = await LedgerAccount.InsertAsync(new Attrs { ["owner"] = "Ann", ["note"] = "Zoë ✓ \"quoted\"" });
        await account.PostAsync(12.5m, "opening");

        await using var connection = await OpenAsync();
        var rows = (
            await connection.QueryAsync<(long Position, byte[] Hash)>(
                "SELECT \"position\", \"hash\" FROM \"ledger\" ORDER BY \"position\""
            )
        ).ToList();
        var events = await LedgerAccount.AllEventsAsync(account.Id);
        Assert.That(rows, Has.Count.EqualTo(2));

        var envelope =
            "{\"action\":1,\"id\":\""
            + account.Id
            + "\",\"inserted_at\":"
            + EventHash.Micros(events[0].InsertedAt)
            + ",\"links\":[],\"metadata\":null,\"parent_id\":\""
            + account.Id
            + "\",\"payload\":"
            + Encoding.UTF8.GetString(Jcs.Canonicalize(events[0].PayloadJson))
            + ",\"schema\":0,\"seq\":1,\"v\":1}";
        var expected = SHA256.HashData([.. new byte[32], .. Encoding.UTF8.GetBytes(envelope)]);
        Assert.That(rows[0].Hash, Is.EqualTo(expected));
        Assert.That(
            Encoding.UTF8.GetString(
                EventHash.Envelope(
                    events[0].Id,
                    events[0].ParentId,
                    1,
                    0,
                    1,
                    events[0].InsertedAt,
                    events[0].PayloadJson,
                    null
                )
            ),
            Is.EqualTo(envelope)
        );

        var report = await Ledger.VerifyHashChainAsync();
        Assert.That(report.IsValid, Is.True, report.FirstBreak?.Message);
        Assert.That(report.EventsChecked, Is.EqualTo(2));
        Assert.That(report.Head, Is.EqualTo(new ChainHead(rows[1].Position, rows[1].Hash)));
    }

    [Test]
    public async Task Updates_actions_and_deletes_are_chained_and_times_follow_positions()
    {
        var account = await LedgerAccount.InsertAsync(new Attrs { ["owner"] = "Bo" });
        await account.UpdateAsync(new Attrs { ["note"] = "vip" });
        await account.PostAsync(-3m, "fee");
        await account.DeleteAsync();

        var report = await Ledger.VerifyHashChainAsync();

        Assert.That(report.IsValid, Is.True, report.FirstBreak?.Message);
        Assert.That(report.EventsChecked, Is.EqualTo(4));
        var events = await Ledger.EventsOfAsync(account.Id);
        Assert.That(events.Select(e => e.InsertedAt), Is.Ordered);
    }

    [Test]
    public async Task Awkward_payloads_verify_after_a_round_trip_through_the_database()
    {
        var attrs = Attrs.Parse(
            """
            {
              "owner": "Zoë \u00e9\u0301 \ud83d\ude80 \u20ac \u05d3 \t\n\u0001 \"q\" \\ /",
              "deep": {"a": [{"b": {"c": [1, 2, {"d": [[[[["é"]]]]]}]}}], "z": {}, "y": []},
              "big": 9007199254740993,
              "bigger": 123456789012345678901234567890,
              "money": 123456789.123456789,
              "tiny": 1e-7,
              "huge": 1e300,
              "negative_zero": -0.0,
              "half": 0.5,
              "flags": [true, false, null]
            }
            """
        );

        var account = await LedgerAccount.InsertAsync(attrs);
        await account.PostAsync(0.1m, "ünïcødé ✓");

        var report = await Ledger.VerifyHashChainAsync();
        Assert.That(report.IsValid, Is.True, report.FirstBreak?.Message);
        Assert.That(report.EventsChecked, Is.EqualTo(2));
    }

    [Test]
    public async Task Verifying_a_table_that_is_not_hashed_is_a_clear_error()
    {
        var error = Assert.ThrowsAsync<InvalidOperationException>(() => Log.VerifyHashChainAsync());

        Assert.That(error!.Message, Does.Contain("events").And.Contain("Hashed = true"));
    }

    [Test]
    public async Task An_empty_chain_verifies_and_an_expected_head_detects_that_everything_is_gone()
    {
        var empty = await Ledger.VerifyHashChainAsync();
        Assert.That(empty.IsValid, Is.True);
        Assert.That(empty.Head, Is.Null);

        var report = await Ledger.VerifyHashChainAsync(new ChainHead(3, new byte[32]));
        Assert.That(report.FirstBreak!.Kind, Is.EqualTo(ChainBreakKind.Truncated));
    }

    /// <summary>
    /// One chain of 1,000+ events over many records, written by concurrent writers; each tampering is done the way an
    /// attacker with database access would (around the append-only triggers) inside a transaction that is rolled
    /// back afterwards, so every case starts from the same intact chain.
    /// </summary>
    [Test]
    public async Task The_tamper_matrix_reports_the_exact_first_break()
    {
        const int records = 40,
            eventsPerRecord = 25;
        var ids = new Guid[records];
        await Task.WhenAll(
            Enumerable
                .Range(0, 8)
                .Select(w =>
                    Task.Run(async () =>
                    {
                        for (var r = w; r < records; r += 8)
                        {
                            var account = await LedgerAccount.InsertAsync(
                                new Attrs { ["owner"] = $"owner {r}", ["note"] = "ünïcødé 🚀" }
                            );
                            ids[r] = account.Id;
                            for (var e = 1; e < eventsPerRecord; e++)
                                await account.PostAsync(e * 1.25m, $"memo {e}");
                        }
                    })
                )
        );

        var intact = await Ledger.VerifyHashChainAsync();
        Assert.That(intact.IsValid, Is.True, intact.FirstBreak?.Message);
        Assert.That(intact.EventsChecked, Is.EqualTo(records * eventsPerRecord));
        var head = intact.Head!;

        await using var connection = await OpenAsync();
        var positions = (
            await connection.QueryAsync<long>("SELECT \"position\" FROM \"ledger\" ORDER BY \"position\"")
        ).ToList();
        long At(int index) => positions[index];
        var pg = Database == Db.Postgres;

        await Case(
            "payload byte",
            At(500),
            ChainBreakKind.HashMismatch,
            pg
                ? "UPDATE \"ledger\" SET \"payload\" = jsonb_set(\"payload\", '{memo}', '\"memo x\"') "
                    + "WHERE \"position\" = @p"
                : "UPDATE \"ledger\" SET \"payload\" = json_set(\"payload\", '$.memo', 'memo x') "
                    + "WHERE \"position\" = @p"
        );
        await Case(
            "metadata value",
            At(501),
            ChainBreakKind.HashMismatch,
            pg
                ? "UPDATE \"ledger\" SET \"metadata\" = '{\"actor\":\"mallory\"}' WHERE \"position\" = @p"
                : "UPDATE \"ledger\" SET \"metadata\" = '{\"actor\":\"mallory\"}' WHERE \"position\" = @p"
        );
        await Case(
            "timestamp",
            At(502),
            ChainBreakKind.HashMismatch,
            pg
                ? "UPDATE \"ledger\" SET \"inserted_at\" = \"inserted_at\" + interval '1 microsecond' "
                    + "WHERE \"position\" = @p"
                : "UPDATE \"ledger\" SET \"inserted_at\" = \"inserted_at\" + 1 WHERE \"position\" = @p"
        );
        await Case(
            "parent id",
            At(503),
            ChainBreakKind.HashMismatch,
            "UPDATE \"ledger\" SET \"parent_id\" = @other WHERE \"position\" = @p"
        );
        await Case(
            "action code",
            At(504),
            ChainBreakKind.HashMismatch,
            "UPDATE \"ledger\" SET \"action\" = 2 WHERE \"position\" = @p"
        );
        await Case(
            "hash overwritten",
            At(505),
            ChainBreakKind.HashMismatch,
            "UPDATE \"ledger\" SET \"hash\" = @zeros WHERE \"position\" = @p"
        );
        await Case(
            "deleted row",
            At(601),
            ChainBreakKind.MissingRow,
            "DELETE FROM \"ledger\" WHERE \"position\" = @q",
            q: At(600)
        );
        await Case("swapped rows", At(700), ChainBreakKind.ReorderedRows, Swap(At(700), At(710)));
        await Case("forged row slipped in", At(801), ChainBreakKind.InsertedRow, SlipIn(At(800)));
        await Case(
            "payload of the first event",
            At(0),
            ChainBreakKind.HashMismatch,
            pg
                ? "UPDATE \"ledger\" SET \"payload\" = jsonb_set(\"payload\", '{owner}', '\"x\"') "
                    + "WHERE \"position\" = @p"
                : "UPDATE \"ledger\" SET \"payload\" = json_set(\"payload\", '$.owner', 'x') WHERE \"position\" = @p"
        );

        // Truncating the tail leaves a chain that verifies on its own; the anchored head catches it.
        await using (var tx = await connection.BeginTransactionAsync())
        {
            await Unlock(connection, tx);
            await connection.ExecuteAsync("DELETE FROM \"ledger\" WHERE \"position\" > @p", new { p = At(989) }, tx);
            var alone = await Ledger.VerifyHashChainAsync(new SpectorSession(connection, tx));
            var anchored = await Ledger.VerifyHashChainAsync(new SpectorSession(connection, tx), head);
            Assert.That(alone.IsValid, Is.True, "a truncated chain is still internally consistent");
            Assert.That(anchored.FirstBreak!.Kind, Is.EqualTo(ChainBreakKind.Truncated));
            Assert.That(anchored.FirstBreak.LastGoodPosition, Is.EqualTo(At(989)));
            await tx.RollbackAsync();
        }

        var after = await Ledger.VerifyHashChainAsync(head);
        Assert.That(after.IsValid, Is.True, "every tampering was rolled back");

        async Task Case(string name, long expectedPosition, ChainBreakKind expectedKind, string sql, long? q = null)
        {
            await using var tx = await connection.BeginTransactionAsync();
            await Unlock(connection, tx);
            foreach (var statement in sql.Split(";\n", StringSplitOptions.RemoveEmptyEntries))
                await connection.ExecuteAsync(
                    statement,
                    new
                    {
                        p = expectedPosition,
                        q,
                        other = Guid.NewGuid(),
                        zeros = new byte[32],
                    },
                    tx
                );
            var report = await Ledger.VerifyHashChainAsync(new SpectorSession(connection, tx));
            await tx.RollbackAsync();

            Assert.That(report.FirstBreak, Is.Not.Null, name);
            Assert.That(report.FirstBreak!.Position, Is.EqualTo(expectedPosition), name);
            Assert.That(report.FirstBreak.Kind, Is.EqualTo(expectedKind), $"{name}: {report.FirstBreak.Message}");
            var lastGood = positions.Where(x => x < expectedPosition && x != q).Select(x => (long?)x).LastOrDefault();
            Assert.That(report.FirstBreak.LastGoodPosition, Is.EqualTo(lastGood), name);
        }

        string Swap(long a, long b) =>
            pg
                ? $"""
                    ALTER TABLE "ledger" ALTER COLUMN "position" DROP IDENTITY;
                    UPDATE "ledger" SET "position" = -1 WHERE "position" = {a};
                    UPDATE "ledger" SET "position" = {a} WHERE "position" = {b};
                    UPDATE "ledger" SET "position" = {b} WHERE "position" = -1
                    """
                : $"""
                    UPDATE "ledger" SET "position" = -1 WHERE "position" = {a};
                    UPDATE "ledger" SET "position" = {a} WHERE "position" = {b};
                    UPDATE "ledger" SET "position" = {b} WHERE "position" = -1
                    """;

        // Makes room after position p by moving every later row up one, then inserts a forged event there.
        string SlipIn(long p) =>
            (pg ? "ALTER TABLE \"ledger\" ALTER COLUMN \"position\" DROP IDENTITY;\n" : "")
            + $"""
                UPDATE "ledger" SET "position" = -"position" - 1 WHERE "position" > {p};
                UPDATE "ledger" SET "position" = -"position" WHERE "position" < 0;
                INSERT INTO "ledger"
                    ("position", "id", "parent_id", "seq", "schema", "action", "payload", "inserted_at", "hash")
                SELECT {p + 1}, {(
                    pg ? "gen_random_uuid()" : "randomblob(16)"
                )}, "parent_id", 999, "schema", "action", "payload", "inserted_at", "hash"
                FROM "ledger" WHERE "position" = {p}
                """;
    }

    private async Task Unlock(DbConnection connection, DbTransaction tx)
    {
        if (Database == Db.Postgres)
            await connection.ExecuteAsync("ALTER TABLE \"ledger\" DISABLE TRIGGER USER", transaction: tx);
        else
        {
            await connection.ExecuteAsync("DROP TRIGGER \"ledger_no_update\"", transaction: tx);
            await connection.ExecuteAsync("DROP TRIGGER \"ledger_no_delete\"", transaction: tx);
        }
    }
}
