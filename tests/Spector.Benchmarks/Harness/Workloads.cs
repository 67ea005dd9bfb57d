using Spector.Benchmarks.Model;

namespace Spector.Benchmarks.Harness;

/// <summary>
/// The operations compared, shared by the quick comparison and the BenchmarkDotNet suites: the same account
/// written by Spector, by hand-written Dapper and by EF Core with an audit interceptor.
/// </summary>
internal sealed class Workloads(BenchDatabase db)
{
    private static Attrs Change(int i) => new() { ["balance"] = i, ["memo"] = $"update {i}" };

    public Task SpectorInsertAsync(int i) => Account.InsertAsync(new Attrs { ["owner"] = "owner", ["balance"] = i });

    public Task SpectorHashedInsertAsync(int i) => HashedAccount.InsertAsync(new Attrs { ["owner"] = "owner", ["balance"] = i });

    public Task HandWrittenInsertAsync(int i) => db.HandWritten.InsertAsync("owner", i);

    public Task EfCoreInsertAsync(int i) => db.EfCore.InsertAsync("owner", i);

    public static Task SpectorUpdateAsync(Guid id, bool savepoints, int i) => savepoints
        ? new SavedAccount { Id = id }.UpdateAsync(Change(i))
        : new Account { Id = id }.UpdateAsync(Change(i));

    public Task HandWrittenUpdateAsync(Guid id, int i) => db.HandWritten.UpdateAsync(id, i, $"update {i}");

    public Task EfCoreUpdateAsync(Guid id, int i) => db.EfCore.UpdateAsync(id, i, $"update {i}");

    /// <summary>Rebuilds the record by replaying every event (Account has no savepoints).</summary>
    public static async Task SpectorReplayAsync(Guid id)
    {
        if (await Account.GetAsync(id) is null) throw new InvalidOperationException($"account {id} did not replay");
    }

    public async Task HandWrittenReadAsync(Guid id)
    {
        if ((await db.HandWritten.ReadEventsAsync(id)).Count == 0) throw new InvalidOperationException($"account {id} has no rows");
    }
}
