using System.Data;
using System.Data.Common;
using System.Text.Json;
using Dapper;

namespace Spector;

/// <summary>
/// Walks an events table in position order, recomputing each hash from the previous stored hash and the
/// row's canonical envelope. Rows are streamed one at a time, so memory stays constant however long the
/// chain is. The kind of a break is worked out only after it is found.
/// </summary>
internal static class ChainVerifier
{
    private sealed record Row(
        long Position,
        Guid Id,
        Guid ParentId,
        long Seq,
        int Schema,
        int Action,
        string Payload,
        string? Metadata,
        DateTimeOffset InsertedAt,
        StoredContext Context,
        byte[] Hash,
        IReadOnlyList<EventLinkRow> Links
    );

    public static Task<ChainVerification> VerifyAsync(
        EventLog log,
        EventShard shard,
        SpectorSession? session,
        ChainHead? expected,
        CancellationToken ct
    ) =>
        Instrument.VerifyChainAsync(
            log,
            session,
            shard.Table,
            null,
            () => VerifyChainAsync(log, shard, session, expected, ct)
        );

    private static async Task<ChainVerification> VerifyChainAsync(
        EventLog log,
        EventShard shard,
        SpectorSession? session,
        ChainHead? expected,
        CancellationToken ct
    )
    {
        RequireHashed(log);
        if (log.HashScope == HashScope.Record)
        {
            if (expected is not null)
                throw new ArgumentException(
                    $"Events table {log.Table} chains each record on its own, so there is no table head to expect: "
                        + "anchor records and pass their heads to VerifyRecordChainAsync.",
                    nameof(expected)
                );
            return await VerifyRecordsAsync(log, shard, session, null, null, ct).ConfigureAwait(false) with
            {
                Table = shard.Table,
            };
        }
        return await VerifyShardAsync(log, shard, session, expected, ct).ConfigureAwait(false) with
        {
            Table = shard.Table,
        };
    }

    /// <summary>
    /// Verifies only what was appended after <paramref name="verified"/>, a head an earlier verification returned:
    /// the row at its position must still carry its hash, and every later row must chain from it.
    /// </summary>
    public static Task<ChainVerification> VerifyFromAsync(
        EventLog log,
        EventShard shard,
        SpectorSession? session,
        ChainHead verified,
        CancellationToken ct
    )
    {
        RequireHashed(log);
        if (log.HashScope == HashScope.Record)
            throw new InvalidOperationException(
                $"Events table {log.Table} chains each record on its own, so there is no table head to continue from: "
                    + "verify records with VerifyRecordChainAsync."
            );
        return Instrument.VerifyChainAsync(
            log,
            session,
            shard.Table,
            null,
            async () =>
                await VerifyShardAsync(log, shard, session, null, ct, verified).ConfigureAwait(false) with
                {
                    Table = shard.Table,
                }
        );
    }

    /// <summary>Verifies one record's chain on a log with per-record chains; its head is the record's last
    /// event.</summary>
    public static Task<ChainVerification> VerifyRecordAsync(
        EventLog log,
        Guid recordId,
        SpectorSession? session,
        ChainHead? expected,
        CancellationToken ct
    ) =>
        Instrument.VerifyChainAsync(
            log,
            session,
            log.Table,
            recordId,
            () => VerifyOneRecordAsync(log, recordId, session, expected, ct)
        );

    private static async Task<ChainVerification> VerifyOneRecordAsync(
        EventLog log,
        Guid recordId,
        SpectorSession? session,
        ChainHead? expected,
        CancellationToken ct
    )
    {
        RequireHashed(log);
        if (log.HashScope != HashScope.Record)
            throw new InvalidOperationException(
                $"Events table {log.Table} has one chain over the whole table, "
                    + "so a record's events are not a chain of their own: "
                    + "verify the table with VerifyHashChainAsync, or declare HashScope = HashScope.Record."
            );
        var shard = log.ShardFor(recordId);
        return await VerifyRecordsAsync(log, shard, session, recordId, expected, ct).ConfigureAwait(false) with
        {
            Table = shard.Table,
        };
    }

    private static void RequireHashed(EventLog log)
    {
        if (!log.Hashed)
            throw new InvalidOperationException(
                $"Events table {log.Table} is not hashed: "
                    + $"declare [EventsTable(\"{log.Table}\", Hashed = true)] to chain its events."
            );
    }

