using System.Data.Common;
using Dapper;

namespace Spector;

/// <summary>One stable schema index of an events table.</summary>
/// <param name="Index">The number stored in the <c>schema</c> column.</param>
/// <param name="TypeName">The evented type's full name.</param>
public sealed record EventSchemaInfo(int Index, string TypeName);

/// <summary>
/// The runtime handle of one events table: its name, schema indexes, record tables, configured store and
/// migrations. The generator creates one per <c>[EventsTable]</c> class as its static <c>Log</c> property.
/// </summary>
public sealed partial class EventLog
{
    private readonly Dictionary<int, string> _customActions;
    private readonly Dictionary<string, EventShard> _shardsByTable;
    private readonly Func<Guid, string>? _route;
    private SpectorStore? _store;
    private Projection[] _inlineProjections = [];

    /// <summary>
    /// Called by generated code; the names are validated again here. A sharded log passes its shard tables and
    /// the static function that routes a record id to one of them.
    /// </summary>
    public EventLog(
        string table,
        IReadOnlyList<EventSchemaInfo> schemas,
        IReadOnlyList<RecordTable> recordTables,
        IReadOnlyList<EventActionInfo>? actions = null,
        bool hashed = false,
        IReadOnlyList<EventLinkInfo>? links = null,
        IReadOnlyList<string>? shards = null,
        Func<Guid, string>? route = null,
        HashScope hashScope = HashScope.Table
    )
    {
        Table = SqlIdentifier.Validate(table, "events table");
        Hashed = hashed;
        if (hashScope == HashScope.Record && !hashed)
            throw new ArgumentException(
                $"Events table {Table}: HashScope.Record chains the events of a hashed table; set Hashed = true.",
                nameof(hashScope)
            );
        HashScope = hashScope;
        Links = links ?? [];
        foreach (var link in Links)
            link.Validate();
        if (Links.GroupBy(l => l.Name).FirstOrDefault(g => g.Count() > 1) is { } twice)
            throw new ArgumentException($"Events table {Table} declares the link '{twice.Key}' twice.", nameof(links));
        if ((shards is null) != (route is null))
            throw new ArgumentException(
                $"Events table {Table}: a sharded log needs both its shard tables and a route function.",
                nameof(shards)
            );
        if (shards is { Count: 0 })
            throw new ArgumentException($"Events table {Table} declares an empty list of shards.", nameof(shards));
        if (shards?.GroupBy(s => s).FirstOrDefault(g => g.Count() > 1) is { } shardTwice)
            throw new ArgumentException(
                $"Events table {Table} lists the shard '{shardTwice.Key}' twice.",
                nameof(shards)
            );
        _route = route;
        Shards = shards is null
            ? [new EventShard(Table, hashed, hashScope, Links)]
            : shards
                .Select(shard => new EventShard(
                    SqlIdentifier.Validate(shard, "shard table"),
                    hashed,
                    hashScope,
                    Links.Select(l => l with { Table = ShardLinkTable(shard, l.Table) }).ToList()
                ))
                .ToList();
        _shardsByTable = Shards.ToDictionary(s => s.Table);
        Schemas = schemas;
        RecordTables = recordTables;
        Actions = actions ?? [];
        _customActions = Actions.ToDictionary(a => a.Code, a => a.Name);
    }

    /// <summary>The name of a link table in a shard: <c>&lt;shard&gt;_&lt;link table&gt;</c>.</summary>
    public static string ShardLinkTable(string shard, string linkTable) =>
        SqlIdentifier.Validate($"{shard}_{linkTable}", "shard link table");

    /// <summary>Timelines and time buckets across the table's records (who, what, when, caused by what).</summary>
    public AuditTrail Audit => field ??= new AuditTrail(this);

    /// <summary>True when records are spread over several shard tables by a route function.</summary>
    public bool IsSharded => _route is not null;

    /// <summary>The physical events tables: the one table of an unsharded log, or each shard.</summary>
    public IReadOnlyList<EventShard> Shards { get; }

