using System.Numerics;
using System.Text.Json;
using System.Text.Json.Nodes;
using Dapper;

namespace Spector.Tests;

/// <summary>
/// What is stored for each .NET type (README): numbers a double cannot hold exactly as strings, date-times as
/// UTC instants, and values with no exact stored form refused with the field named and nothing stored.
/// </summary>
[TestFixture(Db.Sqlite)]
[TestFixture(Db.Postgres)]
public sealed class StoredValueTests(Db db) : DatabaseTest(db)
{
    private const decimal Money = 12345678901234.5678m;
    private const long PastDouble = 9_007_199_254_740_993;

    [Test]
    public async Task Numbers_a_double_cannot_hold_are_stored_as_strings_and_replay_to_the_last_digit()
    {
        var big = BigInteger.Parse("123456789012345678901234567890");
        var sample = await Sample.InsertAsync(
            new Attrs
            {
                ["text"] = "n",
                ["amount"] = 1.50m,
                ["count"] = PastDouble,
                ["small"] = 7,
                ["huge"] = JsonValue.Create(ulong.MaxValue),
                ["wide"] = JsonValue.Create(Int128.MinValue),
                ["big"] = JsonValue.Create(big),
                ["prices"] = JsonSerializer.SerializeToNode(new[] { 0.1m, 1.50m, Money }),
                ["free"] = JsonNode.Parse("[12345678901234.5678, 1e400, 0.5, 42]"),
            }
        );

        var payload = (await Sample.AllEventsAsync(sample.Id))[0].Payload;
        Assert.That(
            payload.GetProperty("amount").GetString(),
            Is.EqualTo("1.50"),
            "a decimal is always a string, with its scale"
        );
        Assert.That(payload.GetProperty("count").GetString(), Is.EqualTo("9007199254740993"));
        Assert.That(payload.GetProperty("small").GetInt32(), Is.EqualTo(7));
        Assert.That(payload.GetProperty("huge").GetString(), Is.EqualTo("18446744073709551615"));
        Assert.That(payload.GetProperty("wide").GetString(), Is.EqualTo(Int128.MinValue.ToString()));
        Assert.That(payload.GetProperty("big").GetString(), Is.EqualTo("123456789012345678901234567890"));
        Assert.That(
            JsonNode.Parse(payload.GetProperty("free").GetRawText())!.ToJsonString(),
            Is.EqualTo("""["12345678901234.5678","1e400",0.5,42]""")
        );

        var replayed = (await Sample.GetAsync(sample.Id))!;
        Assert.That(decimal.GetBits(replayed.Amount), Is.EqualTo(decimal.GetBits(1.50m)), "the scale too");
        Assert.That(replayed.Count, Is.EqualTo(PastDouble));
        Assert.That(replayed.Huge, Is.EqualTo(ulong.MaxValue));
        Assert.That(replayed.Wide, Is.EqualTo(Int128.MinValue));
        Assert.That(replayed.Big, Is.EqualTo(big));
        Assert.That(replayed.Prices, Is.EqualTo(new[] { 0.1m, 1.50m, Money }));
        Assert.That((await ValueEvents.Log.VerifyHashChainAsync()).IsValid, Is.True);
    }

    [Test]
    public async Task Typed_action_parameters_are_stored_as_attributes_are()
    {
        var sample = await Sample.InsertAsync(new Attrs { ["text"] = "t" });
        var at = new DateTime(2026, 3, 8, 2, 30, 0, 123, DateTimeKind.Unspecified).AddTicks(4567);

        var adjusted = await sample.AdjustAsync(Money, PastDouble, at, Plan.Pro);

        var payload = (await Sample.AllEventsAsync(sample.Id))[1].Payload;
        Assert.That(payload.GetProperty("amount").GetString(), Is.EqualTo("12345678901234.5678"));
        Assert.That(payload.GetProperty("count").GetString(), Is.EqualTo("9007199254740993"));
        Assert.That(payload.GetProperty("at").GetString(), Is.EqualTo("2026-03-08T02:30:00.1234567Z"));
        var replayed = (await Sample.GetAsync(sample.Id))!;
        foreach (var record in new[] { adjusted, replayed })
        {
            Assert.That(record.Amount, Is.EqualTo(Money));
            Assert.That(record.Count, Is.EqualTo(PastDouble));
            Assert.That((record.At.Ticks, record.At.Kind), Is.EqualTo((at.Ticks, DateTimeKind.Utc)));
        }
    }

