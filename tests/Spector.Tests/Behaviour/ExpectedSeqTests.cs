namespace Spector.Tests;

/// <summary>Optimistic concurrency on the head: a stale expected seq is refused with both seqs, nothing
/// stored.</summary>
[TestFixture(Db.Sqlite)]
[TestFixture(Db.Postgres)]
public sealed class ExpectedSeqTests(Db db) : DatabaseTest(db)
{
    private static WriteOptions At(long seq) => new() { ExpectedSeq = seq };

    [Test]
    public async Task A_current_expectation_writes_and_a_stale_one_is_refused_on_every_write_method()
    {
        var user = await User.InsertAsync(new Attrs { ["name"] = "Ann", ["email"] = "a@x" });
        var read = await User.GetVersionedAsync(user.Id);
        Assert.That(read!.Seq, Is.EqualTo(1));

        var updated = await user.UpdateAsync(new Attrs { ["age"] = 31 }, At(read.Seq));
        Assert.That(updated.Age, Is.EqualTo(31));

        var stale = new Func<Task>[]
        {
            () => user.UpdateAsync(new Attrs { ["age"] = 99 }, At(read.Seq)),
            () => user.ArchiveAsync(DateTimeOffset.UnixEpoch, At(read.Seq)),
            () => user.TouchAsync(new Attrs(), At(read.Seq)),
            () => user.DeleteAsync(At(read.Seq)),
            () => user.UpdateAsync(new Attrs { ["age"] = 99 }, At(3)),
        };
        foreach (var write in stale)
        {
            var error = Assert.ThrowsAsync<ConcurrencyConflictException>(() => write());
            Assert.That(error!.ActualSeq, Is.EqualTo(2));
            Assert.That(error.ExpectedSeq, Is.AnyOf(1L, 3L));
            Assert.That(error.RecordId, Is.EqualTo(user.Id));
            Assert.That(error.Message, Does.Contain($"expected seq {error.ExpectedSeq}").And.Contain("at seq 2"));
        }
        Assert.That(await CountAsync("events"), Is.EqualTo(2), "nothing stored");
        Assert.That((await User.GetAsync(user.Id))!.Age, Is.EqualTo(31));

        await user.DeleteAsync(At(2));
        Assert.That(await User.GetVersionedAsync(user.Id), Is.Null);
        Assert.ThrowsAsync<ArgumentOutOfRangeException>(() =>
            User.InsertAsync(new Attrs { ["name"] = "B", ["email"] = "b" }, At(1))
        );
    }

    [Test]
    public async Task Savepoints_take_an_expected_seq_too()
    {
        var wallet = await Wallet.InsertAsync(new Attrs { ["owner"] = "ann" });
        wallet = await wallet.DepositAsync(5m, "five");
        Assert.ThrowsAsync<ConcurrencyConflictException>(() => wallet.SavepointAsync(At(1)));
        await wallet.SavepointAsync(At(2));
        Assert.That((await Wallet.GetVersionedAsync(wallet.Id))!.Seq, Is.EqualTo(3));
    }
}

/// <summary>Existence and listing answered by the heads table, without replay.</summary>
[TestFixture(Db.Sqlite)]
[TestFixture(Db.Postgres)]
public sealed class HeadsReadTests(Db db) : DatabaseTest(db)
{
    [Test]
    public async Task Exists_and_ids_see_live_records_of_their_own_type_only()
    {
        var users = new List<User>();
        for (var i = 0; i < 3; i++)
            users.Add(await User.InsertAsync(new Attrs { ["name"] = $"u{i}", ["email"] = $"u{i}@x" }));
        var counter = await Counter.InsertAsync(new Attrs { ["name"] = "hits" });
        await users[1].DeleteAsync();

        Assert.That(await User.ExistsAsync(users[0].Id), Is.True);
        Assert.That(await User.ExistsAsync(users[1].Id), Is.False, "deleted");
        Assert.That(await User.ExistsAsync(counter.Id), Is.False, "a record of another type");
        Assert.That(await User.ExistsAsync(Guid.Empty), Is.False);
        var ids = new List<Guid>();
        await foreach (var id in User.IdsAsync())
            ids.Add(id);
        Assert.That(ids, Is.EquivalentTo(new[] { users[0].Id, users[2].Id }));
        await foreach (var id in Counter.IdsAsync())
            Assert.That(id, Is.EqualTo(counter.Id));
    }

    [Test]
    public async Task Ids_cover_every_shard()
    {
        var ids = new List<Guid>();
        for (var i = 0; i < 6; i++)
            ids.Add((await ShardNote.InsertAsync(new Attrs { ["title"] = $"n{i}" })).Id);
        var listed = new List<Guid>();
        await foreach (var id in ShardNote.IdsAsync())
            listed.Add(id);
        Assert.That(listed, Is.EquivalentTo(ids));
    }
}