    /// <summary>The shard that stores every event of <paramref name="recordId"/>.</summary>
    /// <exception cref="ShardRoutingException">The route function returned a table that is not a declared
    /// shard.</exception>
    public EventShard ShardFor(Guid recordId) => ShardFor(recordId, null);

    internal EventShard ShardFor(Guid recordId, string? recordType)
    {
        if (_route is null)
            return Shards[0];
        string routed;
        try
        {
            routed = _route(recordId);
        }
        catch (Exception e)
        {
            throw new ShardRoutingException(Table, recordType, recordId, null, Shards, e);
        }
        return routed is not null && _shardsByTable.TryGetValue(routed, out var shard)
            ? shard
            : throw new ShardRoutingException(Table, recordType, recordId, routed, Shards);
    }

    /// <summary>The shard table named <paramref name="table"/>, or a clear error.</summary>
    public EventShard Shard(string table) =>
        _shardsByTable.TryGetValue(table, out var shard)
            ? shard
            : throw new ArgumentException(
                $"Events table {Table} has no shard '{table}'; "
                    + $"its tables are {string.Join(", ", Shards.Select(s => s.Table))}.",
                nameof(table)
            );

    /// <summary>The link tables between events.</summary>
    public IReadOnlyList<EventLinkInfo> Links { get; }

    /// <summary>The declared link called <paramref name="name"/>, or a clear error.</summary>
    public EventLinkInfo Link(string name) =>
        Links.FirstOrDefault(l => l.Name == name)
        ?? throw new ArgumentException(
            $"Events table {Table} declares no link '{name}'; add [EventLink(\"{name}\", ...)] to it.",
            nameof(name)
        );

    /// <summary>True when every event is chained to the previous one by a SHA-256 hash.</summary>
    public bool Hashed { get; }

    /// <summary>On a hashed table, whether one chain covers the table or each record has its own.</summary>
    public HashScope HashScope { get; }

    /// <summary>The custom actions of the listed types, by stored code.</summary>
    public IReadOnlyList<EventActionInfo> Actions { get; }

    /// <summary>The events table's name.</summary>
    public string Table { get; }

    /// <summary>The schema indexes, one per evented type.</summary>
    public IReadOnlyList<EventSchemaInfo> Schemas { get; }

    /// <summary>The tables of the listed types that have one.</summary>
    public IReadOnlyList<RecordTable> RecordTables { get; }

    /// <summary>Projections applied inside every write's transaction, in the order added.</summary>
    public IReadOnlyList<Projection> InlineProjections => _inlineProjections;

    /// <summary>
    /// Applies <paramref name="projection"/> to every event appended to this log from now on, in the write's own
    /// transaction: a projection that throws fails the write and nothing is stored. Add it at start-up.
    /// </summary>
    public void AddInlineProjection(Projection projection)
    {
        ArgumentNullException.ThrowIfNull(projection);
        if (!projection.Logs.Contains(this))
            throw new ArgumentException(
                $"Projection {projection.Name} does not project events table {Table}.",
                nameof(projection)
            );
        _inlineProjections = [.. _inlineProjections, projection];
    }

    /// <summary>Stops applying <paramref name="projection"/> inline; true when it was added.</summary>
    public bool RemoveInlineProjection(Projection projection)
    {
        var before = _inlineProjections.Length;
        _inlineProjections = [.. _inlineProjections.Where(p => p != projection)];
        return _inlineProjections.Length < before;
    }

    /// <summary>The default store: used by operations that take no session (sugar for one store per process).</summary>
    public SpectorStore Store =>
        _store
        ?? throw new InvalidOperationException(
            $"No store is configured for events table {Table}: "
                + "call UseSqlite(...) or UsePostgres(...) on its [EventsTable] class, "
                + "or pass a SpectorStore or SpectorSession."
        );

    /// <summary>The default store, or null when none is set.</summary>
    internal SpectorStore? DefaultStore => _store;

