using System.Collections.Concurrent;

namespace Spector;

/// <summary>The SQL text of one events table, built once from its validated, quoted name.</summary>
internal sealed class EventLogSql
{
    /// <summary>Every stored column of an event but its hash, in the order <see cref="EventReader"/> reads them
    /// (context from 9).</summary>
    public static readonly string EventColumns =
        "\"position\", \"id\", \"parent_id\", \"seq\", \"schema\", \"action\", \"payload\", "
        + "\"metadata\", \"inserted_at\", "
        + ContextColumns.SelectList();

    /// <summary>As <see cref="EventColumns"/> after the alias <c>e</c>; the chain query reads the hash at 16, the links
    /// at 17.</summary>
    public static readonly string AliasedColumns =
        "e.\"position\", e.\"id\", e.\"parent_id\", e.\"seq\", e.\"schema\", e.\"action\", e.\"payload\", "
        + "e.\"metadata\", e.\"inserted_at\", "
        + ContextColumns.SelectList("e");

    /// <summary>The ordinal of the first context column in <see cref="EventColumns"/>.</summary>
    public const int FirstContextColumn = 9;
    private readonly string _table;
    private readonly string[] _appends;
    private readonly string[] _lockHeadAndReplay;
    private readonly string[] _lockChain;
    private readonly string _chainPostgres;
    private readonly string _chainSqlite;
    private readonly string _chainFromPostgres;
    private readonly string _chainFromSqlite;
    private readonly IReadOnlyList<EventLinkInfo> _links;
    private readonly Dictionary<string, string> _insertLink;

    private readonly string _recordChainPostgres;
    private readonly string _recordChainSqlite;
    private readonly string _replayFromHeadSavepoint;

