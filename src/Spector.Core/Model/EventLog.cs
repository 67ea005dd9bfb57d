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
public sealed class EventLog
{
    private readonly Dictionary<int, string> _customActions;
    private SpectorStore? _store;

    /// <summary>Called by generated code; the names are validated again here.</summary>
    public EventLog(string table, IReadOnlyList<EventSchemaInfo> schemas, IReadOnlyList<RecordTable> recordTables,
        IReadOnlyList<EventActionInfo>? actions = null, bool hashed = false, IReadOnlyList<EventLinkInfo>? links = null)
    {
        Table = SqlIdentifier.Validate(table, "events table");
        Hashed = hashed;
        Links = links ?? [];
        foreach (var link in Links) link.Validate();
        if (Links.GroupBy(l => l.Name).FirstOrDefault(g => g.Count() > 1) is { } twice)
            throw new ArgumentException($"Events table {Table} declares the link '{twice.Key}' twice.", nameof(links));
        Sql = new EventLogSql(Table, hashed, Links);
        Schemas = schemas;
        RecordTables = recordTables;
        Actions = actions ?? [];
        _customActions = Actions.ToDictionary(a => a.Code, a => a.Name);
    }

    /// <summary>The link tables between events.</summary>
    public IReadOnlyList<EventLinkInfo> Links { get; }

    /// <summary>The declared link called <paramref name="name"/>, or a clear error.</summary>
    public EventLinkInfo Link(string name) =>
        Links.FirstOrDefault(l => l.Name == name)
        ?? throw new ArgumentException($"Events table {Table} declares no link '{name}'; add [EventLink(\"{name}\", ...)] to it.", nameof(name));

    /// <summary>True when every event is chained to the previous one by a SHA-256 hash.</summary>
    public bool Hashed { get; }

    /// <summary>The custom actions of the listed types, by stored code.</summary>
    public IReadOnlyList<EventActionInfo> Actions { get; }

    /// <summary>The events table's name.</summary>
    public string Table { get; }

    /// <summary>The schema indexes, one per evented type.</summary>
    public IReadOnlyList<EventSchemaInfo> Schemas { get; }

    /// <summary>The tables of the listed types that have one.</summary>
    public IReadOnlyList<RecordTable> RecordTables { get; }

    /// <summary>
    /// How many times a write that keeps losing the (parent_id, seq) race is retried before
    /// <see cref="ConcurrencyConflictException"/>. Each retry replays the log and re-runs the handler.
    /// </summary>
    public int MaxWriteAttempts { get; set; } = 30;

    /// <summary>The store used by operations that take no explicit session.</summary>
    public SpectorStore Store =>
        _store ?? throw new InvalidOperationException(
            $"No store is configured for events table {Table}: call UseSqlite(...) or UsePostgres(...) on its [EventsTable] class, " +
            "or pass a SpectorSession.");

    /// <summary>Sets the default store.</summary>
    public void Use(SpectorStore store) => _store = store ?? throw new ArgumentNullException(nameof(store));

    internal EventLogSql Sql { get; }

    /// <summary>The advisory-lock key of this table's chain: FNV-1a of its name, stable across processes.</summary>
    internal int ChainLockKey => ActionCodes.For(Table);

    /// <summary>The name of a stored action code, or null when the code is unknown.</summary>
    public string? ActionName(int code) =>
        EventActions.NameOf(code) ?? (_customActions.TryGetValue(code, out var name) ? name : null);

    /// <summary>The type name stored under a schema index, or null.</summary>
    public string? SchemaName(int index)
    {
        foreach (var schema in Schemas)
            if (schema.Index == index) return schema.TypeName;
        return null;
    }

    /// <summary>
    /// The migration as separate statements: the events table with its indexes and append-only triggers,
    /// then each record table. Every statement is idempotent.
    /// </summary>
    public IReadOnlyList<string> UpStatements(SqlDialect dialect, bool appendOnly = true)
    {
        var sql = Spector.Dialect.For(dialect);
        var statements = new List<string>(sql.CreateEventsTable(Table, appendOnly, Hashed));
        foreach (var link in Links) statements.AddRange(sql.CreateLinkTable(Table, link));
        statements.AddRange(RecordTables.Select(t => t.CreateSql(dialect)));
        return statements;
    }

    /// <summary>Drops the record tables and the events table, with all events in it.</summary>
    public IReadOnlyList<string> DownStatements(SqlDialect dialect)
    {
        var sql = Spector.Dialect.For(dialect);
        var statements = RecordTables.Select(t => t.DropSql).ToList();
        foreach (var link in Links) statements.AddRange(sql.DropLinkTable(link));
        statements.AddRange(sql.DropEventsTable(Table));
        return statements;
    }

    /// <summary>The migration as one SQL script, for DbUp, FluentMigrator or a DBA.</summary>
    public string UpSql(SqlDialect dialect, bool appendOnly = true) => Script(UpStatements(dialect, appendOnly));

    /// <summary>The rollback as one SQL script.</summary>
    public string DownSql(SqlDialect dialect) => Script(DownStatements(dialect));

    /// <summary>Creates the tables in the configured store.</summary>
    public Task MigrateUpAsync(CancellationToken cancellationToken = default) => MigrateUpAsync(appendOnly: true, cancellationToken);