    /// <summary>
    /// Sets the default store: operations given no session or store run against it. The generated
    /// <c>UseSqlite</c>/<c>UsePostgres</c> call this with a new store each time; to share one store object between
    /// several events tables (which a follower across them requires), create it once and pass it to each log.
    /// </summary>
    public void Use(SpectorStore store) => _store = store ?? throw new ArgumentNullException(nameof(store));

    /// <summary>True when a default store is set (by <see cref="Use"/> or a host).</summary>
    public bool HasDefaultStore => Volatile.Read(ref _store) is not null;

    /// <summary>
    /// Clears the default store, but only while it is still <paramref name="store"/>: a host that set it calls this
    /// when it stops, so later calls without a session fail clearly instead of writing to a disposed store. True when
    /// it was cleared.
    /// </summary>
    public bool ClearDefault(SpectorStore store) =>
        ReferenceEquals(Interlocked.CompareExchange(ref _store, null, store), store);

    /// <summary>The name of a stored action code, or null when the code is unknown.</summary>
    public string? ActionName(int code) =>
        EventActions.NameOf(code) ?? (_customActions.TryGetValue(code, out var name) ? name : null);

    /// <summary>The type name stored under a schema index, or null.</summary>
    public string? SchemaName(int index)
    {
        foreach (var schema in Schemas)
            if (schema.Index == index)
                return schema.TypeName;
        return null;
    }

    /// <summary>
    /// The migration as separate statements: the events table with its indexes and append-only triggers,
    /// then each record table. Every statement is idempotent.
    /// </summary>
    public IReadOnlyList<string> UpStatements(SqlDialect dialect, bool appendOnly = true)
    {
        var sql = Spector.Dialect.For(dialect);
        var statements = new List<string>();
        foreach (var shard in Shards)
        {
            statements.AddRange(sql.CreateEventsTable(shard.Table, appendOnly, Hashed));
            statements.AddRange(sql.CreateHeadsTable(shard.Table, shard.Sql.Heads, Hashed));
            foreach (var link in shard.Links)
                statements.AddRange(sql.CreateLinkTable(shard.Table, link));
        }
        statements.AddRange(RecordTables.Select(t => t.CreateSql(dialect)));
        return statements;
    }

    /// <summary>Drops the record tables and the events table, with all events in it.</summary>
    public IReadOnlyList<string> DownStatements(SqlDialect dialect)
    {
        var sql = Spector.Dialect.For(dialect);
        var statements = RecordTables.Select(t => t.DropSql).ToList();
        foreach (var shard in Shards)
        {
            foreach (var link in shard.Links)
                statements.AddRange(sql.DropLinkTable(link));
            statements.AddRange(sql.DropEventsTable(shard.Table));
        }
        return statements;
    }

    /// <summary>The migration as one SQL script, for DbUp, FluentMigrator or a DBA.</summary>
    public string UpSql(SqlDialect dialect, bool appendOnly = true) => Script(UpStatements(dialect, appendOnly));

    /// <summary>The rollback as one SQL script.</summary>
    public string DownSql(SqlDialect dialect) => Script(DownStatements(dialect));

    /// <summary>Creates the tables in the default store.</summary>
    public Task MigrateUpAsync(CancellationToken cancellationToken = default) =>
        MigrateUpAsync(appendOnly: true, cancellationToken);

    /// <summary>Creates the tables; <paramref name="appendOnly"/> false skips the triggers that refuse UPDATE and
    /// DELETE of events.</summary>
    public Task MigrateUpAsync(bool appendOnly, CancellationToken cancellationToken = default) =>
        MigrateAsync(Store.Session, up: true, appendOnly, cancellationToken);

    /// <summary>
    /// Creates the tables where <paramref name="session"/> says: a store (<c>Log.MigrateUpAsync(store)</c>), or a
    /// caller's connection and transaction.
    /// </summary>
    public Task MigrateUpAsync(
        SpectorSession session,
        bool appendOnly = true,
        CancellationToken cancellationToken = default
    ) =>
        MigrateAsync(
            session ?? throw new ArgumentNullException(nameof(session)),
            up: true,
            appendOnly,
            cancellationToken
        );