    public EventLogSql(string table, bool hashed, HashScope hashScope, IReadOnlyList<EventLinkInfo> links)
    {
        _links = links;
        _insertLink = links.ToDictionary(
            l => l.Name,
            l =>
                $"INSERT INTO {SqlIdentifier.Quote(l.Table)} "
                + $"(\"event_id\", {SqlIdentifier.Quote(l.Column)}{(l.Typed ? ", \"type\"" : "")}) "
                + $"VALUES (@event_id, @target{(l.Typed ? ", @type" : "")})"
        );
        _table = table;
        var t = SqlIdentifier.Quote(table);
        const string replayColumns = "\"id\", \"seq\", \"schema\", \"action\", \"payload\"";
        string ReplaySql(string columns, string where) =>
            $"SELECT {columns} FROM {t} WHERE \"parent_id\" = @parent_id{where} ORDER BY \"seq\"";
        string LatestSavepoint(string where) =>
            $" AND \"seq\" >= COALESCE((SELECT MAX(\"seq\") FROM {t} "
            + $"WHERE \"parent_id\" = @parent_id AND \"action\" = {EventActions.Savepoint}{where}), 1)";
        Replay = ReplaySql(replayColumns, "");
        ReplayUpTo = ReplaySql(replayColumns, " AND \"seq\" <= @up_to");
        ReplayFromSavepoint = ReplaySql(replayColumns, LatestSavepoint(""));
        ReplayFromSavepointUpTo = ReplaySql(
            replayColumns,
            " AND \"seq\" <= @up_to" + LatestSavepoint(" AND \"seq\" <= @up_to")
        );
        Heads = Dialect.Heads(table);
        var h = SqlIdentifier.Quote(Heads);
        // A write replays from the savepoint its locked head names: no search for it.
        _replayFromHeadSavepoint = ReplaySql(
            replayColumns,
            $" AND \"seq\" >= (SELECT \"savepoint_seq\" FROM {h} WHERE \"record_id\" = @parent_id)"
        );
        var headRead =
            $"SELECT \"schema\", \"last_seq\", \"last_hash\", \"deleted\", \"savepoint_seq\", \"last_at\" FROM {h} "
            + "WHERE \"record_id\" = @parent_id";
        var chainRead = $"SELECT \"last_hash\", \"last_at\" FROM {h} WHERE \"record_id\" = @__chain";
        IdempotencyLookup =
            "SELECT \"id\", \"parent_id\", \"seq\", \"schema\", \"action\", \"payload\" "
            + $"FROM {t} WHERE \"idempotency_key\" = @key";
        HeadInsert =
            $"INSERT INTO {h} "
            + "(\"record_id\", \"schema\", \"last_seq\", \"last_hash\", \"deleted\", \"savepoint_seq\", \"last_at\") "
            + "VALUES (@__parent_id, @__schema, @__seq, @__hash, @__deleted, @__savepoint_seq, @__inserted_at)";
        HeadUpdate =
            $"UPDATE {h} SET \"last_seq\" = @__seq, \"last_hash\" = @__hash, \"deleted\" = @__deleted, "
            + "\"savepoint_seq\" = @__savepoint_seq, \"last_at\" = @__inserted_at WHERE \"record_id\" = @__parent_id";
        WriteLock = $"UPDATE {h} SET \"last_seq\" = \"last_seq\" WHERE 0";
        KeyGate =
            $"INSERT INTO {h} "
            + "(\"record_id\", \"schema\", \"last_seq\", \"deleted\", \"savepoint_seq\", \"last_at\") "
            + $"VALUES (@__gate, {KeyGateSchema}, 1, false, 0, @__at) "
            + $"ON CONFLICT (\"record_id\") DO UPDATE SET \"last_seq\" = {h}.\"last_seq\" + 1";
        ChainAdvance =
            $"UPDATE {h} SET \"last_seq\" = \"last_seq\" + 1, \"last_hash\" = @__hash, \"last_at\" = @__inserted_at "
            + "WHERE \"record_id\" = @__chain";
        // A record whose events were written around Spector (raw SQL, an import tool) gets its head on first write.
        HeadFromLog =
            Dialect.HeadsFromLog(table, Heads, hashed, "e.\"parent_id\" = @parent_id")
            + "\nON CONFLICT (\"record_id\") DO NOTHING";
        Exists = $"SELECT 1 FROM {h} WHERE \"record_id\" = @id AND \"schema\" = @schema AND NOT \"deleted\"";
        Ids = $"SELECT \"record_id\" FROM {h} WHERE \"schema\" = @schema AND NOT \"deleted\" ORDER BY \"record_id\"";
        // As of an instant: up to the record's latest event at or before @as_of, found by one probe of the
        // (parent_id, inserted_at, seq) index; no such event leaves the bound NULL and the read empty. SQLite,
        // without statistics, may pick the table-wide inserted_at index instead and walk it: it is told which.
        string AsOfSeq(string hint) =>
            $" AND \"seq\" <= (SELECT \"seq\" FROM {t}{hint} "
            + "WHERE \"parent_id\" = @parent_id AND \"inserted_at\" <= @as_of "
            + "ORDER BY \"inserted_at\" DESC, \"seq\" DESC LIMIT 1)";
        var postgresAsOf = AsOfSeq("");
        var sqliteAsOf = AsOfSeq(
            $" INDEXED BY {SqlIdentifier.Quote(SqlIdentifier.Derived(table, ContextColumns.ParentTimeIndexSuffix))}"
        );
        _replayAsOf = (ReplaySql(replayColumns, postgresAsOf), ReplaySql(replayColumns, sqliteAsOf));
        _replayFromSavepointAsOf = (
            ReplaySql(replayColumns, postgresAsOf + LatestSavepoint(postgresAsOf)),
            ReplaySql(replayColumns, sqliteAsOf + LatestSavepoint(sqliteAsOf))
        );
        ReplayBackwardsAsOfSqlite = ReplaySql(replayColumns, sqliteAsOf) + " DESC";
        EventsOf = $"SELECT {EventColumns} FROM {t} WHERE \"parent_id\" = @parent_id ORDER BY \"seq\"";
        EventsOfSchema =
            $"SELECT {EventColumns} FROM {t} "
            + "WHERE \"parent_id\" = @parent_id AND \"schema\" = @schema ORDER BY \"seq\"";
        // A keyed append that meets a committed twin inserts nothing (READ COMMITTED) or fails with 40001 (a snapshot
        // that cannot see the twin): either way the writer learns it without reading an error.
        const string keyedConflict =
            "\nON CONFLICT (\"idempotency_key\") WHERE \"idempotency_key\" IS NOT NULL DO NOTHING";
        _appends = new string[16];
        foreach (var kind in (SqlDialect[])[SqlDialect.PostgreSql, SqlDialect.Sqlite])
        foreach (var withContext in (bool[])[false, true])
        foreach (var creates in (bool[])[false, true])
        {
            var append = Dialect.For(kind).AppendSql(table, hashed, withContext, creates);
            _appends[AppendIndex(kind, withContext, keyed: false, creates)] = append;
            _appends[AppendIndex(kind, withContext, keyed: true, creates)] = append + keyedConflict;
        }
        // Every write locks a head (and a table-chain write the chain's): their texts are made here, once.
        _lockHeadAndReplay = new string[8];
        _lockChain = new string[2];
        foreach (var kind in (SqlDialect[])[SqlDialect.PostgreSql, SqlDialect.Sqlite])
        {
            var forUpdate = Dialect.For(kind).ForUpdate;
            _lockChain[kind == SqlDialect.PostgreSql ? 1 : 0] = chainRead + forUpdate;
            foreach (var fromSavepoint in (bool[])[false, true])
            foreach (var keyed in (bool[])[false, true])
                _lockHeadAndReplay[LockHeadIndex(kind, fromSavepoint, keyed)] =
                    $"{headRead}{forUpdate};\n{(keyed ? IdempotencyLookup + ";\n" : "")}"
                    + (fromSavepoint ? _replayFromHeadSavepoint : Replay);
        }
        // Each event's links come with it, so verification stays one ordered stream. Per-record chains are
        // walked record by record, through the (parent_id, seq) unique index.
        var chainOrder = hashScope == HashScope.Record ? "e.\"parent_id\", e.\"seq\"" : "e.\"position\"";
        string ChainSql(SqlDialect kind, string where) =>
            $"SELECT {AliasedColumns}, e.\"hash\", {Dialect.For(kind).LinksOfEventSql("e", links)} "
            + $"FROM {t} e{where} ORDER BY {chainOrder}";
        _chainPostgres = ChainSql(SqlDialect.PostgreSql, "");
        _chainSqlite = ChainSql(SqlDialect.Sqlite, "");
        _chainFromPostgres = ChainSql(SqlDialect.PostgreSql, " WHERE e.\"position\" >= @from");
        _chainFromSqlite = ChainSql(SqlDialect.Sqlite, " WHERE e.\"position\" >= @from");
        _recordChainPostgres = ChainSql(SqlDialect.PostgreSql, " WHERE e.\"parent_id\" = @parent_id");
        _recordChainSqlite = ChainSql(SqlDialect.Sqlite, " WHERE e.\"parent_id\" = @parent_id");
        HasEvent = $"SELECT 1 FROM {t} WHERE \"id\" = @id";
        Previous =
            $"SELECT {EventColumns} FROM {t} WHERE \"parent_id\" = (SELECT \"parent_id\" FROM {t} WHERE \"id\" = @id) "
            + $"AND \"seq\" <= (SELECT \"seq\" FROM {t} WHERE \"id\" = @id) ORDER BY \"seq\"";
    }

    /// <summary>id, seq, schema, action, payload of one record in order.</summary>
    public string Replay { get; }

    /// <summary>As <see cref="Replay"/>, up to and including <c>@up_to</c>.</summary>
    public string ReplayUpTo { get; }

    /// <summary>As <see cref="Replay"/>, from the record's latest savepoint.</summary>
    public string ReplayFromSavepoint { get; }

    /// <summary>The heads table: one row per record (and one per table chain).</summary>
    public string Heads { get; }

    /// <summary>
    /// Locks the head of record @parent_id (schema, last_seq, last_hash, deleted, savepoint_seq, last_at) and, as later
    /// statements of the same command (each with a snapshot taken after the lock), reads the event under
    /// idempotency key @key when <paramref name="keyed"/>, then the events to replay: from the head's savepoint
    /// when <paramref name="fromSavepoint"/>.
    /// </summary>
    public string LockHeadAndReplay(Dialect dialect, bool fromSavepoint, bool keyed) =>
        _lockHeadAndReplay[LockHeadIndex(dialect.Kind, fromSavepoint, keyed)];

    private static int LockHeadIndex(SqlDialect kind, bool fromSavepoint, bool keyed) =>
        (kind == SqlDialect.PostgreSql ? 4 : 0) + (fromSavepoint ? 2 : 0) + (keyed ? 1 : 0);

    /// <summary>Locks the table chain's head row @__chain and reads its last hash and time.</summary>
    public string LockChain(Dialect dialect) => _lockChain[dialect.Kind == SqlDialect.PostgreSql ? 1 : 0];

    /// <summary>The event stored under idempotency key @key, if any.</summary>
    public string IdempotencyLookup { get; }

    /// <summary>Makes the head of record @parent_id from its events when it has none.</summary>
    public string HeadFromLog { get; }

    /// <summary>The head of a new record (parameters as the append's).</summary>
    public string HeadInsert { get; }

    /// <summary>Advances a record's head to the appended event.</summary>
    public string HeadUpdate { get; }

    /// <summary>A write of no row; on SQLite it takes the write lock (<see
    /// cref="Dialect.TakeWriteLockAsync"/>).</summary>
    public string WriteLock { get; }

    /// <summary>The schema of a key gate's row in the heads table (a table chain's head row has -1).</summary>
    public const int KeyGateSchema = -2;

    /// <summary>
    /// Creates or updates the key gate @__gate, a row of this heads table that keyed writes of a sharded log lock so
    /// that inserts can search every shard for their key (the row holds nothing else).
    /// </summary>
    public string KeyGate { get; }

    /// <summary>Advances the table chain's head (@__chain) to the appended event.</summary>
    public string ChainAdvance { get; }

    /// <summary>1 when record @id of schema @schema exists and is not deleted.</summary>
    public string Exists { get; }

    /// <summary>The ids of schema @schema's records that are not deleted.</summary>
    public string Ids { get; }

    /// <summary>As <see cref="ReplayUpTo"/>, from the latest savepoint at or before <c>@up_to</c>.</summary>
    public string ReplayFromSavepointUpTo { get; }

    private readonly (string Postgres, string Sqlite) _replayAsOf;
    private readonly (string Postgres, string Sqlite) _replayFromSavepointAsOf;

    /// <summary>As <see cref="Replay"/>, up to the last event at or before <c>@as_of</c>.</summary>
    public string ReplayAsOf(Dialect dialect) =>
        dialect.Kind == SqlDialect.PostgreSql ? _replayAsOf.Postgres : _replayAsOf.Sqlite;

    /// <summary>As <see cref="ReplayAsOf"/>, from the latest savepoint at or before that event.</summary>
    public string ReplayFromSavepointAsOf(Dialect dialect) =>
        dialect.Kind == SqlDialect.PostgreSql ? _replayFromSavepointAsOf.Postgres : _replayFromSavepointAsOf.Sqlite;

    /// <summary>
    /// As <see cref="ReplayAsOf"/> on SQLite, newest first: the reader stops at the first savepoint it meets
    /// instead of the statement searching for it.
    /// </summary>
    public string ReplayBackwardsAsOfSqlite { get; }

    /// <summary>Every column of one record's events.</summary>
    public string EventsOf { get; }

    /// <summary>Every column of one record's events of one schema.</summary>
    public string EventsOfSchema { get; }

    /// <summary>
    /// Every event with its hash and its links' text, in chain order (hashed tables): by position, or record
    /// by record in sequence order for per-record chains.
    /// </summary>
    public string Chain(Dialect dialect) => dialect.Kind == SqlDialect.PostgreSql ? _chainPostgres : _chainSqlite;

    /// <summary>As <see cref="Chain"/>, from position @from on (a head verified earlier) only.</summary>
    public string ChainFrom(Dialect dialect) =>
        dialect.Kind == SqlDialect.PostgreSql ? _chainFromPostgres : _chainFromSqlite;

    /// <summary>As <see cref="Chain"/>, the events of one record @parent_id only.</summary>
    public string RecordChain(Dialect dialect) =>
        dialect.Kind == SqlDialect.PostgreSql ? _recordChainPostgres : _recordChainSqlite;

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
        return $"SELECT {EventColumns} FROM {SqlIdentifier.Quote(_table)} WHERE \"id\" IN "
            + $"(SELECT {select} FROM {l} WHERE {match} = @id{(typed ? " AND \"type\" = @type" : "")}) "
            + "ORDER BY \"seq\"";
    }

    /// <summary>Inserts one row (@event_id, @target, @type) into the declared link <paramref name="name"/>'s table;
    /// built once per link.</summary>
    public string InsertLink(string name) => _insertLink[name];

    /// <summary>The links of one event as text (see <see cref="Dialect.LinksOfEventSql"/>).</summary>
    public string LinksOf(Dialect dialect) =>
        $"SELECT {dialect.LinksOfEventSql("e", _links)} FROM {SqlIdentifier.Quote(_table)} e WHERE e.\"id\" = @id";

    /// <summary>
    /// Inserts one event; <paramref name="withContext"/> also binds the context columns (<c>@__actor_type</c>..),
    /// <paramref name="keyed"/> inserts nothing when the idempotency key is already stored, <paramref name="creates"/>
    /// says the event is its record's first.
    /// </summary>
    public string Append(Dialect dialect, bool withContext, bool keyed, bool creates) =>
        _appends[AppendIndex(dialect.Kind, withContext, keyed, creates)];

    private static int AppendIndex(SqlDialect kind, bool withContext, bool keyed, bool creates) =>
        (kind == SqlDialect.PostgreSql ? 8 : 0) + (creates ? 4 : 0) + (withContext ? 2 : 0) + (keyed ? 1 : 0);

    /// <summary>Each append shape's statements, joined once and reused: the texts are long, writes many.</summary>
    private readonly ConcurrentDictionary<AppendShape, string> _appendCommands = new();

    /// <summary>The shape of one append command (see <see cref="AppendCommand"/>).</summary>
    private readonly record struct AppendShape(
        SqlDialect Kind,
        bool WithEvent,
        bool WithContext,
        bool Creates,
        bool TableChain,
        string? RecordSql,
        bool Commits
    );

    /// <summary>
    /// The command that appends an event: its insert unless <paramref name="withEvent"/> is false (a keyed event is
    /// inserted alone first), <paramref name="recordSql"/>, the head's insert or update and the chain's advance, then
    /// COMMIT when <paramref name="commits"/>.
    /// </summary>
    public string AppendCommand(
        Dialect dialect,
        bool withEvent,
        bool withContext,
        bool creates,
        bool tableChain,
        string? recordSql,
        bool commits
    ) =>
        _appendCommands.GetOrAdd(
            new AppendShape(dialect.Kind, withEvent, withContext, creates, tableChain, recordSql, commits),
            shape =>
            {
                var statements = new List<string>(4);
                if (shape.WithEvent)
                    statements.Add(Append(Dialect.For(shape.Kind), shape.WithContext, keyed: false, shape.Creates));
                if (shape.RecordSql is not null)
                    statements.Add(shape.RecordSql);
                statements.Add(shape.Creates ? HeadInsert : HeadUpdate);
                if (shape.TableChain)
                    statements.Add(ChainAdvance);
                if (shape.Commits)
                    statements.Add("COMMIT");
                return string.Join(";\n", statements);
            }
        );

    public override string ToString() => _table;
}