    /// <summary>Creates the tables; <paramref name="appendOnly"/> false skips the triggers that refuse UPDATE and DELETE of events.</summary>
    public Task MigrateUpAsync(bool appendOnly, CancellationToken cancellationToken = default) =>
        RunAsync(UpStatements(Store.Dialect, appendOnly), cancellationToken);

    /// <summary>Drops the tables in the configured store.</summary>
    public Task MigrateDownAsync(CancellationToken cancellationToken = default) =>
        RunAsync(DownStatements(Store.Dialect), cancellationToken);

    /// <summary>
    /// The events <paramref name="eventId"/> links to through <paramref name="link"/>, in sequence order;
    /// for a typed link, <paramref name="type"/> keeps only links of that type.
    /// </summary>
    public Task<IReadOnlyList<StoredEvent>> LinkedEventsAsync(Guid eventId, string link, int? type = null, CancellationToken cancellationToken = default) =>
        EventReader.ReadLinkedAsync(this, null, eventId, Link(link), outgoing: true, type, cancellationToken);

    /// <summary>
    /// The events that link to <paramref name="eventId"/> through <paramref name="link"/>, in sequence order;
    /// for a typed link, <paramref name="type"/> keeps only links of that type.
    /// </summary>
    public Task<IReadOnlyList<StoredEvent>> LinkingEventsAsync(Guid eventId, string link, int? type = null, CancellationToken cancellationToken = default) =>
        EventReader.ReadLinkedAsync(this, null, eventId, Link(link), outgoing: false, type, cancellationToken);

    /// <summary>The links stored for one event, across every link table, sorted by name, target and type.</summary>
    public Task<IReadOnlyList<EventLinkRow>> LinksOfAsync(Guid eventId, CancellationToken cancellationToken = default) =>
        EventReader.ReadLinksAsync(this, null, eventId, cancellationToken);

    /// <summary>Every event of the record <paramref name="eventId"/> belongs to, up to and including it, in sequence order.</summary>
    public Task<IReadOnlyList<StoredEvent>> PreviousEventsAsync(Guid eventId, CancellationToken cancellationToken = default) =>
        EventReader.ReadPreviousAsync(this, null, eventId, cancellationToken);

    /// <summary>Every event of one record, of any type, in sequence order.</summary>
    public Task<IReadOnlyList<StoredEvent>> EventsOfAsync(Guid recordId, CancellationToken cancellationToken = default) =>
        EventReader.ReadEventsAsync(this, null, recordId, schema: null, cancellationToken);

    /// <summary>
    /// Verifies the hash chain of the whole table in position order, streaming it in constant memory.
    /// Pass the head returned by an earlier verification (kept outside the database) to also detect removed
    /// tail events and restores of older backups.
    /// </summary>
    public Task<ChainVerification> VerifyHashChainAsync(ChainHead? expectedHead = null, CancellationToken cancellationToken = default) =>
        ChainVerifier.VerifyAsync(this, null, expectedHead, cancellationToken);

    /// <summary>As <see cref="VerifyHashChainAsync(ChainHead?, CancellationToken)"/>, inside the caller's session.</summary>
    public Task<ChainVerification> VerifyHashChainAsync(SpectorSession session, ChainHead? expectedHead = null,
        CancellationToken cancellationToken = default) =>
        ChainVerifier.VerifyAsync(this, session ?? throw new ArgumentNullException(nameof(session)), expectedHead, cancellationToken);

    /// <summary>
    /// Writes the hash chain as JSON Lines (one event per line, in chain order, with every hashed field and the
    /// hash in hex) so it can be re-verified by any RFC 8785 implementation. Returns the number of events.
    /// </summary>
    public Task<long> ExportChainAsync(Stream output, CancellationToken cancellationToken = default) =>
        ChainExport.ExportAsync(this, null, output ?? throw new ArgumentNullException(nameof(output)), cancellationToken);

    private async Task RunAsync(IReadOnlyList<string> statements, CancellationToken ct)
    {
        await using var connection = await Store.OpenConnectionAsync(ct).ConfigureAwait(false);
        await using var tx = await connection.BeginTransactionAsync(ct).ConfigureAwait(false);
        foreach (var sql in statements)
            await connection.ExecuteAsync(new CommandDefinition(sql, transaction: tx, cancellationToken: ct)).ConfigureAwait(false);
        await tx.CommitAsync(ct).ConfigureAwait(false);
    }

    private static string Script(IEnumerable<string> statements) => string.Join(";\n\n", statements) + ";\n";

    /// <summary>Maps an error from an UPDATE or DELETE of an event row to <see cref="EventLogImmutableException"/>; other errors pass through unchanged.</summary>
    public Exception Translate(Exception error) =>
        error is DbException db && Spector.Dialect.IsAnyAppendOnlyViolation(db)
            ? new EventLogImmutableException(Table, error)
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
    public static string? NameOf(int code) => code switch
    {
        Insert => "insert",
        Update => "update",
        Delete => "delete",
        Savepoint => "savepoint",
        _ => null,
    };
}

/// <summary>One row of an events table.</summary>
public sealed record StoredEvent(
    Guid Id,
    Guid ParentId,
    long Seq,
    long Position,
    int Schema,
    int ActionCode,
    string? Action,
    string Payload,
    string? Metadata,
    DateTimeOffset InsertedAt)
{
    /// <summary>The payload as attributes.</summary>
    public Attrs ReadAttrs() => Attrs.Parse(Payload);
}
