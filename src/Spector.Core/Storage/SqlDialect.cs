using System.Data.Common;
using Microsoft.Data.Sqlite;
using Npgsql;

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
/// Everything that differs between PostgreSQL and SQLite, in one place: column types, event-table DDL,
/// how timestamps are stored, how write transactions start, and how errors are recognised (by code, never
/// by message).
/// </summary>
internal abstract class Dialect
{
    public static Dialect For(SqlDialect kind) => kind == SqlDialect.PostgreSql ? Postgres.Instance : Sqlite.Instance;

    public static Dialect For(DbConnection connection) => connection switch
    {
        NpgsqlConnection => Postgres.Instance,
        SqliteConnection => Sqlite.Instance,
        _ => throw new NotSupportedException(
            $"Spector supports NpgsqlConnection and SqliteConnection; got {connection.GetType().FullName}."),
    };

    public abstract SqlDialect Kind { get; }

    public static bool IsAnyAppendOnlyViolation(DbException error) => error switch
    {
        NpgsqlException => Postgres.Instance.IsAppendOnlyViolation(error),
        SqliteException => Sqlite.Instance.IsAppendOnlyViolation(error),
        _ => false,
    };

    /// <summary>The statements that create one events table, each runnable on its own.</summary>
    public abstract IReadOnlyList<string> CreateEventsTable(string table, bool appendOnly, bool hashed);

    /// <summary>
    /// SQL run at the start of a hashed append that makes appends to one chain take turns until commit
    /// (parameter <c>@key</c>), or null where write transactions already do.
    /// </summary>
    public abstract string? ChainLockSql { get; }

    public abstract IReadOnlyList<string> DropEventsTable(string table);

    /// <summary>A link table with a unique pair and a trigger that refuses links between events of different records.</summary>
    public abstract IReadOnlyList<string> CreateLinkTable(string eventsTable, EventLinkInfo link);

    public abstract IReadOnlyList<string> DropLinkTable(EventLinkInfo link);

    /// <summary>The link trigger refused a link between events of different records (or to a missing event).</summary>
    public abstract bool IsLinkRejected(DbException error);

    /// <summary>SQL text of one event's links, for the chain query: "name target[ type]" items joined by commas, or NULL.</summary>
    public abstract string LinksOfEventSql(string eventsAlias, IReadOnlyList<EventLinkInfo> links);

