using System.ComponentModel;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Spector;

/// <summary>
/// What the runtime needs to know about one evented type. The generator emits one sealed subclass per
/// <c>[Evented]</c> class; its overrides are plain switches over the type's properties, so replay binds
/// payloads without reflection.
/// </summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public abstract class EventedType<T>
    where T : class
{
    /// <summary>Called by generated code.</summary>
    protected EventedType(
        string name,
        int schemaIndex,
        int version,
        EventLog log,
        RecordTable? table,
        int savepointEvery = 0
    )
    {
        Name = name;
        SavepointEvery = savepointEvery;
        SchemaIndex = schemaIndex;
        Version = version;
        Log = log;
        Table = table;
    }

    /// <summary>The type's name, used in messages.</summary>
    public string Name { get; }

    /// <summary>The stable schema index stored in each of the type's events.</summary>
    public int SchemaIndex { get; }

    /// <summary>The current payload version.</summary>
    public int Version { get; }

    /// <summary>The events table the type is listed on.</summary>
    public EventLog Log { get; }

    /// <summary>The record's own table, or null for an embedded record.</summary>
    public RecordTable? Table { get; }

    /// <summary>When above zero (and the type has a Savepoint hook), a savepoint is appended after every this many
    /// events.</summary>
    public int SavepointEvery { get; }

    /// <summary>The stored keys of the properties whose values differ between two records.</summary>
    public abstract IReadOnlyList<string> Diff(T expected, T actual);

    /// <summary>A new, empty record with the given id.</summary>
    public abstract T Create(Guid id);

    /// <summary>The record's id.</summary>
    public abstract Guid IdOf(T record);

    /// <summary>Calls the one handler that applies to the changeset's action and version.</summary>
    public abstract void Apply(Changeset<T> changeset);

    /// <summary>Sets the property stored under <paramref name="key"/>; false when there is none.</summary>
    public abstract bool TrySetAttr(T record, string key, JsonNode? value);

    /// <summary>As the node overload, reading a value of a stored payload without building a node (replay's
    /// path).</summary>
    public abstract bool TrySetAttr(T record, string key, JsonElement value);

    /// <summary>Reads the property stored under <paramref name="key"/>; false when there is none.</summary>
    public abstract bool TryGetAttr(T record, string key, out object? value);

    /// <summary>True when the type has a <c>PrepareEvent</c> hook; the writer then loads the record's stored events for
    /// it.</summary>
    public virtual bool HasPrepareEvent => false;

    /// <summary>Calls the type's <c>PrepareEvent</c> hook.</summary>
    public virtual void PrepareEvent(EventDraft draft, IReadOnlyList<StoredEvent> previous) { }

    /// <summary>Calls the type's <c>PrepareMaterialization</c> hook before the record table is written.</summary>
    public virtual void PrepareMaterialization(Changeset<T> changeset) { }

    /// <summary>True when the type has a <c>Savepoint</c> hook.</summary>
    public virtual bool HasSavepoint => false;

    /// <summary>Calls the type's <c>Savepoint</c> hook: the attrs that rebuild the record's full state.</summary>
    public virtual Attrs CreateSavepoint(T record, int version) =>
        throw new InvalidOperationException(
            $"{Name} has no Savepoint hook: add 'static Attrs Savepoint({Name} record, int version)'."
        );

    /// <summary>Adds one value per record-table column, named after the column.</summary>
    public virtual void BindColumns(T record, RecordColumns columns) =>
        throw new InvalidOperationException($"{Name} is embedded: it has no record table.");
}

/// <summary>The SQL of a record's own table, generated at compile time from its properties.</summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public sealed class RecordTable
{
    private readonly string _createSqlite;
    private readonly string _createPostgres;

    /// <summary>Called by generated code; the names are validated again here.</summary>
    public RecordTable(
        string name,
        string insertSql,
        string upsertSql,
        string deleteSql,
        string createSqlite,
        string createPostgres,
        IReadOnlyList<RecordColumn> columns
    )
    {
        Name = SqlIdentifier.Validate(name, "record table");
        Columns = columns;
        foreach (var column in columns)
            SqlIdentifier.Validate(column.Column, "column");
        var id =
            columns.FirstOrDefault(c => c.Key == "id")
            ?? throw new ArgumentException($"Record table {name} has no id column.", nameof(columns));
        ExistsSql = $"SELECT COUNT(*) FROM {SqlIdentifier.Quote(Name)} WHERE {SqlIdentifier.Quote(id.Column)} = @id";
        IdColumn = id.Column;
        InsertSql = insertSql;
        UpsertSql = upsertSql;
        DeleteSql = deleteSql;
        _createSqlite = createSqlite;
        _createPostgres = createPostgres;
    }

    /// <summary>The table name.</summary>
    public string Name { get; }

    /// <summary>The mapped columns, the id first.</summary>
    public IReadOnlyList<RecordColumn> Columns { get; }

    /// <summary>The id column.</summary>
    public string IdColumn { get; }

    /// <summary>Counts the rows with <c>@id</c> (0 or 1).</summary>
    public string ExistsSql { get; }

    /// <summary>The rows with no event of schema <c>@schema</c> in any of <paramref name="eventsTables"/> (every
    /// shard): the rows Spector does not track yet.</summary>
    public string UntrackedSql(IEnumerable<string> eventsTables) =>
        $"SELECT {string.Join(", ", Columns.Select(c => "r." + SqlIdentifier.Quote(c.Column)))} "
        + $"FROM {SqlIdentifier.Quote(Name)} r WHERE "
        + string.Join(
            " AND ",
            eventsTables.Select(table =>
                $"NOT EXISTS (SELECT 1 FROM {SqlIdentifier.Quote(table)} e "
                + $"WHERE e.\"parent_id\" = r.{SqlIdentifier.Quote(IdColumn)} AND e.\"schema\" = @schema)"
            )
        );

    /// <summary>Inserts one row; parameters are named <c>r_</c> + column.</summary>
    public string InsertSql { get; }

    /// <summary>Inserts or replaces one row by id, so the table always matches the replayed state.</summary>
    public string UpsertSql { get; }

    /// <summary>Deletes one row by <c>@id</c>.</summary>
    public string DeleteSql { get; }

    /// <summary><c>CREATE TABLE IF NOT EXISTS</c> for the dialect.</summary>
    public string CreateSql(SqlDialect dialect) => dialect == SqlDialect.PostgreSql ? _createPostgres : _createSqlite;

    /// <summary><c>DROP TABLE IF EXISTS</c>.</summary>
    public string DropSql => $"DROP TABLE IF EXISTS {SqlIdentifier.Quote(Name)}";
}

/// <summary>One mapped column of a record table.</summary>
/// <param name="Column">The column name.</param>
/// <param name="Key">The attribute key the property is stored under in payloads.</param>
/// <param name="Type">The property's type (the underlying type for nullable value types).</param>
public sealed record RecordColumn(string Column, string Key, Type Type);