    [Test]
    public async Task Date_times_are_stored_as_utc_instants_whatever_their_kind()
    {
        var unspecified = new DateTime(2026, 1, 2, 3, 4, 5, DateTimeKind.Unspecified);
        var local = new DateTime(2026, 1, 2, 3, 4, 5, DateTimeKind.Local);
        var sample = await Sample.InsertAsync(
            new Attrs
            {
                ["text"] = "d",
                ["at"] = unspecified,
                ["until"] = local,
                ["when"] = new DateTimeOffset(2026, 1, 2, 3, 4, 5, TimeSpan.FromHours(9)),
            }
        );

        var payload = (await Sample.AllEventsAsync(sample.Id))[0].Payload;
        Assert.That(payload.GetProperty("at").GetString(), Is.EqualTo("2026-01-02T03:04:05Z"));
        Assert.That(payload.GetProperty("until").GetString(), Does.EndWith("Z"));
        var replayed = (await Sample.GetAsync(sample.Id))!;
        Assert.That((replayed.At, replayed.At.Kind), Is.EqualTo((unspecified, DateTimeKind.Utc)));
        Assert.That(replayed.Until, Is.EqualTo(local.ToUniversalTime()));
        Assert.That(replayed.When, Is.EqualTo(new DateTimeOffset(2026, 1, 1, 18, 4, 5, TimeSpan.Zero)));
        Assert.That(replayed.When.Offset, Is.EqualTo(TimeSpan.FromHours(9)), "a DateTimeOffset keeps its offset");
    }

    [Test]
    public async Task Events_stored_with_numbers_and_offsetless_times_by_older_versions_replay()
    {
        var id = Guid.CreateVersion7();
        var insertedAt = new DateTimeOffset(2026, 1, 2, 3, 4, 5, TimeSpan.Zero);
        var payload =
            $$"""{"__version__":0,"__event_id__":"{{id}}","text":"old","amount":12345678901234.5678,"count":"""
            + """9007199254740993,"at":"2026-03-08T02:30:00","plan":"Pro","prices":[0.1,1.50]}""";
        var hash = EventHash.Compute(EventHash.Genesis, id, id, 1, 0, EventActions.Insert, insertedAt, payload, null);
        await ExecuteRawAsync(
            Database == Db.Postgres
                ? """
                INSERT INTO "value_events" ("id","parent_id","seq","schema","action","payload","inserted_at","hash")
                VALUES (@id,@id,1,0,1,CAST(@payload AS jsonb),@at,@hash)
                """
                : """
                INSERT INTO "value_events" ("id","parent_id","seq","schema","action","payload","inserted_at","hash")
                VALUES (@id,@id,1,0,1,@payload,@at,@hash)
                """,
            new
            {
                id,
                payload,
                at = Database == Db.Postgres ? insertedAt : (object)EventHash.Micros(insertedAt),
                hash,
            }
        );

        var replayed = (await Sample.GetAsync(id))!;
        Assert.That(replayed.Amount, Is.EqualTo(Money));
        Assert.That(replayed.Count, Is.EqualTo(PastDouble));
        Assert.That(
            replayed.At,
            Is.EqualTo(new DateTime(2026, 3, 8, 2, 30, 0, DateTimeKind.Utc)),
            "no offset: UTC, in every time zone"
        );
        Assert.That(replayed.Prices, Is.EqualTo(new[] { 0.1m, 1.50m }));
        // Their hash covered the nearest doubles, not the digits stored: verification cannot vouch for them.
        var verified = await ValueEvents.Log.VerifyHashChainAsync();
        Assert.That(verified.FirstBreak?.Kind, Is.EqualTo(ChainBreakKind.HashMismatch));
        var updated = await replayed.UpdateAsync(new Attrs { ["text"] = "new" });
        Assert.That(updated.Amount, Is.EqualTo(Money), "the old event keeps replaying under writes");
    }

    [TestCase("amount", "12345678901234.5678", "12345678901234.5677")]
    [TestCase("count", "9007199254740993", "9007199254740992")]
    [TestCase("big", "123456789012345678901234567890", "123456789012345678901234567891")]
    public async Task A_single_changed_digit_of_a_large_number_breaks_the_chain(
        string key,
        string stored,
        string tampered
    )
    {
        var sample = await Sample.InsertAsync(
            new Attrs
            {
                ["text"] = "x",
                ["amount"] = Money,
                ["count"] = PastDouble,
                ["big"] = JsonValue.Create(BigInteger.Parse("123456789012345678901234567890")),
            }
        );
        await sample.UpdateAsync(new Attrs { ["text"] = "y" });
        Assert.That((await ValueEvents.Log.VerifyHashChainAsync()).IsValid, Is.True);

        await DropAppendOnlyTriggersAsync("value_events");
        var changed = await ExecuteRawAsync(
            Database == Db.Postgres
                ? """
                UPDATE "value_events"
                SET "payload" = CAST(replace(CAST("payload" AS text), @stored, @tampered) AS jsonb)
                WHERE "seq" = 1
                """
                : """
                UPDATE "value_events" SET "payload" = replace("payload", @stored, @tampered)
                WHERE "seq" = 1
                """,
            new { stored = $"\"{stored}\"", tampered = $"\"{tampered}\"" }
        );
        Assert.That(changed, Is.EqualTo(1));

        var result = await ValueEvents.Log.VerifyHashChainAsync();
        Assert.That(result.IsValid, Is.False, $"{key} {stored} -> {tampered} must break the chain");
        Assert.That(result.FirstBreak!.Position, Is.EqualTo(1));
    }

