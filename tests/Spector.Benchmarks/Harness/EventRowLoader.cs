using Microsoft.Data.Sqlite;
using Npgsql;
using NpgsqlTypes;

namespace Spector.Benchmarks.Harness;

/// <summary>One event row as Spector stores it; <see cref="Hash"/> only for hashed tables.</summary>
internal readonly record struct EventRow(
    Guid Id,
    Guid Parent,
    long Seq,
    int Schema,
    int Action,
    string Payload,
    DateTimeOffset At,
    byte[]? Hash = null
);

/// <summary>
/// Bulk-loads prepared event rows: COPY on PostgreSQL, batched inserts in large transactions on SQLite. Long
/// histories and million-event chains are set up this way, because writing them one commit at a time would
/// measure the disk during setup, not the code under test.
/// </summary>
internal static class EventRowLoader
{
    public static Task LoadAsync(SpectorStore store, string table, bool hashed, IEnumerable<EventRow> rows) =>
        store.Dialect == SqlDialect.PostgreSql
            ? LoadPostgresAsync(store, table, hashed, rows)
            : LoadSqliteAsync(store, table, hashed, rows);

    private static string Columns(bool hashed) =>
        "\"id\", \"parent_id\", \"seq\", \"schema\", \"action\", \"payload\", \"inserted_at\""
        + (hashed ? ", \"hash\"" : "");

    private static async Task LoadPostgresAsync(
        SpectorStore store,
        string table,
        bool hashed,
        IEnumerable<EventRow> rows
    )
    {
        await using var connection = (NpgsqlConnection)await store.OpenConnectionAsync();
        await using var writer = await connection.BeginBinaryImportAsync(
            $"COPY {SqlIdentifier.Quote(table)} ({Columns(hashed)}) FROM STDIN (FORMAT BINARY)"
        );
        foreach (var row in rows)
        {
            await writer.StartRowAsync();
            await writer.WriteAsync(row.Id, NpgsqlDbType.Uuid);
            await writer.WriteAsync(row.Parent, NpgsqlDbType.Uuid);
            await writer.WriteAsync(row.Seq, NpgsqlDbType.Bigint);
            await writer.WriteAsync(row.Schema, NpgsqlDbType.Integer);
            await writer.WriteAsync(row.Action, NpgsqlDbType.Integer);
            await writer.WriteAsync(row.Payload, NpgsqlDbType.Jsonb);
            await writer.WriteAsync(row.At, NpgsqlDbType.TimestampTz);
            if (hashed)
                await writer.WriteAsync(row.Hash!, NpgsqlDbType.Bytea);
        }
        await writer.CompleteAsync();
    }

    private static async Task LoadSqliteAsync(SpectorStore store, string table, bool hashed, IEnumerable<EventRow> rows)
    {
        await using var connection = (SqliteConnection)await store.OpenConnectionAsync();
        var tx = connection.BeginTransaction();
        await using var insert = connection.CreateCommand();
        insert.CommandText =
            $"INSERT INTO {SqlIdentifier.Quote(table)} ({Columns(hashed)}) "
            + $"VALUES ($id, $parent, $seq, $schema, $action, $payload, $at{(hashed ? ", $hash" : "")})";
        var names = new List<string> { "$id", "$parent", "$seq", "$schema", "$action", "$payload", "$at" };
        if (hashed)
            names.Add("$hash");
        var parameters = names.Select(n => insert.Parameters.Add(new SqliteParameter(n, null))).ToArray();
        long count = 0;
        foreach (var row in rows)
        {
            insert.Transaction = tx;
            parameters[0].Value = row.Id;
            parameters[1].Value = row.Parent;
            parameters[2].Value = row.Seq;
            parameters[3].Value = row.Schema;
            parameters[4].Value = row.Action;
            parameters[5].Value = row.Payload;
            parameters[6].Value = EventHash.Micros(row.At);
            if (hashed)
                parameters[7].Value = row.Hash;
            await insert.ExecuteNonQueryAsync();
            if (++count % 50_000 == 0)
            {
                await tx.CommitAsync();
                tx = connection.BeginTransaction();
            }
        }
        await tx.CommitAsync();
    }
}