    /// <summary>Drops the tables in the default store.</summary>
    public Task MigrateDownAsync(CancellationToken cancellationToken = default) =>
        MigrateAsync(Store.Session, up: false, appendOnly: true, cancellationToken);

    /// <summary>Drops the tables where <paramref name="session"/> says.</summary>
    public Task MigrateDownAsync(SpectorSession session, CancellationToken cancellationToken = default) =>
        MigrateAsync(
            session ?? throw new ArgumentNullException(nameof(session)),
            up: false,
            appendOnly: true,
            cancellationToken
        );

    /// <summary>
    /// The events <paramref name="eventId"/> links to through <paramref name="link"/>, in sequence order;
    /// for a typed link, <paramref name="type"/> keeps only links of that type.
    /// </summary>
    public Task<IReadOnlyList<StoredEvent>> LinkedEventsAsync(
        Guid eventId,
        string link,
        int? type = null,
        CancellationToken cancellationToken = default
    ) => EventReader.ReadLinkedAsync(this, null, eventId, Link(link), outgoing: true, type, cancellationToken);

    /// <summary>As <see cref="LinkedEventsAsync(Guid, string, int?, CancellationToken)"/>, where <paramref
    /// name="session"/> says.</summary>
    public Task<IReadOnlyList<StoredEvent>> LinkedEventsAsync(
        SpectorSession session,
        Guid eventId,
        string link,
        int? type = null,
        CancellationToken cancellationToken = default
    ) =>
        EventReader.ReadLinkedAsync(
            this,
            Required(session),
            eventId,
            Link(link),
            outgoing: true,
            type,
            cancellationToken
        );

    /// <summary>
    /// The events that link to <paramref name="eventId"/> through <paramref name="link"/>, in sequence order;
    /// for a typed link, <paramref name="type"/> keeps only links of that type.
    /// </summary>
    public Task<IReadOnlyList<StoredEvent>> LinkingEventsAsync(
        Guid eventId,
        string link,
        int? type = null,
        CancellationToken cancellationToken = default
    ) => EventReader.ReadLinkedAsync(this, null, eventId, Link(link), outgoing: false, type, cancellationToken);

    /// <summary>As <see cref="LinkingEventsAsync(Guid, string, int?, CancellationToken)"/>, where <paramref
    /// name="session"/> says.</summary>
    public Task<IReadOnlyList<StoredEvent>> LinkingEventsAsync(
        SpectorSession session,
        Guid eventId,
        string link,
        int? type = null,
        CancellationToken cancellationToken = default
    ) =>
        EventReader.ReadLinkedAsync(
            this,
            Required(session),
            eventId,
            Link(link),
            outgoing: false,
            type,
            cancellationToken
        );

    /// <summary>The links stored for one event, across every link table, sorted by name, target and type.</summary>
    public Task<IReadOnlyList<EventLinkRow>> LinksOfAsync(
        Guid eventId,
        CancellationToken cancellationToken = default
    ) => EventReader.ReadLinksAsync(this, null, eventId, cancellationToken);

    /// <summary>As <see cref="LinksOfAsync(Guid, CancellationToken)"/>, where <paramref name="session"/>
    /// says.</summary>
    public Task<IReadOnlyList<EventLinkRow>> LinksOfAsync(
        SpectorSession session,
        Guid eventId,
        CancellationToken cancellationToken = default
    ) => EventReader.ReadLinksAsync(this, Required(session), eventId, cancellationToken);

    /// <summary>Every event of the record <paramref name="eventId"/> belongs to, up to and including it, in sequence
    /// order.</summary>
    public Task<IReadOnlyList<StoredEvent>> PreviousEventsAsync(
        Guid eventId,
        CancellationToken cancellationToken = default
    ) => EventReader.ReadPreviousAsync(this, null, eventId, cancellationToken);

