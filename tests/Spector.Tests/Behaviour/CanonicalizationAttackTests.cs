using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Dapper;

namespace Spector.Tests;

/// <summary>
/// The chain canonicalizes stored payload and metadata text with a UTF-8 reader (Jcs.Utf8.cs). These tests attack
/// that path the way docs/integrity.md invites: rows edited in the database so that they hash alike yet replay
/// otherwise, or so that they cannot be hashed at all, and honest events of every awkward shape, which must verify
/// exactly as the document path (the canonicalizer of earlier versions) hashed them.
/// </summary>
[TestFixture(Db.Sqlite)]
[TestFixture(Db.Postgres)]
public sealed class CanonicalizationAttackTests(Db db) : DatabaseTest(db)
{
    private async Task<string> StoredPayloadAsync(string table, Guid recordId, long seq)
    {
        await using var connection = await OpenAsync();
        return await connection.QuerySingleAsync<string>(
            $"SELECT CAST(\"payload\" AS TEXT) FROM \"{table}\" WHERE \"parent_id\" = @recordId AND \"seq\" = @seq",
            new { recordId, seq }
        );
    }

    private string PayloadParameter => Database == Db.Postgres ? "CAST(@payload AS jsonb)" : "@payload";

    /// <summary>Stores <paramref name="payload"/> as the payload text of one event, as someone with write access
    /// to the database could; PostgreSQL parses it into jsonb (and may refuse it).</summary>
    private Task<int> ReplacePayloadAsync(string table, Guid recordId, long seq, string payload) =>
        ExecuteRawAsync(
            $"UPDATE \"{table}\" SET \"payload\" = {PayloadParameter} WHERE \"parent_id\" = @recordId AND \"seq\" = @n",
            new
            {
                payload,
                recordId,
                n = seq,
            }
        );

    // ---- Edits that hash like the original ----

    /// <summary>
    /// RFC 8785 hashes -0 as 0, so "ratio":0 edited to -0 keeps the stored hash, yet it replays as a negative
    /// zero: other bits than were written. Spector stores -0 as 0, so verification must refuse the spelling.
    /// PostgreSQL's numeric has no negative zero; there the edit cannot even be stored.
    /// </summary>
    [TestCase("-0")]
    [TestCase("-0.0")]
    [TestCase("-0e0")]
    [TestCase("-0.000E+3")]
    public async Task A_zero_edited_to_a_negative_zero_is_refused_by_verification(string negativeZero)
    {
        var sample = await Sample.InsertAsync(new Attrs { ["text"] = "z", ["ratio"] = 0.0 });
        await sample.UpdateAsync(new Attrs { ["text"] = "y" });
        await DropAppendOnlyTriggersAsync("value_events");
        var events = await ValueEvents.Log.EventsOfAsync(sample.Id);
        var stored = await StoredPayloadAsync("value_events", sample.Id, 1);
        var zero = new Regex("(\"ratio\":\\s*)0(?=[,}])");
        Assert.That(zero.IsMatch(stored), Is.True, stored);

        await ReplacePayloadAsync("value_events", sample.Id, 1, zero.Replace(stored, "${1}" + negativeZero));

        var report = await ValueEvents.Log.VerifyHashChainAsync();
        var replayed = (await Sample.GetAsync(sample.Id))!.Ratio;
        if (Database == Db.Postgres)
        {
            var ratio = new Regex("\"ratio\":\\s*([^,}]*)").Match(
                await StoredPayloadAsync("value_events", sample.Id, 1)
            );
            Assert.That(ratio.Groups[1].Value, Does.Not.StartWith("-"));
            Assert.That(report.IsValid, Is.True, report.FirstBreak?.Message);
            Assert.That(double.IsNegative(replayed), Is.False);
            return;
        }
        // The edit matters: what replays is not what was written.
        Assert.That(double.IsNegative(replayed), Is.True, "the edit did not reach replay");
        Assert.That(report.IsValid, Is.False, "an edit that replays otherwise verified as intact");
        Assert.That(report.FirstBreak!.Kind, Is.EqualTo(ChainBreakKind.HashMismatch));
        Assert.That(report.FirstBreak.Position, Is.EqualTo(events[0].Position));
        Assert.That(report.FirstBreak.EventId, Is.EqualTo(events[0].Id));
    }

