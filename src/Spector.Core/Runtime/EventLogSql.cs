namespace Spector;

/// <summary>The SQL text of one events table, built once from its validated, quoted name.</summary>
internal sealed class EventLogSql
{
    private const string EventColumns = "\"position\", \"id\", \"parent_id\", \"seq\", \"schema\", \"action\", \"payload\", \"metadata\", \"inserted_at\"";
    private const string AliasedColumns = "e.\"position\", e.\"id\", e.\"parent_id\", e.\"seq\", e.\"schema\", e.\"action\", e.\"payload\", e.\"metadata\", e.\"inserted_at\"";
    private readonly string _table;
    private readonly string _appendPostgres;
    private readonly string _appendSqlite;
    private readonly string _chainPostgres;
    private readonly string _chainSqlite;
    private readonly string _chainFromPostgres;
    private readonly string _chainFromSqlite;
    private readonly IReadOnlyList<EventLinkInfo> _links;
    private readonly Dictionary<string, string> _insertLink;

    private readonly string _recordChainPostgres;
    private readonly string _recordChainSqlite;

    public EventLogSql(string table, bool hashed, HashScope hashScope, IReadOnlyList<EventLinkInfo> links)
    {
        _links = links;
        _insertLink = links.ToDictionary(l => l.Name, l =>
            $"INSERT INTO {SqlIdentifier.Quote(l.Table)} (\"event_id\", {SqlIdentifier.Quote(l.Column)}{(l.Typed ? ", \"type\"" : "")}) " +
            $"VALUES (@event_id, @target{(l.Typed ? ", @type" : "")})");
        _table = table;
        var t = SqlIdentifier.Quote(table);
        const string replayColumns = "\"id\", \"seq\", \"schema\", \"action\", \"payload\"";
        string ReplaySql(string columns, string where) => $"SELECT {columns} FROM {t} WHERE \"parent_id\" = @parent_id{where} ORDER BY \"seq\"";
        string LatestSavepoint(string where) =>
            $" AND \"seq\" >= COALESCE((SELECT MAX(\"seq\") FROM {t} WHERE \"parent_id\" = @parent_id AND \"action\" = {EventActions.Savepoint}{where}), 1)";
        Replay = ReplaySql(replayColumns, "");
        ReplayUpTo = ReplaySql(replayColumns, " AND \"seq\" <= @up_to");
        ReplayFromSavepoint = ReplaySql(replayColumns, LatestSavepoint(""));
        ReplayFromSavepointUpTo = ReplaySql(replayColumns, " AND \"seq\" <= @up_to" + LatestSavepoint(" AND \"seq\" <= @up_to"));
        // A write to a per-record chain reads the record's head hash with the replay, not in a round trip of its own.
        if (hashed && hashScope == HashScope.Record)
        {
            ReplayWithHash = ReplaySql(replayColumns + ", \"hash\"", "");
            ReplayFromSavepointWithHash = ReplaySql(replayColumns + ", \"hash\"", LatestSavepoint(""));
        }
        EventsOf = $"SELECT {EventColumns} FROM {t} WHERE \"parent_id\" = @parent_id ORDER BY \"seq\"";
        EventsOfSchema = $"SELECT {EventColumns} FROM {t} WHERE \"parent_id\" = @parent_id AND \"schema\" = @schema ORDER BY \"seq\"";
        _appendPostgres = Dialect.For(SqlDialect.PostgreSql).AppendSql(table, hashed);
        _appendSqlite = Dialect.For(SqlDialect.Sqlite).AppendSql(table, hashed);
        ChainHead = $"SELECT \"hash\" FROM {t} ORDER BY \"position\" DESC LIMIT 1";
        // Each event's links come with it, so verification stays one ordered stream. Per-record chains are
        // walked record by record, through the (parent_id, seq) unique index.
        var chainOrder = hashScope == HashScope.Record ? "e.\"parent_id\", e.\"seq\"" : "e.\"position\"";
        string ChainSql(SqlDialect kind, string where) =>
            $"SELECT {AliasedColumns}, e.\"hash\", {Dialect.For(kind).LinksOfEventSql("e", links)} FROM {t} e{where} ORDER BY {chainOrder}";
        _chainPostgres = ChainSql(SqlDialect.PostgreSql, "");
        _chainSqlite = ChainSql(SqlDialect.Sqlite, "");
        _chainFromPostgres = ChainSql(SqlDialect.PostgreSql, " WHERE e.\"position\" >= @from");
        _chainFromSqlite = ChainSql(SqlDialect.Sqlite, " WHERE e.\"position\" >= @from");
        _recordChainPostgres = ChainSql(SqlDialect.PostgreSql, " WHERE e.\"parent_id\" = @parent_id");
        _recordChainSqlite = ChainSql(SqlDialect.Sqlite, " WHERE e.\"parent_id\" = @parent_id");
        HasEvent = $"SELECT 1 FROM {t} WHERE \"id\" = @id";
        Previous = $"SELECT {EventColumns} FROM {t} WHERE \"parent_id\" = (SELECT \"parent_id\" FROM {t} WHERE \"id\" = @id) " +
                   $"AND \"seq\" <= (SELECT \"seq\" FROM {t} WHERE \"id\" = @id) ORDER BY \"seq\"";
    }

    /// <summary>id, seq, schema, action, payload of one record in order.</summary>
    public string Replay { get; }

    /// <summary>As <see cref="Replay"/>, up to and including <c>@up_to</c>.</summary>
    public string ReplayUpTo { get; }

    /// <summary>As <see cref="Replay"/>, from the record's latest savepoint.</summary>
    public string ReplayFromSavepoint { get; }

    /// <summary>As <see cref="Replay"/> with each event's hash as a sixth column (per-record chains only).</summary>
    public string? ReplayWithHash { get; }

    /// <summary>As <see cref="ReplayFromSavepoint"/> with each event's hash as a sixth column (per-record chains only).</summary>
    public string? ReplayFromSavepointWithHash { get; }

    /// <summary>As <see cref="ReplayUpTo"/>, from the latest savepoint at or before <c>@up_to</c>.</summary>
    public string ReplayFromSavepointUpTo { get; }

    /// <summary>Every column of one record's events.</summary>
    public string EventsOf { get; }

    /// <summary>Every column of one record's events of one schema.</summary>
    public string EventsOfSchema { get; }

    /// <summary>The stored hash of the last event (hashed tables).</summary>
    public string ChainHead { get; }

    /// <summary>
    /// Every event with its hash and its links' text, in chain order (hashed tables): by position, or record
    /// by record in sequence order for per-record chains.
    /// </summary>
    public string Chain(Dialect dialect) => dialect.Kind == SqlDialect.PostgreSql ? _chainPostgres : _chainSqlite;

    /// <summary>As <see cref="Chain"/>, from position @from on (a head verified earlier) only.</summary>
    public string ChainFrom(Dialect dialect) => dialect.Kind == SqlDialect.PostgreSql ? _chainFromPostgres : _chainFromSqlite;

    /// <summary>As <see cref="Chain"/>, the events of one record @parent_id only.</summary>
    public string RecordChain(Dialect dialect) => dialect.Kind == SqlDialect.PostgreSql ? _recordChainPostgres : _recordChainSqlite;

    /// <summary>1 when the table holds the event @id.</summary>
    public string HasEvent { get; }

    /// <summary>The events of @id's record up to and including @id.</summary>
    public string Previous { get; }

    /// <summary>
    /// Events joined through a link table: the ones @id links to (outgoing) or that link to @id, each once, in
    /// sequence order; with <paramref name="typed"/> only links of type @type.
    /// </summary>
    public string Linked(EventLinkInfo link, bool outgoing, bool typed)
    {
        var (l, c) = (SqlIdentifier.Quote(link.Table), SqlIdentifier.Quote(link.Column));
        var (select, match) = outgoing ? (c, "\"event_id\"") : ("\"event_id\"", c);
        return $"SELECT {EventColumns} FROM {SqlIdentifier.Quote(_table)} WHERE \"id\" IN " +
               $"(SELECT {select} FROM {l} WHERE {match} = @id{(typed ? " AND \"type\" = @type" : "")}) ORDER BY \"seq\"";
    }

    /// <summary>Inserts one row (@event_id, @target, @type) into the declared link <paramref name="name"/>'s table; built once per link.</summary>
    public string InsertLink(string name) => _insertLink[name];

    /// <summary>The links of one event as text (see <see cref="Dialect.LinksOfEventSql"/>).</summary>
    public string LinksOf(Dialect dialect) =>
        $"SELECT {dialect.LinksOfEventSql("e", _links)} FROM {SqlIdentifier.Quote(_table)} e WHERE e.\"id\" = @id";

    public string Append(Dialect dialect) => dialect.Kind == SqlDialect.PostgreSql ? _appendPostgres : _appendSqlite;

    public override string ToString() => _table;
}
