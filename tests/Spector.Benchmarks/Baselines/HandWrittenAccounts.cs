using System.Buffers;
using System.Text.Json;
using Dapper;

namespace Spector.Benchmarks.Baselines;

/// <summary>
/// The limit: what a careful developer would hand-write with Dapper for the same audit log, issuing the same
/// SQL Spector issues (an event row and the record row in one transaction), with no replay, no handler and
/// no validation. It writes Spector's own tables, so rows, indexes and triggers are identical.
/// </summary>
internal sealed class HandWrittenAccounts(SpectorStore store)
{
    private readonly bool _postgres = store.Dialect == SqlDialect.PostgreSql;

    // Dapper reads SQLite's text ids as strings; hand-written Dapper on SQLite registers this handler.
    static HandWrittenAccounts() => SqlMapper.AddTypeHandler(new GuidTextHandler());

    private sealed class GuidTextHandler : SqlMapper.TypeHandler<Guid>
    {
        public override Guid Parse(object value) => value is string text ? Guid.Parse(text) : (Guid)value;

        public override void SetValue(System.Data.IDbDataParameter parameter, Guid value) => parameter.Value = value;
    }

    private string InsertEvent =>
        $"""
            INSERT INTO "bench_events"
                ("id", "parent_id", "seq", "schema", "action", "payload", "metadata", "inserted_at")
            VALUES (@event_id, @parent_id, @seq, 0, @action, {(
                _postgres ? "CAST(@payload AS jsonb)" : "@payload"
            )}, NULL, @inserted_at)
            """;

    private const string InsertRow =
        """INSERT INTO "bench_accounts" ("id", "owner", "balance", "memo") VALUES (@id, @owner, @balance, @memo)""";
    private const string UpdateRow =
        """UPDATE "bench_accounts" SET "balance" = @balance, "memo" = @memo WHERE "id" = @id""";
    private const string NextSeq = """SELECT COALESCE(MAX("seq"), 0) + 1 FROM "bench_events" WHERE "parent_id" = @id""";
    private const string ReadEvents = """
        SELECT "id", "seq", "schema", "action", "payload" FROM "bench_events"
        WHERE "parent_id" = @parent_id ORDER BY "seq"
        """;

    /// <summary>A stored event as the hand-written code reads it.</summary>
    public sealed class RawEvent
    {
        public Guid Id { get; set; }
        public long Seq { get; set; }
        public int Schema { get; set; }
        public int Action { get; set; }
        public string Payload { get; set; } = "";
    }

    public async Task<Guid> InsertAsync(string owner, decimal balance)
    {
        var id = Guid.CreateVersion7();
        var now = DateTimeOffset.UtcNow;
        await using var connection = await store.OpenConnectionAsync();
        await using var tx = await connection.BeginTransactionAsync();
        // The event and the row in one command, as Spector sends them.
        await connection.ExecuteAsync(
            $"{InsertEvent};\n{InsertRow}",
            new
            {
                event_id = id,
                parent_id = id,
                seq = 1L,
                action = EventActions.Insert,
                payload = Payload(id, now, insert: true, owner, balance, null),
                inserted_at = Timestamp(now),
                id,
                owner,
                balance,
                memo = (string?)null,
            },
            tx
        );
        await tx.CommitAsync();
        return id;
    }

    public async Task UpdateAsync(Guid id, decimal balance, string memo)
    {
        var eventId = Guid.CreateVersion7();
        var now = DateTimeOffset.UtcNow;
        await using var connection = await store.OpenConnectionAsync();
        await using var tx = await connection.BeginTransactionAsync();
        var seq = await connection.ExecuteScalarAsync<long>(NextSeq, new { id }, tx);
        await connection.ExecuteAsync(
            $"{InsertEvent};\n{UpdateRow}",
            new
            {
                event_id = eventId,
                parent_id = id,
                seq,
                action = EventActions.Update,
                payload = Payload(eventId, now, insert: false, null, balance, memo),
                inserted_at = Timestamp(now),
                id,
                balance,
                memo,
            },
            tx
        );
        await tx.CommitAsync();
    }

    /// <summary>Dapper's read of a record's event rows, the same query replay runs.</summary>
    public async Task<List<RawEvent>> ReadEventsAsync(Guid recordId)
    {
        await using var connection = await store.OpenConnectionAsync();
        return (await connection.QueryAsync<RawEvent>(ReadEvents, new { parent_id = recordId })).AsList();
    }

    private object Timestamp(DateTimeOffset now) =>
        _postgres ? now : (now.UtcTicks - DateTimeOffset.UnixEpoch.UtcTicks) / 10;

    private static string Payload(
        Guid eventId,
        DateTimeOffset now,
        bool insert,
        string? owner,
        decimal balance,
        string? memo
    )
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteNumber("__version__", 1);
            writer.WriteString("__event_id__", eventId);
            var stamp = AttrConvert.FormatTimestamp(now);
            if (insert)
                writer.WriteString("inserted_at", stamp);
            writer.WriteString("updated_at", stamp);
            if (owner is not null)
                writer.WriteString("owner", owner);
            writer.WriteNumber("balance", balance);
            if (memo is not null)
                writer.WriteString("memo", memo);
            writer.WriteEndObject();
        }
        return System.Text.Encoding.UTF8.GetString(buffer.WrittenSpan);
    }
}