    [Test]
    public async Task A_negative_zero_in_a_per_record_chain_is_refused_by_record_verification()
    {
        var receipt = await Receipt.InsertAsync(new Attrs { ["customer"] = "c", ["total"] = 3m });
        await receipt.RefundAsync(1m);
        await DropAppendOnlyTriggersAsync("receipts");
        var stored = await StoredPayloadAsync("receipts", receipt.Id, 2);
        var version = new Regex("(\"__version__\":\\s*)0(?=[,}])");
        Assert.That(version.IsMatch(stored), Is.True, stored);

        await ReplacePayloadAsync("receipts", receipt.Id, 2, version.Replace(stored, "${1}-0"));

        var record = await ReceiptEvents.Log.VerifyRecordChainAsync(receipt.Id);
        var table = await ReceiptEvents.Log.VerifyHashChainAsync();
        if (Database == Db.Postgres)
        {
            Assert.That(record.IsValid && table.IsValid, Is.True, record.FirstBreak?.Message);
            return;
        }
        Assert.That(record.FirstBreak?.Kind, Is.EqualTo(ChainBreakKind.HashMismatch));
        Assert.That(table.FirstBreak?.Kind, Is.EqualTo(ChainBreakKind.HashMismatch));
        var second = (await ReceiptEvents.Log.EventsOfAsync(receipt.Id))[1];
        Assert.That(record.FirstBreak!.EventId, Is.EqualTo(second.Id));
        Assert.That(table.FirstBreak!.EventId, Is.EqualTo(second.Id));
    }

    /// <summary>
    /// Spellings that JSON and RFC 8785 treat as the same text replay as the same values: escapes for plain
    /// characters, whitespace, member order. The hash is unchanged and the replayed record is identical, so the
    /// promise holds without a break.
    /// </summary>
    [Test]
    public async Task Respelled_strings_whitespace_and_member_order_replay_the_same_record()
    {
        var sample = await Sample.InsertAsync(
            new Attrs
            {
                ["text"] = "Aé😀/",
                ["count"] = 7,
                ["ratio"] = 0.5,
            }
        );
        await DropAppendOnlyTriggersAsync("value_events");
        var before = (await Sample.GetAsync(sample.Id))!;
        var node = JsonNode.Parse(await StoredPayloadAsync("value_events", sample.Id, 1))!.AsObject();
        var members = node.Select(m => (m.Key, Text: m.Value!.ToJsonString())).Reverse().ToList();
        var respelled =
            " {\n"
            + string.Join(
                " ,\t",
                members.Select(m =>
                    (m.Key == "text" ? "\"\\u0074ext\"" : JsonSerializer.Serialize(m.Key))
                    + " : "
                    + (m.Key == "text" ? "\"\\u0041\\u00e9\\ud83d\\ude00\\/\"" : m.Text)
                )
            )
            + "\r\n} ";

        await ReplacePayloadAsync("value_events", sample.Id, 1, respelled);

        var report = await ValueEvents.Log.VerifyHashChainAsync();
        Assert.That(report.IsValid, Is.True, report.FirstBreak?.Message);
        var after = (await Sample.GetAsync(sample.Id))!;
        Assert.That(after.Text, Is.EqualTo(before.Text));
        Assert.That(after.Count, Is.EqualTo(before.Count));
        Assert.That(BitConverter.DoubleToInt64Bits(after.Ratio), Is.EqualTo(BitConverter.DoubleToInt64Bits(0.5)));
    }

    /// <summary>
    /// Verification compares a number's digits and exponent, not its formatting (PostgreSQL re-spells numbers, and
    /// versions before stored-value forms wrote decimals as numbers with their scale, "10.00"), so 7 re-spelled
    /// 7.0 or 7e0 verifies. A double replays the same bits from any such spelling.
    /// </summary>
    [TestCase("7.0")]
    [TestCase("7e0")]
    [TestCase("0.7E+1")]
    [TestCase("700e-2")]
    public async Task A_double_respelled_to_the_same_value_verifies_and_replays_the_same_bits(string respelled)
    {
        var sample = await Sample.InsertAsync(new Attrs { ["text"] = "d", ["ratio"] = 7.0 });
        await DropAppendOnlyTriggersAsync("value_events");
        var stored = await StoredPayloadAsync("value_events", sample.Id, 1);
        var seven = new Regex("(\"ratio\":\\s*)7(?=[,}])");
        Assert.That(seven.IsMatch(stored), Is.True, stored);

        await ReplacePayloadAsync("value_events", sample.Id, 1, seven.Replace(stored, "${1}" + respelled));

        var report = await ValueEvents.Log.VerifyHashChainAsync();
        Assert.That(report.IsValid, Is.True, report.FirstBreak?.Message);
        var ratio = (await Sample.GetAsync(sample.Id))!.Ratio;
        Assert.That(BitConverter.DoubleToInt64Bits(ratio), Is.EqualTo(BitConverter.DoubleToInt64Bits(7.0)));
    }

