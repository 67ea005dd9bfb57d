using System.Data.Common;

namespace Spector;

/// <summary>
/// The SQL of followers: their checkpoint tables (one row per follower with its lease and failure, one row per
/// follower and events table with its cursor) and the batch reads. Names are validated and quoted; every value
/// is a parameter.
/// </summary>
internal abstract class FollowerSql
{
    public const string FollowersTable = "spector_followers";
    public const string PositionsTable = "spector_follower_positions";

    public static FollowerSql For(SqlDialect dialect) =>
        dialect == SqlDialect.PostgreSql ? Postgres.Instance : Sqlite.Instance;

    /// <summary>The database clock in Unix milliseconds: leases compare times of one clock, whatever the processes'
    /// clocks say.</summary>
    protected abstract string NowMs { get; }

    public IReadOnlyList<string> CreateTables() =>
        [
            $"""
                CREATE TABLE IF NOT EXISTS "{FollowersTable}" (
                    "name" text PRIMARY KEY,
                    "owner" text NULL,
                    "lease_expires_at" bigint NOT NULL DEFAULT 0,
                    "last_error" text NULL,
                    "failed_event_id" text NULL,
                    "failed_attempts" integer NOT NULL DEFAULT 0
                )
                """,
            $"""
                CREATE TABLE IF NOT EXISTS "{PositionsTable}" (
                    "name" text NOT NULL,
                    "events_table" text NOT NULL,
                    "tx_id" bigint NOT NULL DEFAULT 0,
                    "position" bigint NOT NULL DEFAULT 0,
                    "processed" bigint NOT NULL DEFAULT 0,
                    PRIMARY KEY ("name", "events_table")
                )
                """,
        ];

    public string AddFollower => $"""INSERT INTO "{FollowersTable}" ("name") VALUES (@name) ON CONFLICT DO NOTHING""";

    public string AddPosition =>
        $"""
            INSERT INTO "{PositionsTable}" ("name", "events_table") VALUES (@name, @events_table)
            ON CONFLICT DO NOTHING
            """;

    /// <summary>Takes or renews the lease: free, lapsed or already ours. One row changed means it is ours.</summary>
    public string AcquireLease =>
        $"""
            UPDATE "{FollowersTable}" SET "owner" = @owner, "lease_expires_at" = {NowMs} + @lease_ms
            WHERE "name" = @name AND ("owner" IS NULL OR "owner" = @owner OR "lease_expires_at" < {NowMs})
            """;

    /// <summary>
    /// Renews a lease still ours (a taken-over lease changes nothing) and clears a recorded failure: it runs with
    /// every checkpoint commit, so a follower that moved on has recovered.
    /// </summary>
    public string RenewLease =>
        $"""
            UPDATE "{FollowersTable}"
            SET "lease_expires_at" = {NowMs} + @lease_ms, "last_error" = NULL, "failed_event_id" = NULL,
                "failed_attempts" = 0
            WHERE "name" = @name AND "owner" = @owner
            """;

    public string ReleaseLease =>
        $"""
            UPDATE "{FollowersTable}" SET "owner" = NULL, "lease_expires_at" = 0
            WHERE "name" = @name AND "owner" = @owner
            """;

    public string RecordFailure =>
        $"""
            UPDATE "{FollowersTable}"
            SET "last_error" = @error, "failed_event_id" = @event_id, "failed_attempts" = @attempts
            WHERE "name" = @name
            """;

    /// <summary>The owner of a lease that has not lapsed, or no row.</summary>
    public string ReadHolder =>
        $"""SELECT "owner" FROM "{FollowersTable}" WHERE "name" = @name AND "lease_expires_at" >= {NowMs}""";

    public string ReadPositions =>
        $"""SELECT "events_table", "tx_id", "position", "processed" FROM "{PositionsTable}" WHERE "name" = @name""";

    public string ReadFollower =>
        $"""
            SELECT "owner", "lease_expires_at" > {NowMs}, "last_error", "failed_event_id", "failed_attempts"
            FROM "{FollowersTable}" WHERE "name" = @name
            """;

    /// <summary>Moves a cursor forward only from where this process last saw it: a rival's progress makes it change
    /// nothing.</summary>
    public string AdvancePosition =>
        $"""
            UPDATE "{PositionsTable}" SET "tx_id" = @tx_id, "position" = @position, "processed" = "processed" + @count
            WHERE "name" = @name AND "events_table" = @events_table
                AND "tx_id" = @old_tx_id AND "position" = @old_position
            """;

    public string SetPosition =>
        $"""
            UPDATE "{PositionsTable}" SET "tx_id" = @tx_id, "position" = @position
            WHERE "name" = @name AND "events_table" = @events_table
            """;

    public string Forget(bool positions) =>
        positions
            ? $"""DELETE FROM "{PositionsTable}" WHERE "name" = @name"""
            : $"""DELETE FROM "{FollowersTable}" WHERE "name" = @name""";

    /// <summary>
    /// Up to @limit events after the cursor (@tx_id, @position) that no running transaction can still add to, in
    /// delivery order: the event's own columns, its packed context, and (PostgreSQL) the stamped transaction id.
    /// </summary>
    public abstract string ReadBatch(string eventsTable);

    /// <summary>The count and oldest insert time of the events after the cursor, whether or not they are safe to read
    /// yet.</summary>
    public abstract string Lag(string eventsTable);

    /// <summary>The cursor just before the first event written from now on (a follower that starts at the
    /// end).</summary>
    public abstract string End(string eventsTable);

    /// <summary>Statements that make appends to the table wake listening followers, or none.</summary>
    public virtual IReadOnlyList<string> Notifications(string eventsTable) => [];