    protected static string LinkColumns(EventLinkInfo link) =>
        $"\"event_id\", {Q(link.Column)}{(link.Typed ? ", \"type\"" : "")}";

    /// <summary>Inserts one event row; the payload parameter is JSON text.</summary>
    /// <summary>
    /// Inserts one event row. Its parameters start with <c>__</c> so a record-table statement can share the
    /// command (record columns bind as <c>@column</c>).
    /// </summary>
    public abstract string AppendSql(string table, bool hashed, bool withContext = false);

    /// <summary>The context column list and parameter list appended to an INSERT of an event, or nothing.</summary>
    protected static (string Columns, string Values) ContextInsert(bool withContext) => withContext
        ? (", " + ContextColumns.SelectList(), ", " + string.Join(", ", ContextColumns.Names.Select(name => "@__" + name)))
        : ("", "");

    /// <summary>Value to bind for an event's <c>inserted_at</c>.</summary>
    public abstract object Timestamp(DateTimeOffset value);

    public abstract DateTimeOffset ReadTimestamp(DbDataReader reader, int ordinal);

    /// <summary>Starts the transaction of one write: on SQLite it takes the write lock at once.</summary>
    public abstract ValueTask<DbTransaction> BeginWriteAsync(DbConnection connection, CancellationToken ct);

    /// <summary>Another writer appended the same (parent_id, seq) first.</summary>
    public abstract bool IsSeqConflict(DbException error, string table);

    /// <summary>The append-only trigger refused an UPDATE or DELETE of an event row.</summary>
    public abstract bool IsAppendOnlyViolation(DbException error);

    /// <summary>
    /// SQL that serialises writers of one record after they keep losing races (parameter <c>@key</c>),
    /// or null where writers are already serialised.
    /// </summary>
    public abstract string? RecordLockSql { get; }

    protected static string Q(string name) => SqlIdentifier.Quote(name);

    /// <summary>Finds a record's latest savepoint without reading its other events.</summary>
    private static string SavepointIndex(string table) =>
        $"""CREATE INDEX IF NOT EXISTS {Q(table + "_savepoints_idx")} ON {Q(table)} ("parent_id", "seq") WHERE "action" = {EventActions.Savepoint}""";

    private sealed class Postgres : Dialect
    {
        public static readonly Postgres Instance = new();

        /// <summary>SQLSTATE raised by the append-only trigger (class "SP" is free for applications).</summary>
        public const string AppendOnlySqlState = "SPE01";

        public override SqlDialect Kind => SqlDialect.PostgreSql;

        public override IReadOnlyList<string> CreateEventsTable(string table, bool appendOnly, bool hashed)
        {
            var t = Q(table);
            var statements = new List<string>
            {
                $"""
                CREATE TABLE IF NOT EXISTS {t} (
                    "position" bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,{(hashed ? "\n    \"hash\" bytea NOT NULL," : "")}
                    "id" uuid NOT NULL,
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
                    CONSTRAINT {Q(table + "_id_key")} UNIQUE ("id"),
                    CONSTRAINT {Q(SeqConstraint(table))} UNIQUE ("parent_id", "seq")
                )
                """,
                $"""CREATE UNIQUE INDEX IF NOT EXISTS {Q(table + "_idempotency_key")} ON {t} ("idempotency_key") WHERE "idempotency_key" IS NOT NULL""",
                $"""CREATE INDEX IF NOT EXISTS {Q(table + "_schema_idx")} ON {t} ("schema")""",
                $"""CREATE INDEX IF NOT EXISTS {Q(table + "_tx_id_idx")} ON {t} ("tx_id", "position")""",
                SavepointIndex(table),
            };
            // Tables created before the context columns get them here, before their indexes.
            statements.InsertRange(1, ContextColumns.AddIfMissingPostgres(table));
            statements.AddRange(ContextColumns.Indexes(table));
            if (appendOnly)
            {
                var fn = Q(table + "_append_only");
                statements.Add($"""
                    CREATE OR REPLACE FUNCTION {fn}() RETURNS trigger LANGUAGE plpgsql AS $spector$
                    BEGIN
                        RAISE EXCEPTION 'events table % is append-only: % refused', TG_TABLE_NAME, TG_OP
                            USING ERRCODE = '{AppendOnlySqlState}';
                    END
                    $spector$
                    """);
                statements.Add($"""DROP TRIGGER IF EXISTS {Q(table + "_no_change")} ON {t}""");
                statements.Add($"""CREATE TRIGGER {Q(table + "_no_change")} BEFORE UPDATE OR DELETE ON {t} FOR EACH ROW EXECUTE FUNCTION {fn}()""");
                statements.Add($"""DROP TRIGGER IF EXISTS {Q(table + "_no_truncate")} ON {t}""");
                statements.Add($"""CREATE TRIGGER {Q(table + "_no_truncate")} BEFORE TRUNCATE ON {t} FOR EACH STATEMENT EXECUTE FUNCTION {fn}()""");
            }
            return statements;
        }

        public override IReadOnlyList<string> DropEventsTable(string table) =>
        [
            $"DROP TABLE IF EXISTS {Q(table)}",
            $"DROP FUNCTION IF EXISTS {Q(table + "_append_only")}()",
        ];

        public override string AppendSql(string table, bool hashed, bool withContext = false)
        {
            var (columns, values) = ContextInsert(withContext);
            return $"""
                INSERT INTO {Q(table)} ("id", "parent_id", "seq", "schema", "action", "payload", "metadata", "inserted_at"{(hashed ? ", \"hash\"" : "")}{columns})
                VALUES (@__id, @__parent_id, @__seq, @__schema, @__action, CAST(@__payload AS jsonb), CAST(@__metadata AS jsonb), @__inserted_at{(hashed ? ", @__hash" : "")}{values})
                """;
        }

        /// <summary>SQLSTATE raised by the same-record link trigger.</summary>
        public const string LinkRejectedSqlState = "SPE02";

        public override IReadOnlyList<string> CreateLinkTable(string eventsTable, EventLinkInfo link)
        {
            var (l, e, c) = (Q(link.Table), Q(eventsTable), Q(link.Column));
            var fn = Q(link.Table + "_same_record");
            return
            [
                $"""
                CREATE TABLE IF NOT EXISTS {l} (
                    "event_id" uuid NOT NULL REFERENCES {e} ("id"),
                    {c} uuid NOT NULL REFERENCES {e} ("id"),{(link.Typed ? "\n    \"type\" integer NOT NULL," : "")}
                    CONSTRAINT {Q(link.Table + "_pair_key")} UNIQUE ({LinkColumns(link)})
                )
                """,
                $"""CREATE INDEX IF NOT EXISTS {Q(link.Table + "_" + link.Column + "_idx")} ON {l} ({c})""",
                $"""
                CREATE OR REPLACE FUNCTION {fn}() RETURNS trigger LANGUAGE plpgsql AS $spector$
                DECLARE source_record uuid; target_record uuid;
                BEGIN
                    SELECT "parent_id" INTO source_record FROM {e} WHERE "id" = NEW."event_id";
                    SELECT "parent_id" INTO target_record FROM {e} WHERE "id" = NEW.{c};
                    IF source_record IS NULL OR source_record IS DISTINCT FROM target_record THEN
                        RAISE EXCEPTION 'link % -> % joins events of different records (% and %)', NEW."event_id", NEW.{c}, source_record, target_record
                            USING ERRCODE = '{LinkRejectedSqlState}';
                    END IF;
                    RETURN NEW;
                END
                $spector$
                """,
                $"""DROP TRIGGER IF EXISTS {fn} ON {l}""",
                $"""CREATE TRIGGER {fn} BEFORE INSERT ON {l} FOR EACH ROW EXECUTE FUNCTION {fn}()""",
            ];
        }

        public override IReadOnlyList<string> DropLinkTable(EventLinkInfo link) =>
            [$"DROP TABLE IF EXISTS {Q(link.Table)}", $"DROP FUNCTION IF EXISTS {Q(link.Table + "_same_record")}()"];

        public override bool IsLinkRejected(DbException error) => error is PostgresException { SqlState: LinkRejectedSqlState };

        public override string LinksOfEventSql(string eventsAlias, IReadOnlyList<EventLinkInfo> links) => links.Count == 0
            ? "NULL"
            : "(SELECT string_agg(item, ',') FROM (" + string.Join(" UNION ALL ", links.Select(link =>
                $"SELECT '{link.Name} ' || l.{Q(link.Column)}::text{(link.Typed ? " || ' ' || l.\"type\"::text" : "")} AS item " +
                $"FROM {Q(link.Table)} l WHERE l.\"event_id\" = {eventsAlias}.\"id\"")) + ") links)";

        public override object Timestamp(DateTimeOffset value) => value.ToUniversalTime();

        public override DateTimeOffset ReadTimestamp(DbDataReader reader, int ordinal) =>
            reader.GetFieldValue<DateTimeOffset>(ordinal);

        public override async ValueTask<DbTransaction> BeginWriteAsync(DbConnection connection, CancellationToken ct) =>
            await connection.BeginTransactionAsync(ct).ConfigureAwait(false);

        public override bool IsSeqConflict(DbException error, string table) =>
            error is PostgresException { SqlState: PostgresErrorCodes.UniqueViolation } pg && pg.ConstraintName == SeqConstraint(table);

        public override bool IsAppendOnlyViolation(DbException error) =>
            error is PostgresException { SqlState: AppendOnlySqlState };

        public override string RecordLockSql => "SELECT pg_advisory_xact_lock(1397770322, @key)";

        // A transaction-scoped advisory lock per table: held to commit, blocks only other appenders.
        public override string ChainLockSql => "SELECT pg_advisory_xact_lock(1397770323, @key)";

        private static string SeqConstraint(string table) => table + "_parent_seq_key";
    }

    private sealed class Sqlite : Dialect
    {
        public static readonly Sqlite Instance = new();

        private const int SqliteConstraintUnique = 2067;   // SQLITE_CONSTRAINT_UNIQUE
        private const int SqliteConstraintTrigger = 1811;  // SQLITE_CONSTRAINT_TRIGGER, raised by RAISE(ABORT, ...)

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
                    "id" BLOB NOT NULL UNIQUE,
                    "parent_id" BLOB NOT NULL,
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
                $"""CREATE UNIQUE INDEX IF NOT EXISTS {Q(table + "_idempotency_key")} ON {t} ("idempotency_key") WHERE "idempotency_key" IS NOT NULL""",
                $"""CREATE INDEX IF NOT EXISTS {Q(table + "_schema_idx")} ON {t} ("schema")""",
                SavepointIndex(table),
            };
            // Tables created before the context columns get them from MigrateUpAsync (SQLite has no ADD COLUMN IF NOT EXISTS).
            statements.AddRange(ContextColumns.Indexes(table));
            if (appendOnly)
            {
                statements.Add($"""
                    CREATE TRIGGER IF NOT EXISTS {Q(table + "_no_update")} BEFORE UPDATE ON {t}
                    BEGIN SELECT RAISE(ABORT, 'events table {table} is append-only: UPDATE refused'); END
                    """);
                statements.Add($"""
                    CREATE TRIGGER IF NOT EXISTS {Q(table + "_no_delete")} BEFORE DELETE ON {t}
                    BEGIN SELECT RAISE(ABORT, 'events table {table} is append-only: DELETE refused'); END
                    """);
            }
            return statements;
        }

        public override IReadOnlyList<string> DropEventsTable(string table) => [$"DROP TABLE IF EXISTS {Q(table)}"];

        public override string AppendSql(string table, bool hashed, bool withContext = false)
        {
            var (columns, values) = ContextInsert(withContext);
            return $"""
                INSERT INTO {Q(table)} ("id", "parent_id", "seq", "schema", "action", "payload", "metadata", "inserted_at"{(hashed ? ", \"hash\"" : "")}{columns})
                VALUES (@__id, @__parent_id, @__seq, @__schema, @__action, @__payload, @__metadata, @__inserted_at{(hashed ? ", @__hash" : "")}{values})
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
                $"""CREATE INDEX IF NOT EXISTS {Q(link.Table + "_" + link.Column + "_idx")} ON {l} ({c})""",
                $"""
                CREATE TRIGGER IF NOT EXISTS {Q(link.Table + "_same_record")} BEFORE INSERT ON {l}
                WHEN {ParentOf("\"event_id\"")} IS NULL OR {ParentOf("\"event_id\"")} IS NOT {ParentOf(c)}
                BEGIN SELECT RAISE(ABORT, 'link {link.Name} joins events of different records'); END
                """,
            ];
        }

        public override IReadOnlyList<string> DropLinkTable(EventLinkInfo link) => [$"DROP TABLE IF EXISTS {Q(link.Table)}"];

        // RAISE(ABORT) in the link trigger; only link inserts can meet it.
        public override bool IsLinkRejected(DbException error) => error is SqliteException { SqliteExtendedErrorCode: SqliteConstraintTrigger };

        public override string LinksOfEventSql(string eventsAlias, IReadOnlyList<EventLinkInfo> links) => links.Count == 0
            ? "NULL"
            : "(SELECT group_concat(item, ',') FROM (" + string.Join(" UNION ALL ", links.Select(link =>
                $"SELECT '{link.Name} ' || l.{Q(link.Column)}{(link.Typed ? " || ' ' || l.\"type\"" : "")} AS item " +
                $"FROM {Q(link.Table)} l WHERE l.\"event_id\" = {eventsAlias}.\"id\"")) + "))";

        // Ids are stored as Guid text, like the events table's.
        /// <summary>Microseconds since the Unix epoch: sortable, exact, and what the hash envelope uses.</summary>
        public override object Timestamp(DateTimeOffset value) => (value.UtcTicks - DateTimeOffset.UnixEpoch.UtcTicks) / 10;

        public override DateTimeOffset ReadTimestamp(DbDataReader reader, int ordinal) =>
            DateTimeOffset.UnixEpoch.AddTicks(reader.GetInt64(ordinal) * 10);

        public override async ValueTask<DbTransaction> BeginWriteAsync(DbConnection connection, CancellationToken ct) =>
            // Microsoft.Data.Sqlite begins with BEGIN IMMEDIATE unless deferred: one writer at a time, no stale reads.
            await ((SqliteConnection)connection).BeginTransactionAsync(ct).ConfigureAwait(false);

        public override bool IsSeqConflict(DbException error, string table) =>
            error is SqliteException { SqliteExtendedErrorCode: SqliteConstraintUnique };

        public override bool IsAppendOnlyViolation(DbException error) =>
            error is SqliteException { SqliteExtendedErrorCode: SqliteConstraintTrigger };

        public override string? RecordLockSql => null;

        // BEGIN IMMEDIATE already makes writers take turns until commit.
        public override string? ChainLockSql => null;
    }
}
