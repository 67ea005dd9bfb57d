using System.Globalization;
using System.Numerics;
using System.Text.Json;
using System.Text.Json.Nodes;
using CsCheck;

namespace Spector.Tests;

/// <summary>
/// Random payloads (unicode with astral characters and escapes, every numeric edge, nesting, odd keys) go through
/// write, replay, export and verification on both databases: replay gives back what was written bit for bit,
/// an independent RFC 8785 verifier accepts the export, and any one-field change of a stored row is caught.
/// </summary>
[TestFixture(Db.Sqlite)]
[TestFixture(Db.Postgres)]
public sealed class RoundTripPropertyTests(Db db) : DatabaseTest(db)
{
    // Enough to cross every edge the generators hold several times; kept low because each sample is real writes.
    private const int Samples = 30;
    private const int Tampers = 30;

    [Test]
    public async Task Random_values_replay_bit_for_bit_and_the_export_verifies_independently()
    {
        await IndependentVerificationTests.InstallAsync();
        var written = 0;
        await Values.Case.SampleAsync(
            async sample =>
            {
                var record = await Sample.InsertAsync(sample.Attrs());
                var expected = sample;
                if (sample.Adjust is { } adjust)
                {
                    record = await record.AdjustAsync(adjust.Amount, adjust.Count, adjust.At, adjust.Plan);
                    expected = sample with
                    {
                        Amount = adjust.Amount,
                        Count = adjust.Count,
                        At = adjust.At,
                        Plan = adjust.Plan,
                    };
                }
                var replayed = (await Sample.GetAsync(record.Id))!;
                expected.AssertSame(record, "as the write returned it");
                expected.AssertSame(replayed, "replayed");

                var stored = JsonNode.Parse((await Sample.AllEventsAsync(record.Id))[0].Payload.GetRawText())!["extra"];
                Assert.That(
                    JsonNode.DeepEquals(stored, Values.StoredForm(sample.Extra)),
                    Is.True,
                    $"extra: wrote {sample.Extra?.ToJsonString()}, stored {stored?.ToJsonString()}"
                );
                written++;
            },
            iter: Samples,
            threads: 1
        );

        var verification = await ValueEvents.Log.VerifyHashChainAsync();
        Assert.That(verification.IsValid, Is.True, verification.FirstBreak?.ToString());
        var file = Path.Combine(Path.GetTempPath(), $"spector-props-{Guid.NewGuid():N}.jsonl");
        try
        {
            await using (var output = File.Create(file))
                Assert.That(await ValueEvents.Log.ExportChainAsync(output), Is.EqualTo(verification.EventsChecked));
            var (code, text) = await IndependentVerificationTests.RunAsync(
                "node",
                "verify.mjs",
                file,
                verification.Head!.ToString()
            );
            Assert.That(code, Is.EqualTo(0), text);
        }
        finally
        {
            File.Delete(file);
        }
        Assert.That(written, Is.EqualTo(Samples));
    }

    [Test]
    public async Task Any_one_field_change_of_a_stored_row_is_detected()
    {
        foreach (var sample in Values.Case.Array[4].Single())
        {
            var record = await Sample.InsertAsync(sample.Attrs());
            await record.UpdateAsync(new Attrs { ["text"] = "second" });
        }
        Assert.That((await ValueEvents.Log.VerifyHashChainAsync()).IsValid, Is.True);
        await DropAppendOnlyTriggersAsync("value_events");
        var positions = (
            await QueryAsync<long>("SELECT \"position\" FROM \"value_events\" ORDER BY \"position\"")
        ).ToArray();

        var tampering = Gen.Select(Gen.OneOf(positions), Gen.OneOf(Enum.GetValues<Field>()), Gen.Int);
        await tampering.SampleAsync(
            async change =>
            {
                var (position, field, seed) = change;
                var original = (
                    await QueryAsync<string>(
                        $"SELECT {Text(field)} FROM \"value_events\" WHERE \"position\" = {position}"
                    )
                ).Single();
                var changed = Tamper(field, original, new Random(seed));
                Assert.That(changed, Is.Not.EqualTo(original));
                await SetAsync(field, position, changed);

                var verification = await ValueEvents.Log.VerifyHashChainAsync();
                Assert.That(verification.IsValid, Is.False, $"{field} of position {position}: {original} -> {changed}");
                Assert.That(verification.FirstBreak!.Position, Is.LessThanOrEqualTo(position));

                await SetAsync(field, position, original);
                Assert.That((await ValueEvents.Log.VerifyHashChainAsync()).IsValid, Is.True, "restored");
            },
            iter: Tampers,
            threads: 1
        );
    }

