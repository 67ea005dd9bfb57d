using System.ComponentModel.DataAnnotations.Schema;
using System.Text.Json.Nodes;

namespace Spector.Tests;

[EventsTable("events")]
[EventSchema(typeof(User), 0)]
[EventSchema(typeof(Counter), 1)]
[EventSchema(typeof(Note), 5)]
[EventSchema(typeof(Typo), 6)]
[EventSchema(typeof(Doc), 7)]
[EventSchema(typeof(Ticket), 8)]
[EventSchema(typeof(Memo), 9)]
[ActionAlias("publish", "release")]
public partial class AppEvents;

public enum Plan
{
    Free,
    Pro,
}

/// <summary>A record with its own table, a spread of column types, a renamed column and an unmapped one.</summary>
[Evented(Version = 1, Table = "users", Actions = ["archive", "touch"])]
public partial class User
{
    public Guid Id { get; set; }
    public string Name { get; set; } = "";
    public string Email { get; set; } = "";
    public int Age { get; set; }
    public long Visits { get; set; }
    public decimal Balance { get; set; }
    public double Score { get; set; }
    public bool Active { get; set; }
    public Plan Plan { get; set; }
    public Guid? ReferrerId { get; set; }
    public DateTimeOffset? ArchivedAt { get; set; }

    [Column("signup_source")]
    public string? Source { get; set; }

    [NotMapped]
    public List<string> Tags { get; set; } = [];

    public DateTimeOffset InsertedAt { get; set; }
    public DateTimeOffset UpdatedAt { get; set; }

    static void Changeset(Changeset<User> c) =>
        c.Cast(
                "name",
                "email",
                "age",
                "visits",
                "balance",
                "score",
                "active",
                "plan",
                "referrer_id",
                "archived_at",
                "source",
                "tags",
                "inserted_at",
                "updated_at"
            )
            .ValidateRequired("name", "email");

    /// <summary>A typed action: the generated <c>ArchiveAsync(DateTimeOffset archivedAt)</c> stores
    /// "archived_at".</summary>
    [OnAction("archive")]
    static void Archive(Changeset<User> c, DateTimeOffset archivedAt) => c.Record.ArchivedAt = archivedAt;
}

/// <summary>A counter whose updates carry a delta ("by"), so a lost update shows in its value.</summary>
[Evented(Table = "counters")]
public partial class Counter
{
    public Guid Id { get; set; }
    public string Name { get; set; } = "";
    public int Value { get; set; }
    public DateTimeOffset UpdatedAt { get; set; }

    static void Changeset(Changeset<Counter> c)
    {
        c.Cast("name", "updated_at");
        if (c.Attrs["by"] is JsonNode by)
            c.Record.Value += by.GetValue<int>();
        if (c.Record.Value < 0)
            c.AddError("value", "must not go below zero");
    }
}

/// <summary>An embedded record: no table, its state lives only in the log.</summary>
[Evented]
public partial class Note
{
    public Guid Id { get; set; }
    public string Title { get; set; } = "";
    public List<string> Lines { get; set; } = [];

    static void Changeset(Changeset<Note> c)
    {
        c.Cast("title");
        if (c.Attrs["line"] is JsonNode line)
            c.Record.Lines.Add(line.GetValue<string>());
    }
}