    private static async Task<ChainVerification> VerifyShardAsync(
        EventLog log,
        EventShard shard,
        SpectorSession? session,
        ChainHead? expected,
        CancellationToken ct,
        ChainHead? from = null
    )
    {
        await using var lease = await ConnectionLease.OpenAsync(log, session, ct).ConfigureAwait(false);
        byte[] previous = from?.Hash ?? EventHash.Genesis.ToArray();
        Row? last = null;
        Row? broken = null;
        Row? next = null;
        byte[]? expectedHash = null;
        long checkedCount = 0;
        ChainBreak? anchorBreak = null;

        await using (var command = lease.Connection.CreateCommand())
        {
            command.Transaction = lease.Transaction;
            command.CommandText = from is null ? shard.Sql.Chain(lease.Dialect) : shard.Sql.ChainFrom(lease.Dialect);
            if (from is not null)
                EventReader.AddParameter(command, "from", from.Position);
            await using var reader = await command
                .ExecuteReaderAsync(CommandBehavior.SequentialAccess, ct)
                .ConfigureAwait(false);
            if (from is not null)
            {
                // The head verified earlier must still be there, unchanged: the rows after it chain from its hash.
                var anchor = await reader.ReadAsync(ct).ConfigureAwait(false) ? Read(reader, lease.Dialect) : null;
                if (
                    anchor is null
                    || anchor.Position != from.Position
                    || !anchor.Hash.AsSpan().SequenceEqual(from.Hash)
                )
                    return new ChainVerification(
                        0,
                        null,
                        new ChainBreak(
                            ChainBreakKind.Truncated,
                            from.Position,
                            anchor?.Id,
                            from.Hash,
                            anchor?.Position == from.Position ? anchor.Hash : null,
                            null,
                            $"The event verified earlier at position {from.Position} of {shard.Table} "
                                + "is gone or has another hash: "
                                + "the chain was changed at or before it; verify the whole chain to find where."
                        )
                    );
                last = anchor;
            }
            while (await reader.ReadAsync(ct).ConfigureAwait(false))
            {
                var row = Read(reader, lease.Dialect);
                checkedCount++;
                if (!Intact(previous, row, out var computed))
                {
                    (broken, expectedHash) = (row, computed);
                    if (await reader.ReadAsync(ct).ConfigureAwait(false))
                        next = Read(reader, lease.Dialect);
                    break;
                }
                if (
                    expected is not null
                    && row.Position == expected.Position
                    && !row.Hash.AsSpan().SequenceEqual(expected.Hash)
                )
                {
                    anchorBreak = new ChainBreak(
                        ChainBreakKind.Truncated,
                        row.Position,
                        row.Id,
                        expected.Hash,
                        row.Hash,
                        last?.Position,
                        $"The event at the expected head position {row.Position} has another hash: "
                            + "the chain after position "
                            + $"{last?.Position ?? 0} was replaced (a rollback to another history)."
                    );
                    break;
                }
                previous = row.Hash;
                last = row;
            }
        }

        var head = last is null ? null : new ChainHead(last.Position, last.Hash);
        if (anchorBreak is not null)
            return new ChainVerification(checkedCount, head, anchorBreak);
        if (broken is not null)
        {
            var kind = await ClassifyAsync(lease, shard, broken, last, next, previous, ct).ConfigureAwait(false);
            return new ChainVerification(
                checkedCount,
                head,
                new ChainBreak(
                    kind,
                    broken.Position,
                    broken.Id,
                    expectedHash,
                    broken.Hash,
                    last?.Position,
                    Describe(kind, shard, broken, last)
                )
            );
        }
        if (expected is not null && (last is null || last.Position < expected.Position))
            return new ChainVerification(
                checkedCount,
                head,
                new ChainBreak(
                    ChainBreakKind.Truncated,
                    last?.Position ?? 0,
                    null,
                    expected.Hash,
                    last?.Hash,
                    last?.Position,
                    $"The chain of {shard.Table} ends at position {last?.Position ?? 0}, "
                        + $"before the expected head at position {expected.Position}: "
                        + "events were removed from the end, or the database was restored from an older backup."
                )
            );
        return new ChainVerification(checkedCount, head, null);
    }

