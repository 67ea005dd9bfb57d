using Dapper;

namespace Spector.Tests;

/// <summary>
/// DESIGN 4's contract: the same key, record, action and payload returns the original result and appends
/// nothing; the same key with anything different is a typed error naming the first event.
/// </summary>
[TestFixture(Db.Sqlite)]
[TestFixture(Db.Postgres)]
public sealed class IdempotencyTests(Db db) : DatabaseTest(db)
{
    private static WriteOptions Key(string key) => new() { IdempotencyKey = key };

    [Test]
    public async Task A_retried_insert_returns_the_first_record_and_appends_nothing()
    {
        var attrs = new Attrs
        {
            ["name"] = "Ann",
            ["email"] = "a@x",
            ["age"] = 30,
        };
        var first = await User.InsertAsync(attrs, Key("signup-1"));
        var retry = await User.InsertAsync(
            new Attrs
            {
                ["name"] = "Ann",
                ["email"] = "a@x",
                ["age"] = 30,
            },
            Key("signup-1")
        );

        Assert.That(retry.Id, Is.EqualTo(first.Id));
        Assert.That((retry.Name, retry.Age, retry.InsertedAt), Is.EqualTo((first.Name, first.Age, first.InsertedAt)));
        Assert.That(await CountAsync("events"), Is.EqualTo(1));
        Assert.That(await CountAsync("users"), Is.EqualTo(1));
        await using var connection = await OpenAsync();
        Assert.That(
            await connection.ExecuteScalarAsync<string>("SELECT \"idempotency_key\" FROM \"events\""),
            Is.EqualTo("signup-1")
        );
    }

    private static IEnumerable<TestCaseData> BadKeys()
    {
        TestCaseData Case(string name, string key, string reason) =>
            new TestCaseData(key, reason).SetName($"{{m}}({name})");
        yield return Case("empty", "", "empty");
        yield return Case("NUL", "order\0" + "1", "U+0000");
        yield return Case("lone high surrogate", "lone\uD800", "lone UTF-16 surrogate (U+D800)");
        yield return Case("lone low surrogate", "\uDFFFlone", "lone UTF-16 surrogate (U+DFFF)");
        yield return Case("513 bytes", new string('k', 511) + "é", "at most 512 UTF-8 bytes; this one has 513");
        yield return Case("3000 bytes", new string('€', 1000), "this one has 3000");
    }

    [TestCaseSource(nameof(BadKeys))]
    public async Task A_key_the_databases_cannot_store_alike_is_refused_before_anything_is_written(
        string key,
        string reason
    )
    {
        var user = await User.InsertAsync(new Attrs { ["name"] = "Ann", ["email"] = "a@x" });

        var error = Assert.ThrowsAsync<ArgumentException>(() =>
            user.UpdateAsync(new Attrs { ["age"] = 31 }, Key(key))
        )!;
        Assert.That(error.Message, Does.Contain(reason));
        Assert.That(error.ParamName, Is.EqualTo(nameof(WriteOptions.IdempotencyKey)));
        Assert.ThrowsAsync<ArgumentException>(() =>
            User.InsertAsync(new Attrs { ["name"] = "Bo", ["email"] = "b@x" }, Key(key))
        );
        Assert.That(await CountAsync("events"), Is.EqualTo(1), "nothing written");
    }

    [Test]
    public async Task Keys_at_the_limit_and_with_astral_characters_are_distinct_and_kept()
    {
        var user = await User.InsertAsync(new Attrs { ["name"] = "Ann", ["email"] = "a@x" });
        var longest = new string('k', 508) + "🚀";
        await user.UpdateAsync(new Attrs { ["age"] = 31 }, Key(longest));
        await user.UpdateAsync(new Attrs { ["age"] = 32 }, Key("🚀"));
        await user.UpdateAsync(new Attrs { ["age"] = 33 }, Key("🚁"));

        Assert.That((await User.GetAsync(user.Id))!.Age, Is.EqualTo(33), "three keys, three writes");
        await using var connection = await OpenAsync();
        Assert.That(
            await connection.QueryAsync<string>(
                "SELECT \"idempotency_key\" FROM \"events\" WHERE \"idempotency_key\" IS NOT NULL ORDER BY \"seq\""
            ),
            Is.EqualTo(new[] { longest, "🚀", "🚁" })
        );
    }