    /// <summary>The channel appends notify on, or null where there is none.</summary>
    public virtual string? Channel => null;

    /// <summary>The lock that keeps two processes from creating the tables at once, or null.</summary>
    public virtual string? MigrationLock => null;

    /// <summary>An event of a batch read by <see cref="ReadBatch"/>, with its transaction stamp (0 where position
    /// alone orders the log).</summary>
    public abstract (StoredEvent Event, long Stamp) ReadRow(EventLog log, Dialect dialect, DbDataReader reader);

    /// <summary>The event's own columns of <see cref="EventLogSql.EventColumns"/>, without its context.</summary>
    protected static readonly string CoreColumns = EventLogSql.EventColumns[
        ..EventLogSql.EventColumns.IndexOf(", " + ContextColumns.SelectList(), StringComparison.Ordinal)
    ];

    /// <summary>
    /// The event's context as one JSON array of its columns, or NULL when it has none (the common case): seven null
    /// columns per row cost both drivers more than the test that finds them null.
    /// </summary>
    protected static string PackedContext(string jsonArray) =>
        $"CASE WHEN ({string.Join(" OR ", ContextColumns.Names.Select(n => SqlIdentifier.Quote(n) + " IS NOT NULL"))}) "
        + $"THEN {jsonArray}({ContextColumns.SelectList()}) END";

    /// <summary>An event of a batch: the event's own columns, then its packed context.</summary>
    protected static StoredEvent ReadPacked(EventLog log, Dialect dialect, DbDataReader reader) =>
        EventReader.ReadEvent(
            log,
            dialect,
            reader,
            reader.IsDBNull(EventLogSql.FirstContextColumn)
                ? default
                : ContextColumns.Unpack(reader.GetString(EventLogSql.FirstContextColumn))
        );

    private sealed class Postgres : FollowerSql
    {
        public static readonly Postgres Instance = new();

        protected override string NowMs => "(extract(epoch from clock_timestamp()) * 1000)::bigint";

        // The row comparison walks the ("tx_id", "position") index; xmin is taken from the statement's own snapshot,
        // so every row below it is visible to this very read (docs/followers.md has the argument). The id is read as
        // it is stored (Npgsql reads xid8 as ulong) rather than converted on the server row by row.
        public override string ReadBatch(string eventsTable) =>
            $"""
                SELECT {CoreColumns}, {Context}, "tx_id" FROM {SqlIdentifier.Quote(
                    eventsTable
                )}
                WHERE ("tx_id", "position") > (@tx_id::text::xid8, @position)
                  AND "tx_id" < pg_snapshot_xmin(pg_current_snapshot())
                ORDER BY "tx_id", "position" LIMIT @limit
                """;

        private static readonly string Context = PackedContext("json_build_array");

        private const int StampColumn = EventLogSql.FirstContextColumn + 1;

        public override (StoredEvent Event, long Stamp) ReadRow(EventLog log, Dialect dialect, DbDataReader reader) =>
            (ReadPacked(log, dialect, reader), checked((long)reader.GetFieldValue<ulong>(StampColumn)));

        public override string Lag(string eventsTable) =>
            $"""
                SELECT COUNT(*), MIN("inserted_at") FROM {SqlIdentifier.Quote(eventsTable)}
                WHERE ("tx_id", "position") > (@tx_id::text::xid8, @position)
                """;

        // Everything below xmin is complete; the rows at or above it are read from (xmin, 0) on.
        public override string End(string eventsTable) =>
            "SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint - 1, 9223372036854775807";

        public override string Channel => "spector_append";

        public override IReadOnlyList<string> Notifications(string eventsTable) =>
            [
                $"""
                    CREATE OR REPLACE FUNCTION "spector_notify_append"() RETURNS trigger LANGUAGE plpgsql AS $spector$
                    BEGIN
                        PERFORM pg_notify('{Channel}', TG_TABLE_NAME);
                        RETURN NULL;
                    END
                    $spector$
                    """,
                $"""
                    CREATE OR REPLACE TRIGGER {SqlIdentifier.Quote(
                        SqlIdentifier.Validate(eventsTable + "_notify", "notify trigger")
                    )}
                    AFTER INSERT ON {SqlIdentifier.Quote(
                        eventsTable
                    )} FOR EACH STATEMENT EXECUTE FUNCTION "spector_notify_append"()
                    """,
            ];

        public override string MigrationLock => "SELECT pg_advisory_xact_lock(1397770324, 0)";
    }

    private sealed class Sqlite : FollowerSql
    {
        public static readonly Sqlite Instance = new();

        protected override string NowMs => "CAST((julianday('now') - 2440587.5) * 86400000.0 AS INTEGER)";

        // One writer at a time: positions are handed out in commit order, so position alone is a safe cursor.
        public override string ReadBatch(string eventsTable) =>
            $"""
                SELECT {CoreColumns}, {Context} FROM {SqlIdentifier.Quote(eventsTable)}
                WHERE "position" > @position ORDER BY "position" LIMIT @limit
                """;

        private static readonly string Context = PackedContext("json_array");

        public override (StoredEvent Event, long Stamp) ReadRow(EventLog log, Dialect dialect, DbDataReader reader) =>
            (ReadPacked(log, dialect, reader), 0);

        public override string Lag(string eventsTable) =>
            $"""
                SELECT COUNT(*), MIN("inserted_at") FROM {SqlIdentifier.Quote(eventsTable)}
                WHERE "position" > @position
                """;

        public override string End(string eventsTable) =>
            $"""SELECT 0, COALESCE(MAX("position"), 0) FROM {SqlIdentifier.Quote(eventsTable)}""";
    }
}