    [TestCase("ratio", 16777217.0, "16777217", "16777217.0000000001")]
    [TestCase("ratio", 0.1, "0.1", "0.1000000000000000055")]
    [TestCase("ratio", 1e-7, "1e-7", "0.00000010000000000000000000001")]
    [TestCase("count", 9007199254740991.0, "9007199254740991", "9007199254740991.4")]
    [TestCase("free", 7.0, "7", "7.00000000000000000000001")]
    public async Task A_number_respelled_to_parse_to_the_same_double_breaks_the_chain(
        string key,
        double value,
        string stored,
        string respelled
    )
    {
        JsonNode node = key == "count" ? JsonValue.Create((long)value) : JsonValue.Create(value);
        var sample = await Sample.InsertAsync(new Attrs { ["text"] = "x", [key] = node });
        await sample.UpdateAsync(new Attrs { ["text"] = "y" });
        Assert.That(
            (await ValueEvents.Log.VerifyHashChainAsync()).IsValid,
            Is.True,
            "as written (jsonb re-spells 1e-7)"
        );

        await DropAppendOnlyTriggersAsync("value_events");
        var payload = (await Sample.AllEventsAsync(sample.Id))[0].PayloadJson;
        var number = new System.Text.RegularExpressions.Regex($"(\"{key}\":\\s*)[-0-9.eE+]+");
        Assert.That(double.Parse(number.Match(payload).Value.Split(':')[1]), Is.EqualTo(value));
        var tampered = number.Replace(payload, "${1}" + respelled);
        Assert.That(
            double.Parse(respelled, System.Globalization.CultureInfo.InvariantCulture),
            Is.EqualTo(value),
            "the same double, so RFC 8785 alone hashes it alike"
        );
        await ExecuteRawAsync(
            Database == Db.Postgres
                ? """UPDATE "value_events" SET "payload" = CAST(@tampered AS jsonb) WHERE "seq" = 1"""
                : """UPDATE "value_events" SET "payload" = @tampered WHERE "seq" = 1""",
            new { tampered }
        );
        Assert.That((await Sample.AllEventsAsync(sample.Id))[0].PayloadJson, Does.Contain(respelled), stored);

        var result = await ValueEvents.Log.VerifyHashChainAsync();
        Assert.That(result.IsValid, Is.False, $"{key} {stored} -> {respelled} must break the chain");
        Assert.That(result.FirstBreak!.Position, Is.EqualTo(1));
        Assert.That(result.FirstBreak.Kind, Is.EqualTo(ChainBreakKind.HashMismatch));
    }

    [Test]
    public async Task Integers_from_two_to_the_53_on_are_stored_as_strings()
    {
        var sample = await Sample.InsertAsync(
            new Attrs
            {
                ["text"] = "x",
                ["count"] = 9_007_199_254_740_992L,
                ["small"] = 1,
                ["big"] = JsonValue.Create(new BigInteger(-9_007_199_254_740_992L)),
                ["free"] = new JsonArray(9_007_199_254_740_991L, -9_007_199_254_740_992L),
            }
        );
        var payload = (await Sample.AllEventsAsync(sample.Id))[0].Payload;
        Assert.That(payload.GetProperty("count").GetString(), Is.EqualTo("9007199254740992"), "2^53 + 1 parses to it");
        Assert.That(payload.GetProperty("big").GetString(), Is.EqualTo("-9007199254740992"));
        Assert.That(
            payload.GetProperty("free")[0].GetInt64(),
            Is.EqualTo(9_007_199_254_740_991L),
            "2^53 - 1 is a number"
        );
        Assert.That(payload.GetProperty("free")[1].GetString(), Is.EqualTo("-9007199254740992"));
        var replayed = (await Sample.GetAsync(sample.Id))!;
        Assert.That(replayed.Count, Is.EqualTo(9_007_199_254_740_992L));
        Assert.That(replayed.Big, Is.EqualTo(new BigInteger(-9_007_199_254_740_992L)));
    }