    [Test]
    public async Task A_retried_update_action_and_delete_append_once_each()
    {
        var user = await User.InsertAsync(new Attrs { ["name"] = "Ann", ["email"] = "a@x" });
        var updated = await user.UpdateAsync(new Attrs { ["age"] = 31 }, Key("u1"));
        await user.UpdateAsync(new Attrs { ["age"] = 40 });
        var again = await user.UpdateAsync(new Attrs { ["age"] = 31 }, Key("u1"));
        Assert.That(again.Age, Is.EqualTo(31), "the original result: the record as the first write left it");
        Assert.That(again.UpdatedAt, Is.EqualTo(updated.UpdatedAt));

        var when = new DateTimeOffset(2026, 1, 2, 3, 4, 5, TimeSpan.FromHours(2));
        await user.ArchiveAsync(when, Key("a1"));
        await user.ArchiveAsync(when, Key("a1"));
        await user.DeleteAsync(Key("d1"));
        await user.DeleteAsync(Key("d1"));

        var events = await User.AllEventsAsync(user.Id);
        Assert.That(
            events.Select(e => e.Action),
            Is.EqualTo(new[] { "insert", "update", "update", "archive", "delete" })
        );
        Assert.ThrowsAsync<RecordNotFoundException>(
            () => user.DeleteAsync(),
            "an unkeyed second delete still finds the record gone"
        );
    }

    [Test]
    public async Task The_same_key_with_anything_different_is_refused_naming_the_first_event()
    {
        var ann = await User.InsertAsync(new Attrs { ["name"] = "Ann", ["email"] = "a@x" });
        var bob = await User.InsertAsync(new Attrs { ["name"] = "Bob", ["email"] = "b@x" });
        await ann.UpdateAsync(new Attrs { ["age"] = 31 }, Key("k"));
        var first = (await User.AllEventsAsync(ann.Id))[^1];
        var count = await CountAsync("events");

        var otherPayload = Assert.ThrowsAsync<IdempotencyKeyReusedException>(() =>
            ann.UpdateAsync(new Attrs { ["age"] = 32 }, Key("k"))
        );
        var otherRecord = Assert.ThrowsAsync<IdempotencyKeyReusedException>(() =>
            bob.UpdateAsync(new Attrs { ["age"] = 31 }, Key("k"))
        );
        var otherAction = Assert.ThrowsAsync<IdempotencyKeyReusedException>(() =>
            ann.TouchAsync(new Attrs { ["age"] = 31 }, Key("k"))
        );
        Assert.That(otherAction!.Message, Does.Contain("its action is update, not touch"), "no \"a update\"");
        var insert = Assert.ThrowsAsync<IdempotencyKeyReusedException>(() =>
            User.InsertAsync(new Attrs { ["name"] = "C", ["email"] = "c" }, Key("k"))
        );

        foreach (var error in new[] { otherPayload, otherRecord, otherAction, insert })
        {
            Assert.That(error!.FirstEventId, Is.EqualTo(first.Id));
            Assert.That(error.FirstRecordId, Is.EqualTo(ann.Id));
            Assert.That(error.Message, Does.Contain(first.Id.ToString()).And.Contain("'k'"));
        }
        Assert.That(await CountAsync("events"), Is.EqualTo(count), "nothing stored");
        Assert.ThrowsAsync<ArgumentException>(() => ann.UpdateAsync(new Attrs(), Key("")));
    }

    [Test]
    public async Task Concurrent_duplicates_append_exactly_one_event()
    {
        var results = await Task.WhenAll(
            Enumerable
                .Range(0, 8)
                .Select(_ =>
                    Task.Run(() => User.InsertAsync(new Attrs { ["name"] = "Ann", ["email"] = "a@x" }, Key("once")))
                )
        );
        Assert.That(results.Select(u => u.Id).Distinct().Count(), Is.EqualTo(1));

        var counter = await Counter.InsertAsync(new Attrs { ["name"] = "hits" });
        await Task.WhenAll(
            Enumerable
                .Range(0, 8)
                .Select(_ =>
                    Task.Run(() => new Counter { Id = counter.Id }.UpdateAsync(new Attrs { ["by"] = 1 }, Key("bump")))
                )
        );

        Assert.That(await CountAsync("events"), Is.EqualTo(3));
        Assert.That((await Counter.GetAsync(counter.Id))!.Value, Is.EqualTo(1));
    }

    [Test]
    public async Task Keys_work_inside_a_callers_transaction_and_roll_back_with_it()
    {
        var counter = await Counter.InsertAsync(new Attrs { ["name"] = "hits" });
        await using (var connection = await OpenAsync())
        {
            await using var tx = await connection.BeginTransactionAsync();
            var session = new SpectorSession(connection, tx);
            await counter.UpdateAsync(session, new Attrs { ["by"] = 1 }, Key("t1"));
            var again = await counter.UpdateAsync(session, new Attrs { ["by"] = 1 }, Key("t1"));
            Assert.That(again.Value, Is.EqualTo(1));
            await tx.RollbackAsync();
        }
        Assert.That(await CountAsync("events"), Is.EqualTo(1), "the rollback took the keyed event with it");
        Assert.That(
            (await counter.UpdateAsync(new Attrs { ["by"] = 1 }, Key("t1"))).Value,
            Is.EqualTo(1),
            "the key is free again"
        );
        Assert.That(await CountAsync("events"), Is.EqualTo(2));
    }
}