    /// <summary>
    /// The same re-spelling of an integer attribute also verifies (the hash cannot tell it from an old decimal),
    /// but it never replays as another value: an integer property refuses a number with a fraction or exponent,
    /// naming the event and the attribute. Where PostgreSQL stores the edit as plain digits, it replays as 7.
    /// </summary>
    [TestCase("7.0")]
    [TestCase("7e0")]
    [TestCase("700e-2")]
    public async Task An_integer_respelled_to_the_same_value_never_replays_as_another(string respelled)
    {
        var sample = await Sample.InsertAsync(new Attrs { ["text"] = "i", ["count"] = 7L });
        await DropAppendOnlyTriggersAsync("value_events");
        var first = (await ValueEvents.Log.EventsOfAsync(sample.Id))[0];
        var stored = await StoredPayloadAsync("value_events", sample.Id, 1);
        var seven = new Regex("(\"count\":\\s*)7(?=[,}])");
        Assert.That(seven.IsMatch(stored), Is.True, stored);

        await ReplacePayloadAsync("value_events", sample.Id, 1, seven.Replace(stored, "${1}" + respelled));

        var report = await ValueEvents.Log.VerifyHashChainAsync();
        Assert.That(report.IsValid, Is.True, report.FirstBreak?.Message);
        var count = new Regex("\"count\":\\s*([^,}]*)").Match(await StoredPayloadAsync("value_events", sample.Id, 1));
        if (count.Groups[1].Value == "7")
        {
            Assert.That(Database, Is.EqualTo(Db.Postgres), "only jsonb re-spells the edit back");
            Assert.That((await Sample.GetAsync(sample.Id))!.Count, Is.EqualTo(7L));
            return;
        }
        var error = Assert.ThrowsAsync<EventReplayException>(() => Sample.GetAsync(sample.Id));
        Assert.That(error!.Failure, Is.EqualTo(ReplayFailure.CorruptPayload));
        Assert.That(error.EventId, Is.EqualTo(first.Id));
        Assert.That(error.Message, Does.Contain("count").And.Contain(count.Groups[1].Value));
    }

    /// <summary>
    /// SQLite keeps whatever bytes a TEXT column is given; invalid UTF-8 reads back as U+FFFD on every path
    /// (verification, replay, export alike), so what is hashed is what replays: replacing the bytes of a stored
    /// U+FFFD by an invalid byte changes neither, and replacing a real character by one is a break. PostgreSQL
    /// refuses text that is not UTF-8.
    /// </summary>
    [Test]
    public async Task Invalid_utf8_bytes_in_a_stored_payload_replay_as_what_the_hash_covered()
    {
        if (Database == Db.Postgres)
        {
            var refused = Assert.ThrowsAsync<Npgsql.PostgresException>(() =>
                ExecuteRawAsync("SELECT CAST(convert_from(CAST('\\x7bff7d' AS bytea), 'UTF8') AS jsonb)")
            );
            Assert.That(refused!.SqlState, Is.EqualTo("22021"), "character_not_in_repertoire");
            return;
        }
        var replacement = await Sample.InsertAsync(new Attrs { ["text"] = "a\uFFFDb" });
        var accented = await Sample.InsertAsync(new Attrs { ["text"] = "aéb" });
        await DropAppendOnlyTriggersAsync("value_events");
        var invalid = (Guid id, string bytes) =>
            ExecuteRawAsync(
                "UPDATE \"value_events\" SET \"payload\" = CAST(replace(CAST(\"payload\" AS BLOB), "
                    + $"X'{bytes}', X'FF') AS TEXT) WHERE \"parent_id\" = @id",
                new { id }
            );

        Assert.That(await invalid(replacement.Id, "EFBFBD"), Is.EqualTo(1));
        Assert.That(
            await ExecuteScalarAsync(
                "SELECT instr(CAST(\"payload\" AS BLOB), X'FF') > 0 FROM \"value_events\" WHERE \"parent_id\" = @id",
                replacement.Id
            ),
            Is.EqualTo(1L),
            "the invalid byte is stored"
        );
        var report = await ValueEvents.Log.VerifyHashChainAsync();
        Assert.That(report.IsValid, Is.True, report.FirstBreak?.Message);
        Assert.That((await Sample.GetAsync(replacement.Id))!.Text, Is.EqualTo("a\uFFFDb"));

        Assert.That(await invalid(accented.Id, "C3A9"), Is.EqualTo(1));
        report = await ValueEvents.Log.VerifyHashChainAsync();
        Assert.That(report.FirstBreak?.Kind, Is.EqualTo(ChainBreakKind.HashMismatch));
        Assert.That(report.FirstBreak!.EventId, Is.EqualTo((await ValueEvents.Log.EventsOfAsync(accented.Id))[0].Id));
    }

