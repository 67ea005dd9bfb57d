namespace Spector;

/// <summary>
/// Declares a link table between events of one record: <c>[EventLink("edits", "basic_chat_edits", "previous_id")]</c>
/// creates <c>basic_chat_edits(event_id, previous_id)</c>. A <c>PrepareEvent</c> hook adds links with
/// <see cref="EventDraft.Link"/>; they are written in the event's transaction, may only join events of the same
/// record, and are covered by the hash on hashed tables.
/// </summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
public sealed class EventLinkAttribute(string name, string table, string column) : Attribute
{
    /// <summary>The link's name, used by <see cref="EventDraft.Link"/> and the link queries.</summary>
    public string Name { get; } = name;

    /// <summary>The link table.</summary>
    public string Table { get; } = table;

    /// <summary>The column holding the linked event's id.</summary>
    public string Column { get; } = column;

    /// <summary>Adds an integer <c>type</c> column, so one table can hold several kinds of link.</summary>
    public bool Typed { get; set; }
}

/// <summary>One link table of an events table.</summary>
/// <param name="Name">The link's name.</param>
/// <param name="Table">The link table.</param>
/// <param name="Column">The column holding the linked event's id.</param>
/// <param name="Typed">Whether rows carry an integer type.</param>
public sealed record EventLinkInfo(string Name, string Table, string Column, bool Typed = false)
{
    internal void Validate()
    {
        SqlIdentifier.Validate(Name, "link");
        SqlIdentifier.Validate(Table, "link table");
        SqlIdentifier.Validate(Column, "link column");
    }
}

/// <summary>One link from an event to another event of the same record.</summary>
/// <param name="Name">The link's name.</param>
/// <param name="Target">The linked event's id.</param>
/// <param name="Type">The link's type, for typed links.</param>
public sealed record EventLinkRow(string Name, Guid Target, int? Type = null);
