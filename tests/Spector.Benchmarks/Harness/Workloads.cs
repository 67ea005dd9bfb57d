using System.Collections.Concurrent;
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

    public Task SpectorHashedInsertAsync(int i) =>
        HashedAccount.InsertAsync(new Attrs { ["owner"] = "owner", ["balance"] = i });

    /// <summary>
    /// Appends as concurrent writers make them, for <see cref="Measure.ConcurrentRateAsync"/> (operation numbers are
    /// writer * 1,000,000 + n): each writer inserts a record and appends four updates to it, then starts another.
    /// Chained appends pay for both cases: a first event, and an event after the record's last one.
    /// </summary>
    public static Func<int, Task> Appends(Func<int, Task<Guid>> insert, Func<Guid, int, Task> update)
    {
        var current = new ConcurrentDictionary<int, Guid>();
        return async i =>
        {
            var writer = i / 1_000_000;
            if (i % 5 == 0 || !current.TryGetValue(writer, out var id))
                current[writer] = await insert(i);
            else
                await update(id, i);
        };
    }

    public static Func<int, Task> UnhashedAppends() =>
        Appends(
            async i => (await Account.InsertAsync(new Attrs { ["owner"] = "owner", ["balance"] = i })).Id,
            (id, i) => new Account { Id = id }.UpdateAsync(Change(i))
        );

    public static Func<int, Task> TableHashedAppends() =>
        Appends(
            async i => (await HashedAccount.InsertAsync(new Attrs { ["owner"] = "owner", ["balance"] = i })).Id,
            (id, i) => new HashedAccount { Id = id }.UpdateAsync(Change(i))
        );

    public static Func<int, Task> RecordHashedAppends() =>
        Appends(
            async i => (await RecordHashedAccount.InsertAsync(new Attrs { ["owner"] = "owner", ["balance"] = i })).Id,
            (id, i) => new RecordHashedAccount { Id = id }.UpdateAsync(Change(i))
        );

    public Task HandWrittenInsertAsync(int i) => db.HandWritten.InsertAsync("owner", i);

    public Task EfCoreInsertAsync(int i) => db.EfCore.InsertAsync("owner", i);

    public static Task SpectorUpdateAsync(Guid id, bool savepoints, int i) =>
        savepoints
            ? new SavedAccount { Id = id }.UpdateAsync(Change(i))
            : new Account { Id = id }.UpdateAsync(Change(i));

    public Task HandWrittenUpdateAsync(Guid id, int i) => db.HandWritten.UpdateAsync(id, i, $"update {i}");

    public Task EfCoreUpdateAsync(Guid id, int i) => db.EfCore.UpdateAsync(id, i, $"update {i}");

    /// <summary>Rebuilds the record by replaying every event (Account has no savepoints).</summary>
    public static async Task SpectorReplayAsync(Guid id)
    {
        if (await Account.GetAsync(id) is null)
            throw new InvalidOperationException($"account {id} did not replay");
    }

    public async Task HandWrittenReadAsync(Guid id)
    {
        if ((await db.HandWritten.ReadEventsAsync(id)).Count == 0)
            throw new InvalidOperationException($"account {id} has no rows");
    }
}
