using Spector;

namespace QuickStart;

/// <summary>The event log: one table, one stable schema index per evented type.</summary>
[EventsTable("events")]
[EventSchema(typeof(Account), 0)]
public partial class AppEvents;

/// <summary>An account whose every change is an event; its "accounts" table is kept in step.</summary>
[Evented(Version = 1, Table = "accounts")]
public partial class Account
{
    public Guid Id { get; set; }
    public string Owner { get; set; } = "";
    public string Email { get; set; } = "";
    public decimal Balance { get; set; }
    public DateTimeOffset InsertedAt { get; set; }
    public DateTimeOffset UpdatedAt { get; set; }

    // Runs for every new event and again for every stored event on replay.
    static void Changeset(Changeset<Account> c)
    {
        c.Cast("owner", "email", "inserted_at", "updated_at");
        c.Record.Balance += c.Attrs.Get<decimal>("deposit"); // 0 when absent; decimals are stored as strings
        c.Record.Balance -= c.Attrs.Get<decimal>("withdraw");
        c.ValidateRequired("owner", "email");
        if (c.Record.Balance < 0)
            c.AddError("balance", "would go below zero");
    }
}
