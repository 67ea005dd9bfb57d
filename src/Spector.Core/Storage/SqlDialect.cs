using System.Data.Common;

namespace Spector;

/// <summary>The databases Spector stores events in.</summary>
public enum SqlDialect
{
    /// <summary>SQLite through Microsoft.Data.Sqlite: embedded, zero setup.</summary>
    Sqlite,

    /// <summary>PostgreSQL through Npgsql.</summary>
    PostgreSql,
}

/// <summary>
/// The SQL text that differs between PostgreSQL and SQLite, in one place: column types, event-table DDL and how
/// timestamps are stored. How write transactions start and how errors are recognised (by code, never by message)
/// need the ADO.NET provider's types: a bound instance asks its <see cref="SpectorProvider"/>.
/// </summary>
internal abstract class Dialect
{
    private static readonly Dialect PostgresText = new Postgres(null);
    private static readonly Dialect SqliteText = new Sqlite(null);

    private readonly SpectorProvider? _provider;

    private Dialect(SpectorProvider? provider) => _provider = provider;

    /// <summary>The SQL text of <paramref name="kind"/> alone: statements, never errors or transactions.</summary>
    public static Dialect For(SqlDialect kind) => kind == SqlDialect.PostgreSql ? PostgresText : SqliteText;

    /// <summary>The SQL text of <paramref name="store"/>'s database, bound to its provider.</summary>
    public static Dialect For(SpectorStore store) => store.Provider.Sql;

    /// <summary>The SQL text of <paramref name="connection"/>'s database, bound to its installed provider.</summary>
    public static Dialect For(DbConnection connection) => SpectorProvider.For(connection).Sql;

    /// <summary>The SQL text of <paramref name="kind"/> bound to <paramref name="provider"/>.</summary>
    public static Dialect Create(SqlDialect kind, SpectorProvider provider) =>
        kind == SqlDialect.PostgreSql ? new Postgres(provider) : new Sqlite(provider);

    // The SQL-only instances serve statement text; anything that needs the ADO.NET provider's types asks it.
    private SpectorProvider Provider =>
        _provider
        ?? throw new InvalidOperationException(
            "Spector internal error: a provider operation was asked of the SQL text alone."
        );

    public abstract SqlDialect Kind { get; }

    public static bool IsAnyAppendOnlyViolation(DbException error) =>
        SpectorProvider.RefusingAppendOnly(error) is not null;

    /// <summary>
    /// The table whose append-only trigger refused a change: the triggers name it in their message
    /// ("events table notes_even is append-only"), which may be a shard or another log's table.
    /// </summary>
    public static string? AppendOnlyTable(DbException error)
    {
        var text = SpectorProvider.RefusingAppendOnly(error)?.MessageText(error) ?? error.Message;
        var match = System.Text.RegularExpressions.Regex.Match(text, "events table (.+?) is append-only");
        return match.Success ? match.Groups[1].Value : null;
    }

    /// <summary>The statements that create one events table, each runnable on its own.</summary>
    public abstract IReadOnlyList<string> CreateEventsTable(string table, bool appendOnly, bool hashed);

    /// <summary>
    /// The statements that create the heads table of <paramref name="table"/> and, when it is created over an
    /// events table that already holds events (written before heads existed), fill it from the log in the
    /// same transaction.
    /// </summary>
    public abstract IReadOnlyList<string> CreateHeadsTable(string table, string heads, bool hashed);

    /// <summary>Appended to a head read so the row stays locked to commit (PostgreSQL), or empty where the write
    /// transaction already holds the lock.</summary>
    public abstract string ForUpdate { get; }

    /// <summary>
    /// Creates a table chain's head row from the log when it is missing (parameters <c>@__chain</c>,
    /// <c>@__genesis</c>, <c>@__epoch</c>); a no-op when it exists.
    /// </summary>
    public abstract string CreateChainHeadSql(string table, string heads);

    /// <summary>
    /// SQL run first in a migration's transaction so concurrent migrations take turns (PostgreSQL), or null
    /// where the migration's write transaction already does.
    /// </summary>
    public abstract string? MigrationLockSql { get; }