    /// <summary>
    /// Walks per-record chains record by record, each in sequence order from the genesis hash: every record must
    /// start at seq 1 and have no gap, and every hash must match. With <paramref name="recordId"/> only that
    /// record is read and its last event is the head (checked against <paramref name="expected"/>); over the
    /// whole table there is no single head.
    /// </summary>
    private static async Task<ChainVerification> VerifyRecordsAsync(
        EventLog log,
        EventShard shard,
        SpectorSession? session,
        Guid? recordId,
        ChainHead? expected,
        CancellationToken ct
    )
    {
        await using var lease = await ConnectionLease.OpenAsync(log, session, ct).ConfigureAwait(false);
        var previous = EventHash.Genesis.ToArray();
        Row? last = null;
        long checkedCount = 0;
        ChainBreak? found = null;

        await using (var command = lease.Connection.CreateCommand())
        {
            command.Transaction = lease.Transaction;
            command.CommandText = recordId is null
                ? shard.Sql.Chain(lease.Dialect)
                : shard.Sql.RecordChain(lease.Dialect);
            if (recordId is { } id)
                EventReader.AddParameter(command, "parent_id", id);
            await using var reader = await command
                .ExecuteReaderAsync(CommandBehavior.SequentialAccess, ct)
                .ConfigureAwait(false);
            while (await reader.ReadAsync(ct).ConfigureAwait(false))
            {
                var row = Read(reader, lease.Dialect);
                checkedCount++;
                var before = last?.ParentId == row.ParentId ? last : null;
                if (before is null)
                    previous = EventHash.Genesis.ToArray();
                if (row.Seq != (before?.Seq ?? 0) + 1)
                {
                    found = new ChainBreak(
                        ChainBreakKind.MissingRow,
                        row.Position,
                        row.Id,
                        null,
                        row.Hash,
                        before?.Position,
                        $"An event before {Where(row)} is missing "
                            + $"(no seq {(before?.Seq ?? 0) + 1}); {LastGood(before)}."
                    );
                    break;
                }
                if (!Intact(previous, row, out var computed))
                {
                    // The next event chaining straight onto this one's predecessor means this one was slipped in.
                    var next = await reader.ReadAsync(ct).ConfigureAwait(false) ? Read(reader, lease.Dialect) : null;
                    var inserted = next is not null && next.ParentId == row.ParentId && Intact(previous, next, out _);
                    found = new ChainBreak(
                        inserted ? ChainBreakKind.InsertedRow : ChainBreakKind.HashMismatch,
                        row.Position,
                        row.Id,
                        computed,
                        row.Hash,
                        before?.Position,
                        inserted
                            ? $"{Capitalized(Where(row))} was inserted into the record's chain: "
                                + $"the next event chains to the one before it; {LastGood(before)}."
                            : $"The stored hash of {Where(row)} does not match its content: "
                                + $"the event or its hash was changed; {LastGood(before)}."
                    );
                    break;
                }
                if (
                    expected is not null
                    && row.Position == expected.Position
                    && !row.Hash.AsSpan().SequenceEqual(expected.Hash)
                )
                {
                    found = new ChainBreak(
                        ChainBreakKind.Truncated,
                        row.Position,
                        row.Id,
                        expected.Hash,
                        row.Hash,
                        before?.Position,
                        $"The event at the expected head position {row.Position} has another hash: "
                            + "the record's chain after "
                            + $"position {before?.Position ?? 0} was replaced (a rollback to another history)."
                    );
                    break;
                }
                previous = row.Hash;
                last = row;
            }
        }

        // Messages are built only for the row that breaks, never for each of a million good ones.
        string Where(Row row) =>
            $"event {row.Id} (record {row.ParentId}, seq {row.Seq}) at position {row.Position} of {shard.Table}";
        static string Capitalized(string text) => char.ToUpperInvariant(text[0]) + text[1..];
        static string LastGood(Row? before) =>
            before is null
                ? "no earlier event of the record verifies"
                : $"the record's last good event is at position {before.Position}";

        var head = recordId is not null && last is not null ? new ChainHead(last.Position, last.Hash) : null;
        if (found is null && expected is not null && (last is null || last.Position < expected.Position))
            found = new ChainBreak(
                ChainBreakKind.Truncated,
                last?.Position ?? 0,
                null,
                expected.Hash,
                last?.Hash,
                last?.Position,
                $"The chain of record {recordId} in {shard.Table} ends at position {last?.Position ?? 0}, "
                    + $"before the expected head at position {expected.Position}: "
                    + "events were removed from its end, or the database was restored from an older backup."
            );
        return new ChainVerification(checkedCount, head, found);
    }

    // A number spelled otherwise than Spector writes it hashes like the original yet is not what was written. Stored
    // text that cannot be hashed at all (not one JSON value, a lone surrogate, nesting past 64, a number past the
    // double's range) was not written by Spector either: it is a break at this row, with no recomputed hash.
    private static bool Intact(byte[] previous, Row row, out byte[]? computed)
    {
        try
        {
            return Hashes(previous, row, out computed);
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException or ArgumentException)
        {
            computed = null;
            return false;
        }
    }

    private static bool Hashes(byte[] previous, Row row, out byte[] computed)
    {
        computed = EventHash.Compute(
            previous,
            row.Id,
            row.ParentId,
            row.Seq,
            row.Schema,
            row.Action,
            row.InsertedAt,
            row.Payload,
            row.Metadata,
            row.Links,
            row.Context,
            checkNumbers: true,
            out var nonCanonicalNumber
        );
        return computed.AsSpan().SequenceEqual(row.Hash) && nonCanonicalNumber is null;
    }

