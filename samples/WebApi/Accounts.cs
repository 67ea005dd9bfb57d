using Spector;

namespace WebApi;

[EventsTable("bank_events", Hashed = true)]
[EventSchema(typeof(Account), 0)]
public partial class BankEvents;

/// <summary>A bank account: opened, credited and debited, never below zero.</summary>
[Evented(Version = 1, Table = "accounts", Actions = ["deposit", "withdraw"])]
public partial class Account
{
    public Guid Id { get; set; }
    public string Owner { get; set; } = "";
    public decimal Balance { get; set; }
    public DateTimeOffset InsertedAt { get; set; }
    public DateTimeOffset UpdatedAt { get; set; }

    static void Changeset(Changeset<Account> c) =>
        c.Cast("owner", "inserted_at", "updated_at").ValidateRequired("owner");

    [OnAction("deposit")]
    static void Deposit(Changeset<Account> c, decimal amount)
    {
        // Every event carries its time as "updated_at"; a typed action takes it like the insert does.
        c.Cast("updated_at");
        // Refused amounts never touch the balance: decimal arithmetic past its range throws, which would be a 500.
        if (amount <= 0)
            c.AddError("amount", "must be positive");
        else if (c.Record.Balance > decimal.MaxValue - amount)
            c.AddError("amount", "would take the balance past the largest amount an account holds");
        else
            c.Record.Balance += amount;
    }

    [OnAction("withdraw")]
    static void Withdraw(Changeset<Account> c, decimal amount)
    {
        c.Cast("updated_at");
        if (amount <= 0)
            c.AddError("amount", "must be positive");
        else if (c.Record.Balance < amount)
            c.AddError("amount", "is more than the balance");
        else
            c.Record.Balance -= amount;
    }
}