    /// <summary>As <see cref="PreviousEventsAsync(Guid, CancellationToken)"/>, where <paramref name="session"/>
    /// says.</summary>
    public Task<IReadOnlyList<StoredEvent>> PreviousEventsAsync(
        SpectorSession session,
        Guid eventId,
        CancellationToken cancellationToken = default
    ) => EventReader.ReadPreviousAsync(this, Required(session), eventId, cancellationToken);

    /// <summary>Every event of one record, of any type, in sequence order.</summary>
    public Task<IReadOnlyList<StoredEvent>> EventsOfAsync(
        Guid recordId,
        CancellationToken cancellationToken = default
    ) => EventReader.ReadEventsAsync(this, null, recordId, schema: null, cancellationToken);

    /// <summary>As <see cref="EventsOfAsync(Guid, CancellationToken)"/>, where <paramref name="session"/>
    /// says.</summary>
    public Task<IReadOnlyList<StoredEvent>> EventsOfAsync(
        SpectorSession session,
        Guid recordId,
        CancellationToken cancellationToken = default
    ) => EventReader.ReadEventsAsync(this, Required(session), recordId, schema: null, cancellationToken);

    /// <summary>
    /// Verifies the hash chain of the whole table in position order, streaming it in constant memory.
    /// Pass the head returned by an earlier verification (kept outside the database) to also detect removed
    /// tail events and restores of older backups. A sharded log has one chain per shard: verify them with
    /// <see cref="VerifyShardChainsAsync"/>. With <see cref="Spector.HashScope.Record"/> every record's chain is
    /// verified in turn and there is no table head (<see cref="ChainVerification.Head"/> is null): anchor records
    /// and check them with <see cref="VerifyRecordChainAsync(Guid, ChainHead?, CancellationToken)"/>.
    /// </summary>
    public Task<ChainVerification> VerifyHashChainAsync(
        ChainHead? expectedHead = null,
        CancellationToken cancellationToken = default
    ) => ChainVerifier.VerifyAsync(this, OnlyShard("verify"), null, expectedHead, cancellationToken);

    /// <summary>As <see cref="VerifyHashChainAsync(ChainHead?, CancellationToken)"/>, inside the caller's
    /// session.</summary>
    public Task<ChainVerification> VerifyHashChainAsync(
        SpectorSession session,
        ChainHead? expectedHead = null,
        CancellationToken cancellationToken = default
    ) =>
        ChainVerifier.VerifyAsync(
            this,
            OnlyShard("verify"),
            session ?? throw new ArgumentNullException(nameof(session)),
            expectedHead,
            cancellationToken
        );

    /// <summary>
    /// Verifies only the events appended after <paramref name="verifiedHead"/>, the head an earlier verification
    /// returned: the row at its position must still carry its hash, and each later row must chain on. Keep the
    /// returned head for the next call, so checking a busy table costs what was appended since (health checks do
    /// this). For a table chain of an unsharded log.
    /// </summary>
    public Task<ChainVerification> VerifyHashChainFromAsync(
        ChainHead verifiedHead,
        CancellationToken cancellationToken = default
    ) =>
        ChainVerifier.VerifyFromAsync(
            this,
            OnlyShard("verify"),
            null,
            verifiedHead ?? throw new ArgumentNullException(nameof(verifiedHead)),
            cancellationToken
        );

    /// <summary>As <see cref="VerifyHashChainFromAsync(ChainHead, CancellationToken)"/>, where <paramref
    /// name="session"/> says.</summary>
    public Task<ChainVerification> VerifyHashChainFromAsync(
        SpectorSession session,
        ChainHead verifiedHead,
        CancellationToken cancellationToken = default
    ) =>
        ChainVerifier.VerifyFromAsync(
            this,
            OnlyShard("verify"),
            session ?? throw new ArgumentNullException(nameof(session)),
            verifiedHead ?? throw new ArgumentNullException(nameof(verifiedHead)),
            cancellationToken
        );