    private enum Field
    {
        Payload,
        Metadata,
        Seq,
        Schema,
        Action,
        InsertedAt,
        Id,
        ParentId,
    }

    private string Column(Field field) =>
        field switch
        {
            Field.InsertedAt => "inserted_at",
            Field.ParentId => "parent_id",
            _ => field.ToString().ToLowerInvariant(),
        };

    // Every column read as text, so a value goes back exactly as it was.
    private string Text(Field field) =>
        Database == Db.Postgres && field == Field.InsertedAt
            ? "CAST(EXTRACT(EPOCH FROM \"inserted_at\") * 1000000 AS bigint)::text"
        : Database == Db.Postgres ? $"COALESCE(\"{Column(field)}\"::text, 'null')"
        : $"COALESCE(CAST(\"{Column(field)}\" AS TEXT), 'null')";

    private async Task SetAsync(Field field, long position, string value)
    {
        var column = Column(field);
        var pg = Database == Db.Postgres;
        var target = (field, pg) switch
        {
            (Field.Payload or Field.Metadata, true) =>
                "CASE WHEN @value = 'null' THEN NULL ELSE CAST(@value AS jsonb) END",
            (Field.Metadata, false) => "CASE WHEN @value = 'null' THEN NULL ELSE @value END",
            (Field.InsertedAt, true) => "to_timestamp(CAST(@value AS bigint) / 1000000.0)",
            (Field.Id or Field.ParentId, true) => "CAST(@value AS uuid)",
            (Field.Seq or Field.Schema or Field.Action or Field.InsertedAt, _) => pg
                ? "CAST(@value AS bigint)"
                : "CAST(@value AS INTEGER)",
            _ => "@value",
        };
        await ExecuteRawAsync(
            $"UPDATE \"value_events\" SET \"{column}\" = {target} WHERE \"position\" = {position}",
            new { value }
        );
    }

    /// <summary>One field changed the way an attacker would: a digit, a character, a flag, a time, an id.</summary>
    private string Tamper(Field field, string original, Random random) =>
        field switch
        {
            Field.Payload => ChangeOneLeaf(original, random),
            Field.Metadata => original == "null" ? """{"actor":"mallory"}""" : "null",
            Field.Seq => (long.Parse(original, CultureInfo.InvariantCulture) + 100 + random.Next(100)).ToString(
                CultureInfo.InvariantCulture
            ),
            Field.Schema or Field.Action => (
                long.Parse(original, CultureInfo.InvariantCulture) + 1 + random.Next(3)
            ).ToString(CultureInfo.InvariantCulture),
            Field.InsertedAt => (long.Parse(original, CultureInfo.InvariantCulture) + 1).ToString(
                CultureInfo.InvariantCulture
            ),
            _ => Database == Db.Postgres ? Guid.NewGuid().ToString() : Guid.NewGuid().ToString().ToUpperInvariant(),
        };