    private static IEnumerable<TestCaseData> Unstorable()
    {
        TestCaseData Case(string name, string field, string reason, Func<Attrs> attrs) =>
            new TestCaseData(field, reason, attrs).SetName($"{{m}}({name})");
        yield return Case("NaN", "ratio", "NaN", () => new() { ["ratio"] = double.NaN });
        yield return Case("infinity", "ratio", "Infinity", () => new() { ["ratio"] = double.PositiveInfinity });
        yield return Case("float infinity", "single", "Infinity", () => new() { ["single"] = float.NegativeInfinity });
        yield return Case("nested NaN", "meta", "NaN", () => new() { ["meta"] = new JsonArray(1, double.NaN) });
        yield return Case("NUL", "text", "U+0000", () => new() { ["text"] = "a\0b" });
        yield return Case("NUL in a key", "meta", "U+0000", () => new() { ["meta"] = new JsonObject { ["k\0"] = 1 } });
        yield return Case(
            "parsed NUL",
            "meta",
            "U+0000",
            () => new() { ["meta"] = JsonNode.Parse("""{"x":"\u0000"}""") }
        );
        yield return Case("lone surrogate", "text", "surrogate", () => new() { ["text"] = "a\ud800b" });
        yield return Case(
            "parsed lone surrogate",
            "meta",
            "surrogate",
            () => new() { ["meta"] = JsonNode.Parse("""{"x":"\ud83d"}""") }
        );
        yield return Case("too deep", "meta", "deeper than 64", () => new() { ["meta"] = Nested(64) });
        yield return Case(
            "duplicate key",
            "meta",
            "\"a\" twice",
            () => new() { ["meta"] = JsonNode.Parse("""{"a":1,"a":2}""") }
        );
        yield return Case(
            "nested duplicate key",
            "meta",
            "\"c\" twice",
            () => new() { ["meta"] = new JsonObject { ["b"] = JsonNode.Parse("""[{"c":1,"c":2}]""") } }
        );
        yield return Case(
            "1e400 into a double",
            "ratio",
            "\"1e400\" is not a valid Double (outside its range)",
            () => new() { ["ratio"] = JsonNode.Parse("1e400") }
        );
        yield return Case(
            "34 digits into a decimal",
            "amount",
            "is not a valid Decimal",
            () => new() { ["amount"] = JsonNode.Parse("0.1234567890123456789012345678901234") }
        );
        yield return Case(
            "34 digits as text into a decimal",
            "amount",
            "is not a valid Decimal",
            () => new() { ["amount"] = "1.234567890123456789012345678901234" }
        );
        yield return Case("undefined enum number", "plan", "not a defined value", () => new() { ["plan"] = 99 });
        yield return Case("enum number as text", "plan", "not a defined value", () => new() { ["plan"] = "99" });
        yield return Case("undefined flag", "access", "not a defined value", () => new() { ["access"] = 8 });
    }

    [TestCaseSource(nameof(Unstorable))]
    public async Task A_value_that_cannot_round_trip_is_refused_naming_the_field(
        string field,
        string reason,
        Func<Attrs> bad
    )
    {
        var existing = await Sample.InsertAsync(new Attrs { ["text"] = "ok" });
        var before = await CountAsync("value_events");

        foreach (
            var write in new Func<Task>[]
            {
                () => Sample.InsertAsync(With(bad(), "text", "x")),
                () => existing.UpdateAsync(bad()),
            }
        )
        {
            var error = Assert.ThrowsAsync<ChangesetInvalidException>(() => write())!;
            Assert.That(error.Errors.Keys, Is.EqualTo(new[] { field }), error.Message);
            Assert.That(error.Errors[field].Single(), Does.Contain(reason));
            Assert.That(
                error.Message,
                Does.Not.Contain("..").And.Not.Contain("System.").And.EndWith("Nothing was stored.")
            );
        }
        Assert.That(await CountAsync("value_events"), Is.EqualTo(before), "nothing stored");
        Assert.That((await Sample.GetAsync(existing.Id))!.Text, Is.EqualTo("ok"));
    }