    /// <summary>
    /// Verifies one record's chain on a log declared with <see cref="Spector.HashScope.Record"/>, reading only that
    /// record's events. The result's head is the record's last event: keep it outside the database and pass it
    /// back later to also detect removed events at the record's end.
    /// </summary>
    public Task<ChainVerification> VerifyRecordChainAsync(
        Guid recordId,
        ChainHead? expectedHead = null,
        CancellationToken cancellationToken = default
    ) => ChainVerifier.VerifyRecordAsync(this, recordId, null, expectedHead, cancellationToken);

    /// <summary>As <see cref="VerifyRecordChainAsync(Guid, ChainHead?, CancellationToken)"/>, inside the caller's
    /// session.</summary>
    public Task<ChainVerification> VerifyRecordChainAsync(
        SpectorSession session,
        Guid recordId,
        ChainHead? expectedHead = null,
        CancellationToken cancellationToken = default
    ) =>
        ChainVerifier.VerifyRecordAsync(
            this,
            recordId,
            session ?? throw new ArgumentNullException(nameof(session)),
            expectedHead,
            cancellationToken
        );

    /// <summary>Verifies the hash chain of one shard (for an unsharded log, its table), as <see
    /// cref="VerifyHashChainAsync(ChainHead?, CancellationToken)"/>.</summary>
    public Task<ChainVerification> VerifyShardChainAsync(
        string shard,
        ChainHead? expectedHead = null,
        CancellationToken cancellationToken = default
    ) => ChainVerifier.VerifyAsync(this, Shard(shard), null, expectedHead, cancellationToken);

    /// <summary>
    /// Verifies every shard's chain in turn (an unsharded log has one). <paramref name="expectedHeads"/> maps
    /// shard tables to heads anchored earlier; a shard without an entry is verified without an anchor.
    /// </summary>
    public async Task<ShardChainsVerification> VerifyShardChainsAsync(
        IReadOnlyDictionary<string, ChainHead>? expectedHeads = null,
        CancellationToken cancellationToken = default
    )
    {
        foreach (var table in expectedHeads?.Keys ?? [])
            Shard(table);
        var chains = new List<ChainVerification>(Shards.Count);
        foreach (var shard in Shards)
            chains.Add(
                await ChainVerifier
                    .VerifyAsync(this, shard, null, expectedHeads?.GetValueOrDefault(shard.Table), cancellationToken)
                    .ConfigureAwait(false)
            );
        return new ShardChainsVerification(chains);
    }

    /// <summary>
    /// Writes the hash chain as JSON Lines (one event per line, in chain order, with every hashed field and the
    /// hash in hex) so it can be re-verified by any RFC 8785 implementation. Returns the number of events.
    /// Per-record chains are written record by record, each in sequence order.
    /// A sharded log exports one shard at a time with <see cref="ExportShardChainAsync"/>.
    /// </summary>
    public Task<long> ExportChainAsync(Stream output, CancellationToken cancellationToken = default) =>
        ChainExport.ExportAsync(
            this,
            OnlyShard("export"),
            null,
            output ?? throw new ArgumentNullException(nameof(output)),
            cancellationToken
        );

    /// <summary>As <see cref="ExportChainAsync(Stream, CancellationToken)"/>, where <paramref name="session"/>
    /// says.</summary>
    public Task<long> ExportChainAsync(
        SpectorSession session,
        Stream output,
        CancellationToken cancellationToken = default
    ) =>
        ChainExport.ExportAsync(
            this,
            OnlyShard("export"),
            Required(session),
            output ?? throw new ArgumentNullException(nameof(output)),
            cancellationToken
        );

    /// <summary>Writes one shard's hash chain as JSON Lines, as <see cref="ExportChainAsync(Stream,
    /// CancellationToken)"/>.</summary>
    public Task<long> ExportShardChainAsync(
        string shard,
        Stream output,
        CancellationToken cancellationToken = default
    ) =>
        ChainExport.ExportAsync(
            this,
            Shard(shard),
            null,
            output ?? throw new ArgumentNullException(nameof(output)),
            cancellationToken
        );