    private async Task<object?> ExecuteScalarAsync(string sql, Guid id)
    {
        await using var connection = await OpenAsync();
        return await connection.ExecuteScalarAsync(sql, new { id });
    }

    /// <summary>
    /// A key given twice hashes as both members in their order, so no arrangement of duplicates hashes like the
    /// honest payload (which never repeats a key): the edit is a break, whichever value replay would take.
    /// </summary>
    [TestCase("first")]
    [TestCase("last")]
    public async Task A_duplicated_key_is_a_break_whichever_copy_replay_would_keep(string where)
    {
        var sample = await Sample.InsertAsync(new Attrs { ["text"] = "honest" });
        await sample.UpdateAsync(new Attrs { ["text"] = "later" });
        await DropAppendOnlyTriggersAsync("value_events");
        var stored = await StoredPayloadAsync("value_events", sample.Id, 1);
        var body = stored.Trim()[1..^1];
        var edited = where == "first" ? "{\"text\":\"forged\"," + body + "}" : "{" + body + ",\"text\":\"forged\"}";

        await ReplacePayloadAsync("value_events", sample.Id, 1, edited);

        var report = await ValueEvents.Log.VerifyHashChainAsync();
        // jsonb keeps the last copy of a key: a forged first copy does not even reach the database.
        if (!(await StoredPayloadAsync("value_events", sample.Id, 1)).Contains("forged"))
        {
            Assert.That(Database, Is.EqualTo(Db.Postgres));
            Assert.That(report.IsValid, Is.True, report.FirstBreak?.Message);
            return;
        }
        Assert.That(report.FirstBreak?.Kind, Is.EqualTo(ChainBreakKind.HashMismatch), report.FirstBreak?.Message);
        Assert.That(report.FirstBreak!.EventId, Is.EqualTo((await ValueEvents.Log.EventsOfAsync(sample.Id))[0].Id));
    }

    // ---- Edits that cannot be hashed at all ----

    /// <summary>
    /// Stored text the canonicalizer cannot read (not JSON, a lone surrogate, nesting past 64, a number past the
    /// double's range, a byte order mark) is an edit like any other: verification reports it as a break at that
    /// event instead of throwing a parser's exception that names no event. PostgreSQL's jsonb refuses some of
    /// these edits outright; those leave the chain intact.
    /// </summary>
    [TestCase("not json")]
    [TestCase("trailing")]
    [TestCase("byte order mark")]
    [TestCase("lone surrogate")]
    [TestCase("lone surrogate key")]
    [TestCase("nested 65 deep")]
    [TestCase("beyond a double")]
    public async Task A_payload_edited_beyond_what_can_be_hashed_is_a_break_at_its_event(string edit)
    {
        var sample = await Sample.InsertAsync(new Attrs { ["text"] = "t", ["ratio"] = 2.5 });
        await sample.UpdateAsync(new Attrs { ["text"] = "u" });
        await DropAppendOnlyTriggersAsync("value_events");
        var first = (await ValueEvents.Log.EventsOfAsync(sample.Id))[0];
        var stored = await StoredPayloadAsync("value_events", sample.Id, 1);
        var body = stored.Trim()[1..^1];
        var edited = edit switch
        {
            "not json" => "{" + body,
            "trailing" => stored + " {}",
            "byte order mark" => "\uFEFF" + stored,
            "lone surrogate" => "{" + body + ",\"extra\":\"\\ud800\"}",
            "lone surrogate key" => "{" + body + ",\"\\udc00\":1}",
            "nested 65 deep" => "{" + body + ",\"deep\":" + new string('[', 64) + new string(']', 64) + "}",
            "beyond a double" => "{" + body + ",\"extra\":1e400}",
            _ => throw new ArgumentOutOfRangeException(nameof(edit)),
        };

        var refusedByDatabase = false;
        try
        {
            await ReplacePayloadAsync("value_events", sample.Id, 1, edited);
        }
        catch (Npgsql.PostgresException) when (Database == Db.Postgres)
        {
            refusedByDatabase = true;
        }

        var report = await ValueEvents.Log.VerifyHashChainAsync();
        if (refusedByDatabase)
        {
            Assert.That(report.IsValid, Is.True, report.FirstBreak?.Message);
            return;
        }
        Assert.That(report.IsValid, Is.False, "an edited payload verified");
        Assert.That(report.FirstBreak!.Kind, Is.EqualTo(ChainBreakKind.HashMismatch), report.FirstBreak.Message);
        Assert.That(report.FirstBreak.Position, Is.EqualTo(first.Position));
        Assert.That(report.FirstBreak.EventId, Is.EqualTo(first.Id));
        Assert.That(report.FirstBreak.Message, Does.Contain(first.Id.ToString()));
    }

