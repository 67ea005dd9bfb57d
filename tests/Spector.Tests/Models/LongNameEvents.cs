using System.ComponentModel.DataAnnotations.Schema;

namespace Spector.Tests;

/// <summary>
/// An events table whose name is as long as the identifier rule allows (63 characters): every object Spector
/// derives from it (heads table, indexes, triggers) must still get a valid name of its own.
/// </summary>
[EventsTable(Name, Hashed = true)]
[EventSchema(typeof(Tally), 0)]
public partial class LongNameEvents
{
    public const string Name = "spector_events_table_named_with_every_one_of_sixty_three_chars_";
}

/// <summary>A record whose column is named like one of Spector's own command parameters.</summary>
[Evented(Table = "tallies")]
public partial class Tally
{
    public Guid Id { get; set; }
    public string Name { get; set; } = "";

    [Column("__seq")]
    public int Count { get; set; }

    static void Changeset(Changeset<Tally> c)
    {
        c.Cast("name");
        if (c.Attrs["by"] is System.Text.Json.Nodes.JsonNode by)
            c.Record.Count += by.GetValue<int>();
    }
}