    private static string ChangeOneLeaf(string payload, Random random)
    {
        var root = JsonNode.Parse(payload)!;
        var leaves = new List<JsonNode?>();
        var parents = new List<(JsonNode Parent, string? Key, int Index)>();
        void Walk(JsonNode node)
        {
            switch (node)
            {
                case JsonObject o:
                    foreach (var (key, value) in o.ToList())
                    {
                        if (value is JsonObject or JsonArray)
                            Walk(value);
                        else
                            parents.Add((o, key, -1));
                    }
                    break;
                case JsonArray a:
                    for (var i = 0; i < a.Count; i++)
                    {
                        if (a[i] is JsonObject or JsonArray)
                            Walk(a[i]!);
                        else
                            parents.Add((a, null, i));
                    }
                    break;
            }
        }
        Walk(root);
        var (parent, leafKey, index) = parents[random.Next(parents.Count)];
        var leaf = leafKey is null ? parent[index] : parent[leafKey];
        JsonNode? replacement = leaf?.GetValueKind() switch
        {
            null or JsonValueKind.Null => 0,
            JsonValueKind.True => false,
            JsonValueKind.False => true,
            JsonValueKind.Number => Bump(leaf.GetValue<double>()),
            _ => ChangeOneCharacter(leaf.GetValue<string>(), random),
        };
        if (leafKey is null)
            parent[index] = replacement;
        else
            parent[leafKey] = replacement;
        return root.ToJsonString();
    }

    private static double Bump(double value) =>
        value == 0 ? 1
        : Math.Abs(value) > 1e15 ? -value
        : value + 1;

    // A digit becomes the next digit, anything else gains a character: one visible change.
    private static string ChangeOneCharacter(string text, Random random)
    {
        if (text.Length == 0)
            return "x";
        var at = random.Next(text.Length);
        if (char.IsAsciiDigit(text[at]))
            return text[..at] + (char)('0' + (text[at] - '0' + 1) % 10) + text[(at + 1)..];
        return text + "x";
    }

    private async Task<IEnumerable<T>> QueryAsync<T>(string sql)
    {
        await using var connection = await OpenAsync();
        return await Dapper.SqlMapper.QueryAsync<T>(connection, sql);
    }
}

/// <summary>The generators: one sample is the typed fields of <see cref="Sample"/>, a free-form tree and maybe an
/// action.</summary>
internal static class Values
{
    private const long MaxExact = 9_007_199_254_740_992;

    private static readonly Gen<string> Unit = Gen.Frequency(
        (6, Gen.Char['a', 'z'].Select(c => c.ToString())),
        (
            2,
            Gen.OneOf(
                "\"",
                "\\",
                "\t",
                "\n",
                "\u0001",
                "\u001f",
                "\u007f",
                "\u2028",
                "\ufeff",
                "\uffff",
                "é",
                "ß",
                "İ",
                "ı",
                "€",
                "中",
                "😀",
                "𝄞",
                "\U0010FFFF",
                ".",
                " ",
                "__"
            )
        ),
        (2, Gen.Int[1, 0x10FFFF].Where(cp => cp is < 0xD800 or > 0xDFFF).Select(char.ConvertFromUtf32))
    );

    public static readonly Gen<string> Text = Unit.Array[0, 12].Select(string.Concat);

    private static readonly Gen<long> Long = Gen.Frequency(
        (
            3,
            Gen.OneOf(0L, -1L, long.MinValue, long.MaxValue, MaxExact, -MaxExact, MaxExact + 1, -MaxExact - 1, 1L << 62)
        ),
        (3, Gen.Long),
        (2, Gen.Long[-MaxExact, MaxExact])
    );

    private static readonly Gen<double> Double = Gen.Frequency(
        (
            3,
            Gen.OneOf(
                0.0,
                -0.0,
                double.Epsilon,
                -double.Epsilon,
                double.MaxValue,
                double.MinValue,
                0.1,
                1e21,
                1e-7,
                9007199254740993.0,
                5e-324,
                1.7976931348623157e308,
                123.456
            )
        ),
        (3, Gen.Long.Select(BitConverter.Int64BitsToDouble).Where(double.IsFinite))
    );

    private static readonly Gen<decimal> Decimal = Gen.Frequency(
        (
            2,
            Gen.OneOf(
                decimal.MaxValue,
                decimal.MinValue,
                0.1m,
                1.50m,
                12345678901234.5678m,
                0.0000000000000000000000000001m,
                1m,
                -7.000m
            )
        ),
        (
            3,
            Gen.Select(Gen.Int, Gen.Int, Gen.Int, Gen.Bool, Gen.Byte[0, 28])
                .Select(
                    (lo, mid, hi, negative, scale) => new decimal(lo, mid, hi, negative && (lo | mid | hi) != 0, scale)
                )
        )
    );