    /// <summary>
    /// The export is the way to verify without Spector. A payload edited into text that is not JSON (or nests past
    /// the writer's 64 levels, which PostgreSQL's jsonb holds) cannot go on a JSON line: the export stops with an
    /// error naming the event instead of a parser's exception. One that is JSON (an escaped lone surrogate) is
    /// exported as stored, and tools/verify-chain reports the break at its position.
    /// </summary>
    [TestCase("not json")]
    [TestCase("nested 65 deep")]
    [TestCase("lone surrogate")]
    public async Task An_edited_payload_stops_the_export_naming_its_event_or_is_caught_by_the_independent_tool(
        string edit
    )
    {
        var sample = await Sample.InsertAsync(new Attrs { ["text"] = "t", ["ratio"] = 2.5 });
        await sample.UpdateAsync(new Attrs { ["text"] = "u" });
        await DropAppendOnlyTriggersAsync("value_events");
        var first = (await ValueEvents.Log.EventsOfAsync(sample.Id))[0];
        var body = (await StoredPayloadAsync("value_events", sample.Id, 1)).Trim()[1..^1];
        var edited = edit switch
        {
            "not json" => "{" + body,
            "lone surrogate" => "{" + body + ",\"extra\":\"\\ud800\"}",
            _ => "{" + body + ",\"deep\":" + new string('[', 64) + new string(']', 64) + "}",
        };
        try
        {
            await ReplacePayloadAsync("value_events", sample.Id, 1, edited);
        }
        catch (Npgsql.PostgresException) when (Database == Db.Postgres && edit != "nested 65 deep")
        {
            Assert.Pass("PostgreSQL's jsonb refuses the edit");
        }

        var file = Path.Combine(Path.GetTempPath(), $"spector-chain-{Guid.NewGuid():N}.jsonl");
        try
        {
            if (edit == "lone surrogate")
            {
                await using (var output = File.Create(file))
                    Assert.That(await ValueEvents.Log.ExportChainAsync(output), Is.EqualTo(2));
                await IndependentVerificationTests.InstallAsync();
                var (code, text) = await IndependentVerificationTests.RunAsync("node", "verify.mjs", file);
                Assert.That(code, Is.EqualTo(1), text);
                Assert.That(text, Does.StartWith($"break at position {first.Position} "));
                return;
            }
            await using var stream = File.Create(file);
            var error = Assert.ThrowsAsync<InvalidDataException>(() => ValueEvents.Log.ExportChainAsync(stream));
            Assert.That(
                error!.Message,
                Does.Contain($"event {first.Id}").And.Contain($"position {first.Position}").And.Contain("payload")
            );
        }
        finally
        {
            File.Delete(file);
        }
    }

