using System.Data;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace Spector;

/// <summary>
/// Writes a hashed events table as JSON Lines, one event per line in chain order, with every field the hash
/// covers, so the chain can be re-verified outside Spector (docs/integrity.md; tools/verify-chain).
/// </summary>
internal static class ChainExport
{
    private static readonly JsonWriterOptions Options = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static async Task<long> ExportAsync(
        EventLog log,
        EventShard shard,
        SpectorSession? session,
        Stream output,
        CancellationToken ct
    )
    {
        if (!log.Hashed)
            throw new InvalidOperationException(
                $"Events table {log.Table} is not hashed: there is no chain to export."
            );
        await using var lease = await ConnectionLease.OpenAsync(log, session, ct).ConfigureAwait(false);
        await using var command = lease.Connection.CreateCommand();
        command.Transaction = lease.Transaction;
        command.CommandText = shard.Sql.Chain(lease.Dialect);
        await using var reader = await command
            .ExecuteReaderAsync(CommandBehavior.SequentialAccess, ct)
            .ConfigureAwait(false);
        long count = 0;
        while (await reader.ReadAsync(ct).ConfigureAwait(false))
        {
            var (position, id, parentId, seq) = (
                reader.GetInt64(0),
                reader.GetGuid(1),
                reader.GetGuid(2),
                reader.GetInt64(3)
            );
            // One writer per line keeps memory flat however long the chain is.
            await using (var writer = new Utf8JsonWriter(output, Options))
            {
                writer.WriteStartObject();
                writer.WriteNumber("position", position);
                writer.WriteString("id", id.ToString("D"));
                writer.WriteString("parent_id", parentId.ToString("D"));
                writer.WriteNumber("seq", seq);
                writer.WriteNumber("schema", reader.GetInt32(4));
                writer.WriteNumber("action", reader.GetInt32(5));
                var payload = reader.GetString(6);
                var metadata = reader.IsDBNull(7) ? null : reader.GetString(7);
                writer.WriteNumber("inserted_at", EventHash.Micros(lease.Dialect.ReadTimestamp(reader, 8)));
                // Only events stored with a context carry the member (and are hashed with envelope version 2).
                var context = ContextColumns.Read(reader, EventLogSql.FirstContextColumn);
                if (!context.IsEmpty)
                {
                    writer.WriteStartObject("context");
                    foreach (var (name, value) in context.EnvelopeMembers())
                        writer.WriteString(name, value);
                    writer.WriteEndObject();
                }
                writer.WritePropertyName("payload");
                Stored(writer, payload, "payload", Where);
                writer.WritePropertyName("metadata");
                if (metadata is null)
                    writer.WriteNullValue();
                else
                    Stored(writer, metadata, "metadata", Where);
                // Sequential access: the hash (column 16) must be read before the links (17).
                var hash = (byte[])reader.GetValue(16);
                writer.WriteStartArray("links");
                foreach (
                    var link in EventHash.Sorted(
                        EventHash.ParseLinks(reader.IsDBNull(17) ? null : reader.GetString(17))
                    )
                )
                {
                    writer.WriteStartArray();
                    writer.WriteStringValue(link.Name);
                    writer.WriteStringValue(link.Target.ToString("D"));
                    if (link.Type is { } type)
                        writer.WriteNumberValue(type);
                    writer.WriteEndArray();
                }
                writer.WriteEndArray();
                writer.WriteString("hash", Convert.ToHexStringLower(hash));
                writer.WriteEndObject();
            }
            output.WriteByte((byte)'\n');
            count++;

            string Where() => $"event {id} (record {parentId}, seq {seq}) at position {position} of {shard.Table}";
        }
        await output.FlushAsync(ct).ConfigureAwait(false);
        return count;
    }

    // Spector stores only JSON that verification can hash; text that is not (changed in the database behind its
    // back) cannot go on a JSON line, so the export stops naming the event, which verification reports as a break.
    private static void Stored(Utf8JsonWriter writer, string json, string column, Func<string> where)
    {
        try
        {
            writer.WriteRawValue(json);
        }
        catch (JsonException e)
        {
            throw new InvalidDataException(
                $"The stored {column} of {where()} is not JSON that can be exported ({e.Message}): it was changed "
                    + "outside Spector; VerifyHashChainAsync reports it as a break.",
                e
            );
        }
    }
}
