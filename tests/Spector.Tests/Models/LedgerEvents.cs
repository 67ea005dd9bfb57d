namespace Spector.Tests;

/// <summary>A hashed events table: every event is chained to the previous one.</summary>
[EventsTable("ledger", Hashed = true)]
[EventSchema(typeof(LedgerAccount), 0)]
[EventSchema(typeof(Wallet), 1)]
[EventSchema(typeof(LeakyWallet), 2)]
public partial class LedgerEvents;

[Evented(Table = "ledger_accounts", Actions = ["post"])]
public partial class LedgerAccount
{
    public Guid Id { get; set; }
    public string Owner { get; set; } = "";
    public decimal Balance { get; set; }
    public string? Note { get; set; }

    static void Changeset(Changeset<LedgerAccount> c) => c.Cast("owner", "note").ValidateRequired("owner");

    [OnAction("post")]
    static void Post(Changeset<LedgerAccount> c, decimal amount, string memo) => c.Record.Balance += amount;
}

/// <summary>Savepoints every 10 events; its hook captures the whole state.</summary>
[Evented(Table = "wallets", Actions = ["deposit"], SavepointEvery = 10)]
public partial class Wallet
{
    public Guid Id { get; set; }
    public string Owner { get; set; } = "";
    public decimal Balance { get; set; }
    public int Deposits { get; set; }

    [System.ComponentModel.DataAnnotations.Schema.NotMapped]
    public List<string> Memos { get; set; } = [];

    static void Changeset(Changeset<Wallet> c) =>
        c.Cast("owner", "balance", "deposits", "memos").ValidateRequired("owner");

    [OnAction("deposit")]
    static void Deposit(Changeset<Wallet> c, decimal amount, string memo)
    {
        c.Record.Balance += amount;
        c.Record.Deposits++;
        c.Record.Memos.Add(memo);
    }

    static Attrs Savepoint(Wallet w, int version) =>
        new()
        {
            ["owner"] = w.Owner,
            ["balance"] = w.Balance,
            ["deposits"] = w.Deposits,
            ["memos"] = new System.Text.Json.Nodes.JsonArray([
                .. w.Memos.Select(m => (System.Text.Json.Nodes.JsonNode?)m),
            ]),
        };
}

/// <summary>A Savepoint hook that forgets a field: Spector refuses to store such a savepoint.</summary>
[Evented(Actions = ["deposit"])]
public partial class LeakyWallet
{
    public Guid Id { get; set; }
    public string Owner { get; set; } = "";
    public int Deposits { get; set; }

    static void Changeset(Changeset<LeakyWallet> c) => c.Cast("owner", "deposits");

    [OnAction("deposit")]
    static void Deposit(Changeset<LeakyWallet> c) => c.Record.Deposits++;

    static Attrs Savepoint(LeakyWallet w, int version) => new() { ["owner"] = w.Owner };
}
