namespace Spector.Tests;

/// <summary>A hashed events table: every event is chained to the previous one.</summary>
[EventsTable("ledger", Hashed = true)]
[EventSchema(typeof(LedgerAccount), 0)]
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