    /// <summary>
    /// The database refused the transaction to keep it serializable: PostgreSQL's 40001 (a row changed since the
    /// snapshot of a REPEATABLE READ or SERIALIZABLE transaction) or 40P01, SQLite's SQLITE_BUSY on a deferred
    /// transaction whose snapshot is stale. Only the whole transaction can be retried.
    /// </summary>
    public bool IsSerializationFailure(DbException error) => Provider.IsSerializationFailure(error);

    public abstract IReadOnlyList<string> DropEventsTable(string table);

    /// <summary>A link table with a unique pair and a trigger that refuses links between events of different
    /// records.</summary>
    public abstract IReadOnlyList<string> CreateLinkTable(string eventsTable, EventLinkInfo link);

    public abstract IReadOnlyList<string> DropLinkTable(EventLinkInfo link);

    /// <summary>The link trigger refused a link between events of different records (or to a missing event).</summary>
    public bool IsLinkRejected(DbException error) => Provider.IsLinkRejected(error);

    /// <summary>SQL text of one event's links, for the chain query: "name target[ type]" items joined by commas, or
    /// NULL.</summary>
    public abstract string LinksOfEventSql(string eventsAlias, IReadOnlyList<EventLinkInfo> links);

    protected static string LinkColumns(EventLinkInfo link) =>
        $"\"event_id\", {Q(link.Column)}{(link.Typed ? ", \"type\"" : "")}";

    /// <summary>
    /// Inserts one event row (with its idempotency key). Its parameters start with <c>__</c> so a record-table
    /// statement can share the
    /// command (record columns bind as <c>@column</c>). <paramref name="firstOfRecord"/>: the event creates its record,
    /// so no earlier event of it exists to read.
    /// </summary>
    public abstract string AppendSql(string table, bool hashed, bool withContext = false, bool firstOfRecord = false);

    /// <summary>The context column list and parameter list appended to an INSERT of an event, or nothing.</summary>
    protected static (string Columns, string Values) ContextInsert(bool withContext) =>
        withContext
            ? (
                ", " + ContextColumns.SelectList(),
                ", " + string.Join(", ", ContextColumns.Names.Select(name => "@__" + name))
            )
            : ("", "");

    /// <summary>Value to bind for an event's <c>inserted_at</c>.</summary>
    public abstract object Timestamp(DateTimeOffset value);

    public abstract DateTimeOffset ReadTimestamp(DbDataReader reader, int ordinal);

    /// <inheritdoc cref="SpectorProvider.CommitsInCommand"/>
    public bool CommitsInCommand => Provider.CommitsInCommand;

    /// <inheritdoc cref="SpectorProvider.PreparesCommands"/>
    public bool PreparesCommands => Provider.PreparesCommands;

    /// <inheritdoc cref="SpectorProvider.OwnTransactionBegin"/>
    public string? OwnTransactionBegin => Provider.OwnTransactionBegin;

    /// <inheritdoc cref="SpectorProvider.AbandonOwnTransactionAsync"/>
    public ValueTask AbandonOwnTransactionAsync(DbConnection connection) =>
        Provider.AbandonOwnTransactionAsync(connection);

    /// <summary>Starts the transaction of one write: on SQLite it takes the write lock at once.</summary>
    public ValueTask<DbTransaction> BeginWriteAsync(DbConnection connection, CancellationToken ct) =>
        Provider.BeginWriteAsync(connection, ct);

    /// <summary>
    /// Inside a caller's transaction, before a write reads: takes the write lock where the database needs it taken
    /// up front (SQLite; PostgreSQL locks rows as it goes). <paramref name="noOpWrite"/> writes no row.
    /// </summary>
    public ValueTask TakeWriteLockAsync(DbConnection connection, string noOpWrite, CancellationToken ct) =>
        Provider.TakeWriteLockAsync(connection, noOpWrite, ct);

    /// <summary>The append-only trigger refused an UPDATE or DELETE of an event row.</summary>
    public bool IsAppendOnlyViolation(DbException error) => Provider.IsAppendOnlyViolation(error);

    protected static string Q(string name) => SqlIdentifier.Quote(name);

    /// <summary>Finds a record's latest savepoint without reading its other events.</summary>
    private static string SavepointIndex(string table) =>
        $"""CREATE INDEX IF NOT EXISTS {Q(Name(table, "savepoints_idx"))} ON {Q(table)} ("parent_id", "seq") """
        + $"""WHERE "action" = {EventActions.Savepoint}""";

    protected static string Name(string table, string suffix) => SqlIdentifier.Derived(table, suffix);

    /// <summary>The heads table of an events table: one row per record, plus one per table chain.</summary>
    public static string Heads(string table) => SqlIdentifier.Derived(table, "heads");

    /// <summary>
    /// One head per record of an events table written before heads existed: its last event's seq, hash and
    /// time, whether that event deleted it, and its latest savepoint. Runs only while the heads table is empty.
    /// </summary>
    protected static string BackfillHeads(string table, string heads, bool hashed) =>
        HeadsFromLog(table, heads, hashed, $"NOT EXISTS (SELECT 1 FROM {Q(heads)})");

    /// <summary>
    /// The heads of the records <paramref name="filter"/> selects (over events alias <c>e</c>), rebuilt from the log.
    /// </summary>
    public static string HeadsFromLog(string table, string heads, bool hashed, string filter)
    {
        var (t, h) = (Q(table), Q(heads));
        return $"""
            INSERT INTO {h} ("record_id", "schema", "last_seq", "last_hash", "deleted", "savepoint_seq", "last_at")
            SELECT e."parent_id", e."schema", e."seq", {(
                hashed ? "e.\"hash\"" : "NULL"
            )}, e."action" = {EventActions.Delete},
                COALESCE((SELECT MAX(s."seq") FROM {t} s
                    WHERE s."parent_id" = e."parent_id" AND s."action" = {EventActions.Savepoint}), 0),
                e."inserted_at"
            FROM {t} e
            WHERE {filter}
              AND e."seq" = (SELECT MAX(m."seq") FROM {t} m WHERE m."parent_id" = e."parent_id")
            """;
    }

    private sealed class Postgres(SpectorProvider? provider) : Dialect(provider)
    {
        public override SqlDialect Kind => SqlDialect.PostgreSql;

        // Constraints are left for PostgreSQL to name (it shortens names to fit); every object Spector names is
        // created only when missing, so a migration over a table in use takes no lock against its writers.
        public override IReadOnlyList<string> CreateEventsTable(string table, bool appendOnly, bool hashed)
        {
            var t = Q(table);
            var statements = new List<string>
            {
                $"""
                    CREATE TABLE IF NOT EXISTS {t} (
                        "position" bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,{(
                        hashed ? "\n    \"hash\" bytea NOT NULL," : ""
                    )}
                        "id" uuid NOT NULL UNIQUE,
                        "parent_id" uuid NOT NULL,
                        "seq" bigint NOT NULL CHECK ("seq" >= 1),
                        "schema" integer NOT NULL,
                        "action" integer NOT NULL,
                        "payload" jsonb NOT NULL,
                        "metadata" jsonb NULL,
                        {ContextColumns.Definitions},
                        "idempotency_key" text NULL,
                        "inserted_at" timestamptz NOT NULL,
                        "tx_id" xid8 NOT NULL DEFAULT pg_current_xact_id(),
                        UNIQUE ("parent_id", "seq")
                    )
                    """,
                IfNoRelation(
                    Name(table, "idempotency_key"),
                    $"""CREATE UNIQUE INDEX {Q(Name(table, "idempotency_key"))} ON {t} ("idempotency_key") """
                        + """WHERE "idempotency_key" IS NOT NULL"""
                ),
                IfNoRelation(
                    Name(table, "schema_idx"),
                    $"""CREATE INDEX {Q(Name(table, "schema_idx"))} ON {t} ("schema")"""
                ),
                IfNoRelation(
                    Name(table, "tx_id_idx"),
                    $"""CREATE INDEX {Q(Name(table, "tx_id_idx"))} ON {t} ("tx_id", "position")"""
                ),
                IfNoRelation(Name(table, "savepoints_idx"), SavepointIndex(table).Replace("IF NOT EXISTS ", "")),
            };
            // Tables created before the context columns get them here, before their indexes.
            statements.Insert(1, ContextColumns.AddIfMissingPostgres(table));
            statements.AddRange(ContextColumns.Indexes(table).Select(index => IfNoRelation(index.Name, index.Create)));
            if (appendOnly)
            {
                var function = Name(table, "append_only");
                statements.Add(
                    $"""
                    DO $spector$ BEGIN
                    IF to_regprocedure('{Q(function)}()') IS NULL THEN
                        CREATE FUNCTION {Q(function)}() RETURNS trigger LANGUAGE plpgsql AS $body$
                        BEGIN
                            RAISE EXCEPTION 'events table % is append-only: % refused', TG_TABLE_NAME, TG_OP
                                USING ERRCODE = '{SqlStates.AppendOnly}';
                        END
                        $body$;
                    END IF;
                    END $spector$
                    """
                );
                statements.Add(
                    IfNoTrigger(
                        table,
                        Name(table, "no_change"),
                        $"CREATE TRIGGER {Q(Name(table, "no_change"))} BEFORE UPDATE OR DELETE ON {t} "
                            + $"FOR EACH ROW EXECUTE FUNCTION {Q(function)}()"
                    )
                );
                statements.Add(
                    IfNoTrigger(
                        table,
                        Name(table, "no_truncate"),
                        $"CREATE TRIGGER {Q(Name(table, "no_truncate"))} BEFORE TRUNCATE ON {t} "
                            + $"FOR EACH STATEMENT EXECUTE FUNCTION {Q(function)}()"
                    )
                );
            }
            return statements;
        }

        public override IReadOnlyList<string> CreateHeadsTable(string table, string heads, bool hashed) =>
            [
                    // The events table is locked against writers only while the heads of its existing records are
                    // filled in, once.
                    $"""
                    DO $spector$ BEGIN
                    IF to_regclass('{Q(heads)}') IS NULL THEN
                        CREATE TABLE {Q(heads)} (
                            "record_id" uuid PRIMARY KEY,
                            "schema" integer NOT NULL,
                            "last_seq" bigint NOT NULL,
                            "last_hash" bytea NULL,
                            "deleted" boolean NOT NULL DEFAULT false,
                            "savepoint_seq" bigint NOT NULL DEFAULT 0,
                            "last_at" timestamptz NOT NULL
                        );
                        LOCK TABLE {Q(table)} IN SHARE MODE;
                        {BackfillHeads(table, heads, hashed)};
                    END IF;
                    END $spector$
                    """,
            ];

        public override string ForUpdate => " FOR UPDATE";

        public override string CreateChainHeadSql(string table, string heads) =>
            $"""
                INSERT INTO {Q(
                    heads
                )} ("record_id", "schema", "last_seq", "last_hash", "deleted", "savepoint_seq", "last_at")
                SELECT @__chain, -1, (SELECT COUNT(*) FROM {Q(table)}),
                    COALESCE((SELECT "hash" FROM {Q(table)} ORDER BY "position" DESC LIMIT 1), @__genesis), false, 0,
                    COALESCE((SELECT "inserted_at" FROM {Q(table)} ORDER BY "position" DESC LIMIT 1), @__epoch)
                ON CONFLICT ("record_id") DO NOTHING
                """;

        // One key for every Spector migration of the database: migrations are rare and short.
        public override string MigrationLockSql => "SELECT pg_advisory_xact_lock(1397770325, 0)";

        private static string IfNoRelation(string name, string ddl) =>
            $"DO $spector$ BEGIN IF to_regclass('{Q(name)}') IS NULL THEN {ddl}; END IF; END $spector$";

        private static string IfNoTrigger(string table, string trigger, string ddl) =>
            $"DO $spector$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_trigger WHERE tgrelid = to_regclass('{Q(table)}') "
            + $"AND tgname = '{trigger}') THEN {ddl}; END IF; END $spector$";

        public override IReadOnlyList<string> DropEventsTable(string table) =>
            [
                $"DROP TABLE IF EXISTS {Q(Heads(table))}",
                $"DROP TABLE IF EXISTS {Q(table)}",
                $"DROP FUNCTION IF EXISTS {Q(Name(table, "append_only"))}()",
            ];

        // tx_id never goes below the record's previous event's: a follower ordering by (tx_id, position) then
        // keeps each record's order even when a writer's transaction id is older than the event it follows
        // (see docs/followers.md). A value at or above the writer's own id keeps the xmin rule sound.
        // A record's first event has no previous one: its own transaction id, without the index probe.
        public override string AppendSql(
            string table,
            bool hashed,
            bool withContext = false,
            bool firstOfRecord = false
        )
        {
            var (columns, values) = ContextInsert(withContext);
            var txId = firstOfRecord
                ? "pg_current_xact_id()"
                : "GREATEST(pg_current_xact_id(),\n"
                    + $"    (SELECT p.\"tx_id\" FROM {Q(table)} p WHERE p.\"parent_id\" = @__parent_id "
                    + "ORDER BY p.\"seq\" DESC LIMIT 1))";
            return $"""
                INSERT INTO {Q(
                    table
                )} ("id", "parent_id", "seq", "schema", "action", "payload", "metadata", "inserted_at",
                    "idempotency_key", "tx_id"{(hashed ? ", \"hash\"" : "")}{columns})
                VALUES (@__id, @__parent_id, @__seq, @__schema, @__action, CAST(@__payload AS jsonb),
                    CAST(@__metadata AS jsonb), @__inserted_at, @__key, {txId}
                    {(hashed ? ", @__hash" : "")}{values})
                """;
        }

        public override IReadOnlyList<string> CreateLinkTable(string eventsTable, EventLinkInfo link)
        {
            var (l, e, c) = (Q(link.Table), Q(eventsTable), Q(link.Column));
            var function = Name(link.Table, "same_record");
            var fn = Q(function);
            return
            [
                $"""
                    CREATE TABLE IF NOT EXISTS {l} (
                        "event_id" uuid NOT NULL REFERENCES {e} ("id"),
                        {c} uuid NOT NULL REFERENCES {e} ("id"),{(link.Typed ? "\n    \"type\" integer NOT NULL," : "")}
                        UNIQUE ({LinkColumns(link)})
                    )
                    """,
                IfNoRelation(
                    Name(link.Table, link.Column + "_idx"),
                    $"""CREATE INDEX {Q(Name(link.Table, link.Column + "_idx"))} ON {l} ({c})"""
                ),
                $"""
                    DO $spector$ BEGIN
                    IF to_regprocedure('{fn}()') IS NULL THEN
                    CREATE FUNCTION {fn}() RETURNS trigger LANGUAGE plpgsql AS $body$
                    DECLARE source_record uuid; target_record uuid;
                    BEGIN
                        SELECT "parent_id" INTO source_record FROM {e} WHERE "id" = NEW."event_id";
                        SELECT "parent_id" INTO target_record FROM {e} WHERE "id" = NEW.{c};
                        IF source_record IS NULL OR source_record IS DISTINCT FROM target_record THEN
                            RAISE EXCEPTION 'link % -> % joins events of different records (% and %)',
                                NEW."event_id", NEW.{c}, source_record, target_record
                                USING ERRCODE = '{SqlStates.LinkRejected}';
                        END IF;
                        RETURN NEW;
                    END
                    $body$;
                    END IF;
                    END $spector$
                    """,
                IfNoTrigger(
                    link.Table,
                    function,
                    $"CREATE TRIGGER {fn} BEFORE INSERT ON {l} FOR EACH ROW EXECUTE FUNCTION {fn}()"
                ),
            ];
        }

        public override IReadOnlyList<string> DropLinkTable(EventLinkInfo link) =>
            [
                $"DROP TABLE IF EXISTS {Q(link.Table)}",
                $"DROP FUNCTION IF EXISTS {Q(Name(link.Table, "same_record"))}()",
            ];

        public override string LinksOfEventSql(string eventsAlias, IReadOnlyList<EventLinkInfo> links) =>
            links.Count == 0
                ? "NULL"
                : "(SELECT string_agg(item, ',') FROM ("
                    + string.Join(
                        " UNION ALL ",
                        links.Select(link =>
                            $"SELECT '{link.Name} ' || l.{Q(link.Column)}::text"
                            + (link.Typed ? " || ' ' || l.\"type\"::text" : "")
                            + " AS item "
                            + $"FROM {Q(link.Table)} l WHERE l.\"event_id\" = {eventsAlias}.\"id\""
                        )
                    )
                    + ") links)";

        public override object Timestamp(DateTimeOffset value) => value.ToUniversalTime();

        public override DateTimeOffset ReadTimestamp(DbDataReader reader, int ordinal) =>
            reader.GetFieldValue<DateTimeOffset>(ordinal);
    }

    private sealed class Sqlite(SpectorProvider? provider) : Dialect(provider)
    {
        public override SqlDialect Kind => SqlDialect.Sqlite;

        public override IReadOnlyList<string> CreateEventsTable(string table, bool appendOnly, bool hashed)
        {
            var t = Q(table);
            var statements = new List<string>
            {
                    // AUTOINCREMENT: positions are never reused, even for a removed tail.
                    $"""
                    CREATE TABLE IF NOT EXISTS {t} (
                        "position" INTEGER PRIMARY KEY AUTOINCREMENT,{(hashed ? "\n    \"hash\" BLOB NOT NULL," : "")}
                        "id" TEXT NOT NULL UNIQUE,
                        "parent_id" TEXT NOT NULL,
                        "seq" INTEGER NOT NULL CHECK ("seq" >= 1),
                        "schema" INTEGER NOT NULL,
                        "action" INTEGER NOT NULL,
                        "payload" TEXT NOT NULL,
                        "metadata" TEXT NULL,
                        {ContextColumns.Definitions},
                        "idempotency_key" TEXT NULL,
                        "inserted_at" INTEGER NOT NULL,
                        UNIQUE ("parent_id", "seq")
                    )
                    """,
                $"""CREATE UNIQUE INDEX IF NOT EXISTS {Q(Name(table, "idempotency_key"))} ON {t} ("idempotency_key") """
                    + """WHERE "idempotency_key" IS NOT NULL""",
                $"""CREATE INDEX IF NOT EXISTS {Q(Name(table, "schema_idx"))} ON {t} ("schema")""",
                SavepointIndex(table),
            };
            // Tables created before the context columns get them from MigrateUpAsync (SQLite has no ADD COLUMN IF NOT
            // EXISTS).
            statements.AddRange(
                ContextColumns
                    .Indexes(table)
                    .Select(index => index.Create.Replace("CREATE INDEX ", "CREATE INDEX IF NOT EXISTS "))
            );
            if (appendOnly)
            {
                statements.Add(
                    $"""
                    CREATE TRIGGER IF NOT EXISTS {Q(Name(table, "no_update"))} BEFORE UPDATE ON {t}
                    BEGIN SELECT RAISE(ABORT, 'events table {table} is append-only: UPDATE refused'); END
                    """
                );
                statements.Add(
                    $"""
                    CREATE TRIGGER IF NOT EXISTS {Q(Name(table, "no_delete"))} BEFORE DELETE ON {t}
                    BEGIN SELECT RAISE(ABORT, 'events table {table} is append-only: DELETE refused'); END
                    """
                );
            }
            return statements;
        }

        public override IReadOnlyList<string> DropEventsTable(string table) =>
            [$"DROP TABLE IF EXISTS {Q(Heads(table))}", $"DROP TABLE IF EXISTS {Q(table)}"];

        public override IReadOnlyList<string> CreateHeadsTable(string table, string heads, bool hashed) =>
            [
                $"""
                    CREATE TABLE IF NOT EXISTS {Q(heads)} (
                        "record_id" TEXT NOT NULL PRIMARY KEY,
                        "schema" INTEGER NOT NULL,
                        "last_seq" INTEGER NOT NULL,
                        "last_hash" BLOB NULL,
                        "deleted" INTEGER NOT NULL DEFAULT 0,
                        "savepoint_seq" INTEGER NOT NULL DEFAULT 0,
                        "last_at" INTEGER NOT NULL
                    ) WITHOUT ROWID
                    """,
                // The migration's transaction holds SQLite's write lock, so no writer runs beside the fill.
                BackfillHeads(table, heads, hashed),
            ];

        public override string ForUpdate => "";

        public override string CreateChainHeadSql(string table, string heads) =>
            $"""
                INSERT OR IGNORE INTO {Q(
                    heads
                )} ("record_id", "schema", "last_seq", "last_hash", "deleted", "savepoint_seq", "last_at")
                SELECT @__chain, -1, (SELECT COUNT(*) FROM {Q(table)}),
                    COALESCE((SELECT "hash" FROM {Q(table)} ORDER BY "position" DESC LIMIT 1), @__genesis), 0, 0,
                    COALESCE((SELECT "inserted_at" FROM {Q(table)} ORDER BY "position" DESC LIMIT 1), @__epoch)
                """;

        // Microsoft.Data.Sqlite begins migrations with BEGIN IMMEDIATE: they already take turns.
        public override string? MigrationLockSql => null;

        public override string AppendSql(
            string table,
            bool hashed,
            bool withContext = false,
            bool firstOfRecord = false
        )
        {
            var (columns, values) = ContextInsert(withContext);
            return $"""
                INSERT INTO {Q(
                    table
                )} ("id", "parent_id", "seq", "schema", "action", "payload", "metadata", "inserted_at",
                    "idempotency_key"{(hashed ? ", \"hash\"" : "")}{columns})
                VALUES (@__id, @__parent_id, @__seq, @__schema, @__action, @__payload, @__metadata, @__inserted_at,
                    @__key{(hashed ? ", @__hash" : "")}{values})
                """;
        }

        public override IReadOnlyList<string> CreateLinkTable(string eventsTable, EventLinkInfo link)
        {
            var (l, e, c) = (Q(link.Table), Q(eventsTable), Q(link.Column));
            string ParentOf(string column) => $"(SELECT \"parent_id\" FROM {e} WHERE \"id\" = NEW.{column})";
            return
            [
                $"""
                    CREATE TABLE IF NOT EXISTS {l} (
                        "event_id" TEXT NOT NULL,
                        {c} TEXT NOT NULL,{(link.Typed ? "\n    \"type\" INTEGER NOT NULL," : "")}
                        UNIQUE ({LinkColumns(link)})
                    )
                    """,
                $"""CREATE INDEX IF NOT EXISTS {Q(Name(link.Table, link.Column + "_idx"))} ON {l} ({c})""",
                $"""
                    CREATE TRIGGER IF NOT EXISTS {Q(Name(link.Table, "same_record"))} BEFORE INSERT ON {l}
                    WHEN {ParentOf("\"event_id\"")} IS NULL OR {ParentOf("\"event_id\"")} IS NOT {ParentOf(c)}
                    BEGIN SELECT RAISE(ABORT, 'link {link.Name} joins events of different records'); END
                    """,
            ];
        }

        public override IReadOnlyList<string> DropLinkTable(EventLinkInfo link) =>
            [$"DROP TABLE IF EXISTS {Q(link.Table)}"];

        public override string LinksOfEventSql(string eventsAlias, IReadOnlyList<EventLinkInfo> links) =>
            links.Count == 0
                ? "NULL"
                : "(SELECT group_concat(item, ',') FROM ("
                    + string.Join(
                        " UNION ALL ",
                        links.Select(link =>
                            $"SELECT '{link.Name} ' || l.{Q(link.Column)}"
                            + (link.Typed ? " || ' ' || l.\"type\"" : "")
                            + " AS item "
                            + $"FROM {Q(link.Table)} l WHERE l.\"event_id\" = {eventsAlias}.\"id\""
                        )
                    )
                    + "))";

        /// <summary>Microseconds since the Unix epoch: sortable, exact, and what the hash envelope uses.</summary>
        public override object Timestamp(DateTimeOffset value) =>
            (value.UtcTicks - DateTimeOffset.UnixEpoch.UtcTicks) / 10;

        public override DateTimeOffset ReadTimestamp(DbDataReader reader, int ordinal) =>
            DateTimeOffset.UnixEpoch.AddTicks(reader.GetInt64(ordinal) * 10);
    }
}

/// <summary>The SQLSTATEs Spector's PostgreSQL triggers raise (class "SP" is free for applications).</summary>
internal static class SqlStates
{
    /// <summary>Raised by the append-only trigger.</summary>
    public const string AppendOnly = "SPE01";

    /// <summary>Raised by the same-record link trigger.</summary>
    public const string LinkRejected = "SPE02";
}
