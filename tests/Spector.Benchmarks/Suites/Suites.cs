using BenchmarkDotNet.Attributes;
using Spector.Benchmarks.Harness;

namespace Spector.Benchmarks.Suites;

/// <summary>
/// Shared set-up of the database suites: one database per run (a parameter), fresh tables, and the compared
/// workloads. BenchmarkDotNet's statistics replace the quick mode's medians; the Spector methods are compared
/// against the baseline method of each class. Set-up is synchronous, which every toolchain runs.
/// </summary>
[MemoryDiagnoser]
public abstract class DatabaseSuite
{
    private BenchDatabase? _db;

    [Params("sqlite", "postgres")]
    public string Database { get; set; } = "sqlite";

    internal BenchDatabase Db => _db!;

    internal Workloads Work { get; private set; } = null!;

    protected int Counter;

    [GlobalSetup]
    public void Open() => OpenAsync().GetAwaiter().GetResult();

    private async Task OpenAsync()
    {
        _db = await BenchDatabase.OpenAsync(Database);
        await _db.ResetAsync();
        Work = new Workloads(_db);
        await PrepareAsync();
    }

    protected virtual Task PrepareAsync() => Task.CompletedTask;

    [GlobalCleanup]
    public void Close() => _db?.DisposeAsync().AsTask().GetAwaiter().GetResult();
}

public class InsertSuite : DatabaseSuite
{
    [Benchmark(Baseline = true)]
    public Task HandWritten() => Work.HandWrittenInsertAsync(Counter++);

    [Benchmark]
    public Task Spector() => Work.SpectorInsertAsync(Counter++);

    [Benchmark]
    public Task SpectorHashed() => Work.SpectorHashedInsertAsync(Counter++);

    [Benchmark]
    public Task EfCore() => Work.EfCoreInsertAsync(Counter++);
}

/// <summary>Updates on a record with a long history; with savepoints replay reads at most SavedAccount.Interval
/// events.</summary>
public class UpdateSuite : DatabaseSuite
{
    private Guid _plain,
        _saved,
        _handWritten,
        _efCore;

    [Params(10, 1_000, 10_000)]
    public int History { get; set; }

    protected override async Task PrepareAsync()
    {
        _plain = (await Histories.LoadAsync(Db, savepoints: false, History, 1))[0];
        _saved = (await Histories.LoadAsync(Db, savepoints: true, History, 1))[0];
        _handWritten = await Db.HandWritten.InsertAsync("owner", 0);
        _efCore = await Db.EfCore.InsertAsync("owner", 0);
    }

    [Benchmark(Baseline = true)]
    public Task HandWritten() => Work.HandWrittenUpdateAsync(_handWritten, Counter++);

    [Benchmark]
    public Task Spector() => Workloads.SpectorUpdateAsync(_plain, savepoints: false, Counter++);

    [Benchmark]
    public Task SpectorWithSavepoints() => Workloads.SpectorUpdateAsync(_saved, savepoints: true, Counter++);

    [Benchmark]
    public Task EfCore() => Work.EfCoreUpdateAsync(_efCore, Counter++);
}

/// <summary>GetAsync of a 10,000-event record against Dapper's read of the same rows.</summary>
public class ReplaySuite : DatabaseSuite
{
    private Guid _id;

    protected override async Task PrepareAsync() =>
        _id = (await Histories.LoadAsync(Db, savepoints: false, 10_000, 1))[0];

    [Benchmark(Baseline = true)]
    public Task DapperRead() => Work.HandWrittenReadAsync(_id);

    [Benchmark]
    public Task SpectorGet() => Workloads.SpectorReplayAsync(_id);
}

/// <summary>Eight concurrent writers appending (<see cref="Workloads.Appends"/>): unhashed, one chain per table, one
/// chain per record.</summary>
public class ConcurrentAppendSuite : DatabaseSuite
{
    private const int Writers = 8;
    private readonly Func<int, Task> _unhashed = Workloads.UnhashedAppends();
    private readonly Func<int, Task> _tableHashed = Workloads.TableHashedAppends();
    private readonly Func<int, Task> _recordHashed = Workloads.RecordHashedAppends();
    private int _round;

    private Task Run(Func<int, Task> appends)
    {
        var round = _round++;
        return Task.WhenAll(Enumerable.Range(0, Writers).Select(w => appends(w * 1_000_000 + round)));
    }

    [Benchmark(Baseline = true, OperationsPerInvoke = Writers)]
    public Task Unhashed() => Run(_unhashed);

    [Benchmark(OperationsPerInvoke = Writers)]
    public Task TableHashed() => Run(_tableHashed);

    [Benchmark(OperationsPerInvoke = Writers)]
    public Task RecordHashed() => Run(_recordHashed);
}

/// <summary>The generator on 200 evented classes.</summary>
[MemoryDiagnoser]
public class GeneratorSuite
{
    [Benchmark]
    public int Generate200() => GeneratorWorkload.Run(200, repeats: 1).GeneratedFiles;
}
