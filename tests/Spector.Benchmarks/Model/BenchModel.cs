namespace Spector.Benchmarks.Model;

/// <summary>The benchmark's events tables: one plain, one hashed, so the two differ only in the chain.</summary>
[EventsTable("bench_events")]
[EventSchema(typeof(Account), 0)]
[EventSchema(typeof(SavedAccount), 1)]
public static partial class BenchEvents;

[EventsTable("bench_hashed_events", Hashed = true)]
[EventSchema(typeof(HashedAccount), 0)]
public static partial class BenchHashedEvents;

[EventsTable("bench_record_hashed_events", Hashed = true, HashScope = HashScope.Record)]
[EventSchema(typeof(RecordHashedAccount), 0)]
public static partial class BenchRecordHashedEvents;

/// <summary>A small record with a table: the shape most audit logs carry.</summary>
[Evented(Version = 1, Table = "bench_accounts")]
public partial class Account
{
    public Guid Id { get; set; }
    public string Owner { get; set; } = "";
    public decimal Balance { get; set; }
    public string? Memo { get; set; }

    static void Changeset(Changeset<Account> c) => c.Cast("owner", "balance", "memo").ValidateRequired("owner");
}

/// <summary>
/// As <see cref="Account"/>, with a savepoint every <see cref="Interval"/> events: an update replays at most that
/// many events however long the history, which is what makes its cost flat (docs/benchmarks.md).
/// </summary>
[Evented(Version = 1, Table = "bench_saved_accounts", SavepointEvery = Interval)]
public partial class SavedAccount
{
    public const int Interval = 20;

    public Guid Id { get; set; }
    public string Owner { get; set; } = "";
    public decimal Balance { get; set; }
    public string? Memo { get; set; }

    static void Changeset(Changeset<SavedAccount> c) => c.Cast("owner", "balance", "memo").ValidateRequired("owner");

    static Attrs Savepoint(SavedAccount a, int version) =>
        new()
        {
            ["owner"] = a.Owner,
            ["balance"] = a.Balance,
            ["memo"] = a.Memo,
        };
}

/// <summary>As <see cref="Account"/>, on the hashed table.</summary>
[Evented(Version = 1, Table = "bench_hashed_accounts")]
public partial class HashedAccount
{
    public Guid Id { get; set; }
    public string Owner { get; set; } = "";
    public decimal Balance { get; set; }
    public string? Memo { get; set; }

    static void Changeset(Changeset<HashedAccount> c) => c.Cast("owner", "balance", "memo").ValidateRequired("owner");
}

/// <summary>As <see cref="Account"/>, on the table with per-record chains.</summary>
[Evented(Version = 1, Table = "bench_record_hashed_accounts")]
public partial class RecordHashedAccount
{
    public Guid Id { get; set; }
    public string Owner { get; set; } = "";
    public decimal Balance { get; set; }
    public string? Memo { get; set; }

    static void Changeset(Changeset<RecordHashedAccount> c) =>
        c.Cast("owner", "balance", "memo").ValidateRequired("owner");
}