    [TestCase("lone surrogate")]
    [TestCase("nested 65 deep")]
    public async Task A_per_record_chain_reports_an_unhashable_payload_at_its_event(string edit)
    {
        var receipt = await Receipt.InsertAsync(new Attrs { ["customer"] = "c", ["total"] = 3m });
        await receipt.RefundAsync(1m);
        await DropAppendOnlyTriggersAsync("receipts");
        var second = (await ReceiptEvents.Log.EventsOfAsync(receipt.Id))[1];
        var body = (await StoredPayloadAsync("receipts", receipt.Id, 2)).Trim()[1..^1];
        var edited =
            edit == "lone surrogate"
                ? "{" + body + ",\"extra\":\"\\udfff\"}"
                : "{" + body + ",\"deep\":" + new string('{', 1) + Nested(63) + "}}";

        var refusedByDatabase = false;
        try
        {
            await ReplacePayloadAsync("receipts", receipt.Id, 2, edited);
        }
        catch (Npgsql.PostgresException) when (Database == Db.Postgres)
        {
            refusedByDatabase = true;
        }

        var record = await ReceiptEvents.Log.VerifyRecordChainAsync(receipt.Id);
        var table = await ReceiptEvents.Log.VerifyHashChainAsync();
        if (refusedByDatabase)
        {
            Assert.That(record.IsValid && table.IsValid, Is.True);
            return;
        }
        Assert.That(record.FirstBreak?.Kind, Is.EqualTo(ChainBreakKind.HashMismatch));
        Assert.That(record.FirstBreak!.EventId, Is.EqualTo(second.Id));
        Assert.That(table.FirstBreak?.Kind, Is.EqualTo(ChainBreakKind.HashMismatch));
        Assert.That(table.FirstBreak!.EventId, Is.EqualTo(second.Id));

        // 1 + 63 nested objects + the payload itself: 65 levels.
        static string Nested(int depth) => depth == 0 ? "\"x\":1" : "\"n\":{" + Nested(depth - 1) + "}";
    }

    [TestCase("lone surrogate")]
    [TestCase("nested 65 deep")]
    public async Task Metadata_edited_beyond_what_can_be_hashed_is_a_break_at_its_event(string edit)
    {
        var account = await LedgerAccount.InsertAsync(new Attrs { ["owner"] = "m" });
        await account.PostAsync(1m, "memo");
        await DropAppendOnlyTriggersAsync("ledger");
        var first = (await LedgerEvents.Log.EventsOfAsync(account.Id))[0];
        var metadata =
            edit == "lone surrogate"
                ? "{\"actor\":\"\\ud800\"}"
                : "{\"deep\":" + new string('[', 64) + new string(']', 64) + "}";

        var refusedByDatabase = false;
        try
        {
            await ExecuteRawAsync(
                Database == Db.Postgres
                    ? "UPDATE \"ledger\" SET \"metadata\" = CAST(@metadata AS jsonb) WHERE \"id\" = @id"
                    : "UPDATE \"ledger\" SET \"metadata\" = @metadata WHERE \"id\" = @id",
                new { metadata, id = first.Id }
            );
        }
        catch (Npgsql.PostgresException) when (Database == Db.Postgres)
        {
            refusedByDatabase = true;
        }

        var report = await LedgerEvents.Log.VerifyHashChainAsync();
        if (refusedByDatabase)
        {
            Assert.That(report.IsValid, Is.True, report.FirstBreak?.Message);
            return;
        }
        Assert.That(report.FirstBreak?.Kind, Is.EqualTo(ChainBreakKind.HashMismatch));
        Assert.That(report.FirstBreak!.EventId, Is.EqualTo(first.Id));
        Assert.That(report.FirstBreak.ExpectedHash, Is.Null, "nothing can be recomputed from such text");
    }

    // ---- Honest events of every awkward shape ----