    private static readonly Gen<DateTime> DateTimeValue = Gen.Select(
            Gen.Long[DateTime.MinValue.Ticks + TimeSpan.TicksPerDay, DateTime.MaxValue.Ticks - TimeSpan.TicksPerDay],
            Gen.OneOf(DateTimeKind.Utc, DateTimeKind.Unspecified, DateTimeKind.Local)
        )
        .Select((ticks, kind) => new DateTime(ticks, kind));

    private static readonly Gen<DateTimeOffset> DateTimeOffsetValue = Gen.Select(
            Gen.Long[DateTime.MinValue.Ticks + TimeSpan.TicksPerDay, DateTime.MaxValue.Ticks - TimeSpan.TicksPerDay],
            Gen.Int[-14 * 60, 14 * 60]
        )
        .Select((ticks, minutes) => new DateTimeOffset(ticks, TimeSpan.FromMinutes(minutes)));

    private static readonly Gen<BigInteger> Big = Gen.Select(Gen.Char['0', '9'].Array[1, 45], Gen.Bool)
        .Select(
            (digits, negative) =>
                BigInteger.Parse((negative ? "-" : "") + new string(digits), CultureInfo.InvariantCulture)
        );

    private static Gen<JsonNode?> Tree(int depth)
    {
        var leaf = Gen.Frequency(
            (3, Text.Select(s => (JsonNode?)s)),
            (3, Long.Select(l => (JsonNode?)l)),
            (3, Double.Select(d => (JsonNode?)d)),
            (1, Gen.Bool.Select(b => (JsonNode?)b)),
            (1, Gen.Const((JsonNode?)null))
        );
        if (depth == 0)
            return leaf;
        var inner = Tree(depth - 1);
        return Gen.Frequency(
            (4, leaf),
            (1, inner.Array[0, 4].Select(items => (JsonNode?)new JsonArray(items))),
            (
                1,
                Gen.Select(Text, inner)
                    .Array[0, 4]
                    .Select(members =>
                    {
                        var obj = new JsonObject();
                        foreach (var (key, value) in members)
                            obj[key] = value;
                        return (JsonNode?)obj;
                    })
            )
        );
    }

    public static readonly Gen<Adjustment?> Adjustment = Gen.Frequency(
        (1, Gen.Const((Adjustment?)null)),
        (
            1,
            Gen.Select(Decimal, Long, DateTimeValue, Gen.OneOf(Plan.Free, Plan.Pro))
                .Select((amount, count, at, plan) => (Adjustment?)new Adjustment(amount, count, at, plan))
        )
    );

    private static readonly Gen<(string, decimal, long, int, double, float, bool, DateTime)> Scalars = Gen.Select(
        Text,
        Decimal,
        Long,
        Gen.Int,
        Double,
        Gen.Single.Where(float.IsFinite),
        Gen.Bool,
        DateTimeValue
    );

    private static readonly Gen<(DateTimeOffset, Guid, ulong, Int128, BigInteger, JsonNode?, Adjustment?)> Others =
        Gen.Select(
            DateTimeOffsetValue,
            Gen.Guid,
            Gen.ULong,
            Gen.Select(Gen.ULong, Gen.ULong, (upper, lower) => new Int128(upper, lower)),
            Big,
            Tree(4),
            Adjustment
        );

    public static readonly Gen<SampleCase> Case = Gen.Select(
        Scalars,
        Others,
        (a, b) =>
            new SampleCase(
                a.Item1,
                a.Item2,
                a.Item3,
                a.Item4,
                a.Item5,
                a.Item6,
                a.Item7,
                a.Item8,
                b.Item1,
                b.Item2,
                b.Item3,
                b.Item4,
                b.Item5,
                b.Item6,
                b.Item7
            )
    );