    private static SpectorSession Required(SpectorSession session) =>
        session ?? throw new ArgumentNullException(nameof(session));

    private EventShard OnlyShard(string what) =>
        IsSharded
            ? throw new InvalidOperationException(
                $"Events table {Table} is sharded into {string.Join(", ", Shards.Select(s => s.Table))}, "
                    + $"and each shard keeps its own chain: {what} them one at a time by shard name"
                    + (what == "verify" ? ", or all of them with VerifyShardChainsAsync()" : "")
                    + "."
            )
            : Shards[0];

    /// <summary>
    /// Runs every statement of one migration in one transaction (the caller's, under a savepoint, if it has one).
    /// Concurrent migrations (several app instances starting at once) take turns, and each statement changes only
    /// what is missing, so a migration of a table in use takes no lock against its writers.
    /// </summary>
    private async Task MigrateAsync(SpectorSession session, bool up, bool appendOnly, CancellationToken ct)
    {
        var statements = up ? UpStatements(session.Dialect.Kind, appendOnly) : DownStatements(session.Dialect.Kind);
        // SQLite: this process's writers wait for the migration instead of keeping the write lock from it.
        using var migrating =
            session.Dialect.Kind == SqlDialect.Sqlite ? (session.Store ?? Store).Migrations.Enter() : null;
        await Instrument
            .MigrateAsync(
                this,
                session,
                up ? "up" : "down",
                statements.Count,
                () =>
                    WriteTransaction.RunAsync(
                        this,
                        session,
                        async (connection, tx, dialect) =>
                        {
                            if (dialect.MigrationLockSql is { } lockSql)
                                await connection
                                    .ExecuteAsync(
                                        new CommandDefinition(lockSql, transaction: tx, cancellationToken: ct)
                                    )
                                    .ConfigureAwait(false);
                            // PostgreSQL's statements add missing columns themselves; SQLite has no ADD COLUMN IF NOT
                            // EXISTS.
                            if (up && dialect.Kind == SqlDialect.Sqlite)
                                foreach (var shard in Shards)
                                    await ContextColumns
                                        .AddIfMissingSqliteAsync(connection, tx, shard.Table, ct)
                                        .ConfigureAwait(false);
                            foreach (var sql in statements)
                                await connection
                                    .ExecuteAsync(new CommandDefinition(sql, transaction: tx, cancellationToken: ct))
                                    .ConfigureAwait(false);
                            return true;
                        },
                        ct
                    )
            )
            .ConfigureAwait(false);
    }

    private static string Script(IEnumerable<string> statements) => string.Join(";\n\n", statements) + ";\n";

    /// <summary>
    /// Maps an error from an UPDATE or DELETE of an event row to <see cref="EventLogImmutableException"/> naming the
    /// table that refused it (a shard, say); other errors pass through unchanged.
    /// </summary>
    public Exception Translate(Exception error) =>
        error is DbException db && Spector.Dialect.IsAnyAppendOnlyViolation(db)
            ? new EventLogImmutableException(Spector.Dialect.AppendOnlyTable(db) ?? Table, error)
            : error;
}

/// <summary>The stored action codes shared by every events table.</summary>
public static class EventActions
{
    /// <summary>Creates a record; its event id is the record id.</summary>
    public const int Insert = 1;

    /// <summary>Changes a record.</summary>
    public const int Update = 2;

    /// <summary>Deletes a record; nothing may follow it.</summary>
    public const int Delete = 3;

    /// <summary>A full snapshot replay may start from.</summary>
    public const int Savepoint = 4;

    /// <summary>The name of a base action code, or null.</summary>
    public static string? NameOf(int code) =>
        code switch
        {
            Insert => "insert",
            Update => "update",
            Delete => "delete",
            Savepoint => "savepoint",
            _ => null,
        };
}