    /// <summary>
    /// Random attributes (keys and text from the whole of Unicode but U+0000 and lone surrogates: characters
    /// outside the BMP beside U+E000-U+FFFF, controls, quotes; integers, large integers, decimals, doubles; nested
    /// objects and arrays up to the nesting limit) written through the public API with and without a context verify
    /// on the table chain, and every stored hash is the one the document path (earlier versions' canonicalizer)
    /// computes over the same stored row: chains written before the reader path verify, and chains it writes verify
    /// with earlier versions.
    /// </summary>
    [TestCase(1)]
    [TestCase(2)]
    [TestCase(3)]
    public async Task Random_honest_events_verify_and_hash_as_the_document_path_does(int seed)
    {
        var random = new Random(seed);
        var ids = new List<Guid>();
        for (var i = 0; i < 12; i++)
        {
            var attrs = new Attrs { ["owner"] = AwkwardValues.Text(random, 1, 12) };
            for (var k = 0; k < random.Next(1, 6); k++)
                attrs[AwkwardValues.Text(random, 0, 6) + "#" + k] = AwkwardValues.Node(random, random.Next(0, 4));
            var options = random.Next(3) == 0 ? null : new WriteOptions { Context = AwkwardValues.Context(random) };
            var account = await LedgerAccount.InsertAsync(attrs, options);
            ids.Add(account.Id);
            await account.PostAsync(
                decimal.Round((decimal)random.NextDouble() * 1_000_000m, random.Next(0, 9)),
                AwkwardValues.Text(random, 0, 20),
                new WriteOptions { Context = AwkwardValues.Context(random) }
            );
            if (random.Next(2) == 0)
                await account.UpdateAsync(new Attrs { ["note"] = AwkwardValues.Text(random, 0, 40) });
        }
        // Keys whose UTF-8 byte order differs from their UTF-16 order (outside the BMP against U+E000-U+FFFF).
        var keys = new Attrs { ["owner"] = "keys" };
        foreach (var key in new[] { "\ue000", "\U0001F600", "\uffff", "\ufb33", "\U0010FFFF", "\ud7ff", "a" })
            keys[key] = new JsonObject
            {
                [key + "\ue000"] = 1,
                [key + "\U00010000"] = 2,
                [key] = key,
            };
        var keysId = (await LedgerAccount.InsertAsync(keys)).Id;
        ids.Add(keysId);
        // One attribute nested as deep as a payload may be: the payload object, "deep" and 62 arrays.
        var deepest = await LedgerAccount.InsertAsync(
            new Attrs { ["owner"] = "deep", ["deep"] = JsonNode.Parse(new string('[', 63) + new string(']', 63)) }
        );
        ids.Add(deepest.Id);

        var report = await LedgerEvents.Log.VerifyHashChainAsync();
        Assert.That(report.IsValid, Is.True, $"seed {seed}: {report.FirstBreak?.Message}");

        var previous = new byte[32];
        var rows = await StoredRowsAsync("ledger");
        Assert.That(rows, Has.Count.GreaterThanOrEqualTo(26));
        var keysPayload = JsonNode.Parse(rows.Single(r => r.ParentId == keysId).Payload)!.AsObject();
        Assert.That(keysPayload["\U0001F600"]?["\U0001F600\ue000"]?.GetValue<int>(), Is.EqualTo(1), "stored as given");
        Assert.That(report.EventsChecked, Is.EqualTo(rows.Count));
        var times = new Dictionary<Guid, DateTimeOffset>();
        foreach (var id in ids)
        foreach (var e in await LedgerEvents.Log.EventsOfAsync(id))
            times[e.Id] = e.InsertedAt;
        foreach (var row in rows)
        {
            var expected = SHA256.HashData([.. previous, .. DocumentPathEnvelope(row, times[row.Id])]);
            Assert.That(
                Convert.ToHexStringLower(row.Hash),
                Is.EqualTo(Convert.ToHexStringLower(expected)),
                row.Payload
            );
            previous = row.Hash;
        }
    }

    /// <summary>Per-record chains (savepoints every 4 events) and sharded chains with links take the same
    /// canonicalizer: random awkward text in their payloads verifies record by record and shard by shard.</summary>
    [TestCase(4)]
    [TestCase(5)]
    public async Task Random_honest_events_verify_in_per_record_and_sharded_chains(int seed)
    {
        var random = new Random(seed);
        var receipts = new List<Guid>();
        for (var i = 0; i < 6; i++)
        {
            var receipt = await Receipt.InsertAsync(
                new Attrs
                {
                    ["customer"] = AwkwardValues.Text(random, 1, 12),
                    ["total"] = (decimal)random.NextInt64() / 1000m,
                    ["extra"] = AwkwardValues.Node(random, 3),
                },
                new WriteOptions { Context = AwkwardValues.Context(random) }
            );
            for (var r = random.Next(1, 7); r > 0; r--)
                receipt = await receipt.RefundAsync(random.Next(1, 100) / 7m);
            receipts.Add(receipt.Id);
        }
        foreach (var id in receipts)
        {
            var record = await ReceiptEvents.Log.VerifyRecordChainAsync(id);
            Assert.That(record.IsValid, Is.True, $"seed {seed}: {record.FirstBreak?.Message}");
        }
        var whole = await ReceiptEvents.Log.VerifyHashChainAsync();
        Assert.That(whole.IsValid, Is.True, $"seed {seed}: {whole.FirstBreak?.Message}");

        for (var i = 0; i < 6; i++)
        {
            var note = await ShardNote.InsertAsync(
                new Attrs
                {
                    ["title"] = AwkwardValues.Text(random, 1, 10),
                    ["body"] = AwkwardValues.Text(random, 0, 30),
                }
            );
            for (var r = random.Next(1, 6); r > 0; r--)
                note = await note.ReviseAsync(AwkwardValues.Text(random, 0, 30));
        }
        var shards = await ShardedEvents.Log.VerifyShardChainsAsync();
        Assert.That(shards.IsValid, Is.True, string.Join("; ", shards.Chains.Select(c => c.FirstBreak?.Message)));
        Assert.That(shards.EventsChecked, Is.GreaterThanOrEqualTo(12));
    }