    /// <summary>
    /// Honest chains have positions in chain order, no sequence gaps, times that never go backwards (each is
    /// read under the chain lock), and each record's events in sequence order. The first rule a broken row
    /// violates names the break; PostgreSQL can leave a position unused by a rolled-back append, so a changed
    /// row right after such a gap reads as a missing row (at the right position all the same).
    /// </summary>
    private static async Task<ChainBreakKind> ClassifyAsync(
        ConnectionLease lease,
        EventShard shard,
        Row row,
        Row? before,
        Row? after,
        byte[] previous,
        CancellationToken ct
    )
    {
        var t = SqlIdentifier.Quote(shard.Table);
        // The strongest evidence first: the next row chains straight to the one before, so this row was slipped in.
        if (after is not null && Intact(previous, after, out _))
            return ChainBreakKind.InsertedRow;
        // Positions are handed out in chain order, so a break right after a missing position is a removed row.
        if (row.Position > (before?.Position ?? 0) + 1)
            return ChainBreakKind.MissingRow;
        if (row.Seq > 1)
        {
            // Read by hand: Dapper maps a tuple through IL it emits at run time, which Native AOT cannot run.
            await using var siblings = await lease
                .Connection.ExecuteReaderAsync(
                    new CommandDefinition(
                        $"SELECT COUNT(CASE WHEN \"seq\" = @seq THEN 1 END), COUNT(*) FROM {t} "
                            + "WHERE \"parent_id\" = @parent AND \"position\" <> @position",
                        SqlArgs.Of(("parent", row.ParentId), ("seq", row.Seq - 1), ("position", row.Position)),
                        lease.Transaction,
                        cancellationToken: ct
                    )
                )
                .ConfigureAwait(false);
            await siblings.ReadAsync(ct).ConfigureAwait(false);
            var (predecessor, others) = (siblings.GetInt64(0), siblings.GetInt64(1));
            // A gap in a record that has other events; a row moved to a record of its own is a changed row instead.
            if (predecessor == 0 && others > 0)
                return ChainBreakKind.MissingRow;
        }
        if (before is not null && row.InsertedAt < before.InsertedAt)
            return ChainBreakKind.ReorderedRows;
        if (after is not null && after.InsertedAt < row.InsertedAt)
            return ChainBreakKind.ReorderedRows;
        var earlierSeqLater = await lease
            .Connection.ExecuteScalarAsync<long>(
                new CommandDefinition(
                    $"SELECT COUNT(*) FROM {t} "
                        + "WHERE \"parent_id\" = @parent AND \"seq\" < @seq AND \"position\" > @position",
                    SqlArgs.Of(("parent", row.ParentId), ("seq", row.Seq), ("position", row.Position)),
                    lease.Transaction,
                    cancellationToken: ct
                )
            )
            .ConfigureAwait(false);
        return earlierSeqLater > 0 ? ChainBreakKind.ReorderedRows : ChainBreakKind.HashMismatch;
    }

    private static string Describe(ChainBreakKind kind, EventShard shard, Row row, Row? before)
    {
        var where =
            $"event {row.Id} (record {row.ParentId}, seq {row.Seq}) at position {row.Position} of {shard.Table}";
        var lastGood = before is null ? "no event before it verifies" : $"the last good position is {before.Position}";
        return kind switch
        {
            ChainBreakKind.MissingRow => $"An event before {where} is missing (no seq {row.Seq - 1}); {lastGood}.",
            ChainBreakKind.ReorderedRows => $"Events around {where} are out of order; {lastGood}.",
            ChainBreakKind.InsertedRow => $"{char.ToUpperInvariant(where[0])}{where[1..]} was inserted into the chain: "
                + $"the next event chains to the one before it; {lastGood}.",
            _ => $"The stored hash of {where} does not match its content: "
                + $"the event or its hash was changed; {lastGood}.",
        };
    }

    private static Row Read(DbDataReader reader, Dialect dialect) =>
        new(
            Position: reader.GetInt64(0),
            Id: reader.GetGuid(1),
            ParentId: reader.GetGuid(2),
            Seq: reader.GetInt64(3),
            Schema: reader.GetInt32(4),
            Action: reader.GetInt32(5),
            Payload: reader.GetString(6),
            Metadata: reader.IsDBNull(7) ? null : reader.GetString(7),
            InsertedAt: dialect.ReadTimestamp(reader, 8),
            Context: ContextColumns.Read(reader, EventLogSql.FirstContextColumn),
            Hash: reader.IsDBNull(16) ? [] : (byte[])reader.GetValue(16),
            Links: EventHash.ParseLinks(reader.IsDBNull(17) ? null : reader.GetString(17))
        );
}
