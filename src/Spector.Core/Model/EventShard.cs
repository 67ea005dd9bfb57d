namespace Spector;

/// <summary>
/// One physical events table of a log: the log's only table, or one of its shards. Each shard has its own
/// link tables (named <c>&lt;shard&gt;_&lt;link table&gt;</c>), its own positions and its own hash chain.
/// </summary>
public sealed class EventShard
{
    private readonly Dictionary<string, EventLinkInfo> _links;

    internal EventShard(string table, bool hashed, HashScope hashScope, IReadOnlyList<EventLinkInfo> links)
    {
        Table = SqlIdentifier.Validate(table, "events table");
        Links = links;
        foreach (var link in links)
            link.Validate();
        _links = links.ToDictionary(l => l.Name);
        Sql = new EventLogSql(table, hashed, hashScope, links);
    }

    /// <summary>The shard's events table.</summary>
    public string Table { get; }

    /// <summary>The shard's link tables, one per declared link.</summary>
    public IReadOnlyList<EventLinkInfo> Links { get; }

    /// <summary>This shard's table of the declared link <paramref name="name"/>.</summary>
    internal EventLinkInfo Link(string name) => _links[name];

    internal EventLogSql Sql { get; }

    /// <summary>The shard's heads table: one row per record (seq, hash, deleted, savepoint) and one per table
    /// chain.</summary>
    public string HeadsTable => Sql.Heads;

    /// <inheritdoc />
    public override string ToString() => Table;
}