    private sealed record StoredRow(
        long Position,
        Guid Id,
        Guid ParentId,
        long Seq,
        int Schema,
        int Action,
        string Payload,
        string? Metadata,
        byte[] Hash,
        StoredContext Context
    );

    private async Task<List<StoredRow>> StoredRowsAsync(string table)
    {
        await using var connection = await OpenAsync();
        var rows = await connection.QueryAsync(
            $"""
            SELECT "position", CAST("id" AS TEXT) AS "id", CAST("parent_id" AS TEXT) AS "parent_id", "seq",
                   "schema", "action", CAST("payload" AS TEXT) AS "payload", CAST("metadata" AS TEXT) AS "metadata",
                   "hash", "actor_type", "actor_id", "correlation_id", "causation_id", "reason", "trace_id", "span_id"
            FROM "{table}" ORDER BY "position"
            """
        );
        return rows.Select(r => new StoredRow(
                (long)r.position,
                Guid.Parse((string)r.id),
                Guid.Parse((string)r.parent_id),
                (long)r.seq,
                (int)(long)Convert.ToInt64(r.schema),
                (int)(long)Convert.ToInt64(r.action),
                (string)r.payload,
                (string?)r.metadata,
                (byte[])r.hash,
                new StoredContext(
                    (string?)r.actor_type,
                    (string?)r.actor_id,
                    (string?)r.correlation_id,
                    (string?)r.causation_id,
                    (string?)r.reason,
                    (string?)r.trace_id,
                    (string?)r.span_id
                )
            ))
            .ToList();
    }

    /// <summary>The envelope of docs/integrity.md built as a JSON document and canonicalized as a whole by the
    /// document path, sharing none of the writer's envelope code.</summary>
    private static byte[] DocumentPathEnvelope(StoredRow row, DateTimeOffset insertedAt)
    {
        var envelope = new JsonObject
        {
            ["v"] = row.Context.IsEmpty ? 1 : 2,
            ["id"] = row.Id.ToString("D"),
            ["parent_id"] = row.ParentId.ToString("D"),
            ["seq"] = row.Seq,
            ["schema"] = row.Schema,
            ["action"] = row.Action,
            ["inserted_at"] = (insertedAt - DateTimeOffset.UnixEpoch).Ticks / 10,
            ["payload"] = JsonNode.Parse(row.Payload, documentOptions: Deep),
            ["metadata"] = row.Metadata is null ? null : JsonNode.Parse(row.Metadata, documentOptions: Deep),
            ["links"] = new JsonArray(),
        };
        if (!row.Context.IsEmpty)
        {
            var context = new JsonObject();
            void Add(string name, string? value)
            {
                if (value is not null)
                    context[name] = value;
            }
            Add("span_id", row.Context.SpanId);
            Add("trace_id", row.Context.TraceId);
            Add("reason", row.Context.Reason);
            Add("causation_id", row.Context.CausationId);
            Add("correlation_id", row.Context.CorrelationId);
            Add("actor_type", row.Context.ActorType);
            Add("actor_id", row.Context.ActorId);
            envelope["context"] = context;
        }
        using var document = JsonDocument.Parse(envelope.ToJsonString(), Deep);
        return ReferenceJcs.Canonicalize(document.RootElement);
    }

    // The envelope nests the payload one level deeper than the payload's own limit.
    private static readonly JsonDocumentOptions Deep = new() { MaxDepth = 128 };
}
