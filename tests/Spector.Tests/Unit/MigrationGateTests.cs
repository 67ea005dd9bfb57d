namespace Spector.Tests;

/// <summary>SQLite writers of a store wait while one of its migrations runs, and only then.</summary>
public sealed class MigrationGateTests
{
    [Test]
    public void With_no_migration_a_writer_passes_at_once()
    {
        var gate = new MigrationGate();
        Assert.That(gate.WaitAsync(CancellationToken.None).IsCompletedSuccessfully, Is.True);
        gate.Enter().Dispose();
        Assert.That(gate.WaitAsync(CancellationToken.None).IsCompletedSuccessfully, Is.True);
    }

    [Test]
    public async Task A_writer_waits_until_every_running_migration_has_ended()
    {
        var gate = new MigrationGate();
        var first = gate.Enter();
        var second = gate.Enter();
        var writer = gate.WaitAsync(CancellationToken.None);

        first.Dispose();
        first.Dispose(); // a second dispose does not end the other migration
        await Task.Delay(50);
        Assert.That(writer.IsCompleted, Is.False, "one migration still runs");

        second.Dispose();
        await writer.WaitAsync(TimeSpan.FromSeconds(5));
        Assert.That(gate.WaitAsync(CancellationToken.None).IsCompletedSuccessfully, Is.True);
    }

    [Test]
    public async Task A_migration_after_the_last_one_ended_holds_writers_again()
    {
        var gate = new MigrationGate();
        gate.Enter().Dispose();
        using (gate.Enter())
        {
            var writer = gate.WaitAsync(CancellationToken.None);
            await Task.Delay(50);
            Assert.That(writer.IsCompleted, Is.False);
        }
    }

    [Test]
    public void A_waiting_writer_can_be_cancelled()
    {
        var gate = new MigrationGate();
        using var migration = gate.Enter();
        using var cancel = new CancellationTokenSource();
        var writer = gate.WaitAsync(cancel.Token);
        cancel.Cancel();
        Assert.ThrowsAsync<TaskCanceledException>(() => writer);
    }
}
