using Dapper;

namespace Spector.Tests;

/// <summary>Operations given a session join the caller's connection and transaction.</summary>
[TestFixture(Db.Sqlite)]
[TestFixture(Db.Postgres)]
public sealed class SessionTests(Db db) : DatabaseTest(db)
{
    [Test]
    public async Task Events_written_in_a_rolled_back_transaction_are_gone_with_it()
    {
        await using var connection = await OpenAsync();
        await using (var tx = await connection.BeginTransactionAsync())
        {
            var session = new SpectorSession(connection, tx);
            var user = await User.InsertAsync(session, new Attrs { ["name"] = "Ed", ["email"] = "ed@example.com" });
            await user.UpdateAsync(session, new Attrs { ["age"] = 5 });
            Assert.That((await User.GetAsync(session, user.Id))!.Age, Is.EqualTo(5), "visible inside the transaction");
            await tx.RollbackAsync();
        }

        Assert.That(await CountAsync("events"), Is.EqualTo(0));
        Assert.That(await CountAsync("users"), Is.EqualTo(0));
    }

    [Test]
    public async Task Events_commit_together_with_the_callers_own_writes()
    {
        await using var connection = await OpenAsync();
        await connection.ExecuteAsync("CREATE TABLE \"audit_note\" (\"text\" TEXT NOT NULL)");
        Guid id;
        await using (var tx = await connection.BeginTransactionAsync())
        {
            var session = new SpectorSession(connection, tx);
            id = (await User.InsertAsync(session, new Attrs { ["name"] = "Ed", ["email"] = "ed@example.com" })).Id;
            await connection.ExecuteAsync(
                "INSERT INTO \"audit_note\" (\"text\") VALUES ('signed up')",
                transaction: tx
            );
            await tx.CommitAsync();
        }

        Assert.That((await User.GetAsync(id))!.Name, Is.EqualTo("Ed"));
        Assert.That(await CountAsync("audit_note"), Is.EqualTo(1));
    }

    [Test]
    public async Task An_invalid_write_inside_a_transaction_leaves_the_transaction_usable()
    {
        await using var connection = await OpenAsync();
        await using var tx = await connection.BeginTransactionAsync();
        var session = new SpectorSession(connection, tx);
        var counter = await Counter.InsertAsync(session, new Attrs { ["name"] = "n", ["by"] = 1 });

        Assert.ThrowsAsync<ChangesetInvalidException>(() => counter.UpdateAsync(session, new Attrs { ["by"] = -5 }));
        Assert.ThrowsAsync<RecordNotFoundException>(() => new Counter { Id = Guid.NewGuid() }.DeleteAsync(session));
        await counter.UpdateAsync(session, new Attrs { ["by"] = 1 });
        await tx.CommitAsync();

        Assert.That((await Counter.GetAsync(counter.Id))!.Value, Is.EqualTo(2));
        Assert.That(await CountAsync("events"), Is.EqualTo(2));
    }

    [Test]
    public async Task A_session_without_a_transaction_commits_each_write()
    {
        await using var connection = await OpenAsync();
        var session = new SpectorSession(connection);

        var note = await Note.InsertAsync(session, new Attrs { ["title"] = "t" });

        Assert.That(await Note.GetAsync(note.Id), Is.Not.Null);
    }

    [Test]
    public async Task A_session_needs_an_open_connection()
    {
        await using var connection = await OpenAsync();
        await connection.CloseAsync();

        Assert.Throws<InvalidOperationException>(() => _ = new SpectorSession(connection));
    }

    [Test]
    public void Cancellation_is_honoured()
    {
        using var cancelled = new CancellationTokenSource();
        cancelled.Cancel();

        Assert.CatchAsync<OperationCanceledException>(() =>
            User.InsertAsync(new Attrs { ["name"] = "Ed", ["email"] = "e@x" }, cancellationToken: cancelled.Token)
        );
    }
}