    [Test]
    public async Task Values_at_the_edges_of_what_can_be_stored_are_kept()
    {
        var sample = await Sample.InsertAsync(
            new Attrs
            {
                ["text"] = "𝄞 astral, ünï, \t\"q\"",
                ["access"] = 3,
                ["plan"] = "Pro",
                ["meta"] = Nested(63),
                ["ratio"] = double.Epsilon,
                ["single"] = float.MaxValue,
                ["count"] = long.MinValue,
            }
        );

        var replayed = (await Sample.GetAsync(sample.Id))!;
        Assert.That(replayed.Text, Is.EqualTo("𝄞 astral, ünï, \t\"q\""));
        Assert.That(replayed.Access, Is.EqualTo(Access.Read | Access.Write), "a combination of defined flags");
        Assert.That(replayed.Ratio, Is.EqualTo(double.Epsilon));
        Assert.That(replayed.Single, Is.EqualTo(float.MaxValue));
        Assert.That(replayed.Count, Is.EqualTo(long.MinValue));
        Assert.That((await ValueEvents.Log.VerifyHashChainAsync()).IsValid, Is.True);
        using var export = new MemoryStream();
        Assert.That(await ValueEvents.Log.ExportChainAsync(export), Is.EqualTo(1), "the deepest payload exports too");
    }

    [Test]
    public async Task An_undefined_enum_in_a_typed_action_is_refused()
    {
        var sample = await Sample.InsertAsync(new Attrs { ["text"] = "e" });
        var before = await CountAsync("value_events");

        var error = Assert.ThrowsAsync<ChangesetInvalidException>(() =>
            sample.AdjustAsync(1m, 1, DateTime.UtcNow, (Plan)99)
        )!;

        Assert.That(error.Errors.Keys, Is.EqualTo(new[] { "plan" }));
        Assert.That(await CountAsync("value_events"), Is.EqualTo(before));
    }

    [Test]
    public async Task Translate_names_the_table_whose_trigger_refused_the_change()
    {
        await ShardNote.InsertAsync(new Attrs { ["title"] = "a" });
        await ShardNote.InsertAsync(new Attrs { ["title"] = "b" });
        await ShardNote.InsertAsync(new Attrs { ["title"] = "c" });
        foreach (var shard in new[] { "notes_even", "notes_odd" })
        {
            if (await CountAsync(shard) == 0)
                continue;
            var error = Assert.CatchAsync<System.Data.Common.DbException>(() =>
                ExecuteRawAsync($"DELETE FROM \"{shard}\"")
            )!;
            var translated = (EventLogImmutableException)ShardedEvents.Log.Translate(error);
            Assert.That(translated.Table, Is.EqualTo(shard));
        }
        await Sample.InsertAsync(new Attrs { ["text"] = "t" });
        var other = Assert.CatchAsync<System.Data.Common.DbException>(() =>
            ExecuteRawAsync("DELETE FROM \"value_events\"")
        )!;
        Assert.That(((SpectorException)Log.Translate(other)).Table, Is.EqualTo("value_events"), "another log's table");
    }

    [Test]
    public async Task Record_table_times_as_the_database_returns_them_bring_a_row_up()
    {
        var sample = await Sample.InsertAsync(
            new Attrs
            {
                ["text"] = "row",
                ["when"] = new DateTimeOffset(2026, 11, 30, 15, 52, 16, 184, TimeSpan.Zero).AddTicks(4280),
                ["at"] = new DateTime(2026, 11, 30, 15, 52, 16, DateTimeKind.Utc),
            }
        );
        // The row stays, its events go: a table Spector does not track yet.
        await DropAppendOnlyTriggersAsync("value_events");
        await ExecuteRawAsync("DELETE FROM \"value_events\"");

        var imported = await Sample.BringUpAsync(
            new BringUpOptions<Sample>
            {
                // The database's own values, handed over as they come back (SQLite: text such as "2026-11-30
                // 15:52:16.184428+00:00").
                Attrs = row => new Attrs
                {
                    ["text"] = (string)row["text"]!,
                    ["when"] = Raw(row["when"]),
                    ["at"] = Raw(row["at"]),
                },
            }
        );

        Assert.That(imported, Has.Count.EqualTo(1));
        Assert.That(imported[0].When, Is.EqualTo(sample.When));
        Assert.That(imported[0].At, Is.EqualTo(sample.At));
    }

    private static JsonNode? Raw(object? value) =>
        value switch
        {
            string s => s,
            DateTime d => d,
            DateTimeOffset d => d,
            _ => null,
        };

    private static Attrs With(Attrs attrs, string key, JsonNode value)
    {
        if (!attrs.ContainsKey(key))
            attrs[key] = value;
        return attrs;
    }

    /// <summary>An array nested <paramref name="levels"/> deep inside a top-level attribute (payload depth levels +
    /// 1).</summary>
    internal static JsonNode Nested(int levels)
    {
        JsonNode node = 1;
        for (var i = 0; i < levels; i++)
            node = new JsonArray(node);
        return node;
    }
}