    /// <summary>What the README's table says is stored for a tree of .NET values, written independently of Spector's
    /// code.</summary>
    public static JsonNode? StoredForm(JsonNode? node) =>
        node switch
        {
            null => null,
            JsonObject o => new JsonObject(o.Select(m => KeyValuePair.Create(m.Key, StoredForm(m.Value)))),
            JsonArray a => new JsonArray(a.Select(StoredForm).ToArray()),
            // 2^53 itself is a string: 2^53 + 1 parses to the same double.
            JsonValue v when v.TryGetValue<long>(out var l) => l is > -MaxExact and < MaxExact
                ? JsonValue.Create(l)
                : JsonValue.Create(l.ToString(CultureInfo.InvariantCulture)),
            JsonValue v when v.TryGetValue<double>(out var d) => JsonValue.Create(d == 0 ? 0.0 : d),
            _ => node.DeepClone(),
        };
}

internal sealed record Adjustment(decimal Amount, long Count, DateTime At, Plan Plan);

internal sealed record SampleCase(
    string Text,
    decimal Amount,
    long Count,
    int Small,
    double Ratio,
    float Single,
    bool Flag,
    DateTime At,
    DateTimeOffset When,
    Guid Ref,
    ulong Huge,
    Int128 Wide,
    BigInteger Big,
    JsonNode? Extra,
    Adjustment? Adjust
)
{
    public Plan Plan { get; init; } = Plan.Pro;

    public Attrs Attrs() =>
        new()
        {
            ["text"] = Text,
            ["amount"] = Amount,
            ["count"] = Count,
            ["small"] = Small,
            ["ratio"] = Ratio,
            ["single"] = Single,
            ["flag"] = Flag,
            ["at"] = At,
            ["when"] = When,
            ["ref"] = Ref,
            ["plan"] = Plan.ToString(),
            ["huge"] = JsonValue.Create(Huge),
            ["wide"] = JsonValue.Create(Wide),
            ["big"] = JsonValue.Create(Big),
            ["extra"] = Extra?.DeepClone(),
        };

    /// <summary>Compares bit for bit; what the stored form defines (UTC kind, no negative zero) is expected as
    /// such.</summary>
    public void AssertSame(Sample record, string what)
    {
        Assert.Multiple(() =>
        {
            Assert.That(record.Text, Is.EqualTo(Text), what);
            Assert.That(
                decimal.GetBits(record.Amount),
                Is.EqualTo(decimal.GetBits(Amount)),
                $"{what}: amount {Amount} vs {record.Amount}"
            );
            Assert.That(record.Count, Is.EqualTo(Count), what);
            Assert.That(record.Small, Is.EqualTo(Small), what);
            Assert.That(
                BitConverter.DoubleToInt64Bits(record.Ratio),
                Is.EqualTo(BitConverter.DoubleToInt64Bits(Ratio == 0 ? 0 : Ratio)),
                $"{what}: ratio {Ratio:R} vs {record.Ratio:R}"
            );
            Assert.That(
                BitConverter.SingleToInt32Bits(record.Single),
                Is.EqualTo(BitConverter.SingleToInt32Bits(Single == 0 ? 0 : Single)),
                what
            );
            Assert.That(record.Flag, Is.EqualTo(Flag), what);
            var at = At.Kind == DateTimeKind.Local ? At.ToUniversalTime() : At;
            Assert.That(
                (record.At.Ticks, record.At.Kind),
                Is.EqualTo((at.Ticks, DateTimeKind.Utc)),
                $"{what}: at {At:O} {At.Kind}"
            );
            Assert.That((record.When.Ticks, record.When.Offset), Is.EqualTo((When.Ticks, When.Offset)), what);
            Assert.That(record.Ref, Is.EqualTo(Ref), what);
            Assert.That(record.Plan, Is.EqualTo(Plan), what);
            Assert.That(record.Huge, Is.EqualTo(Huge), what);
            Assert.That(record.Wide, Is.EqualTo(Wide), what);
            Assert.That(record.Big, Is.EqualTo(Big), what);
        });
    }
}
