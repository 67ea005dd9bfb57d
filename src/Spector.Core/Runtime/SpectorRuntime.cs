using System.ComponentModel;

namespace Spector;

/// <summary>
/// The operations behind the generated methods (<c>User.InsertAsync</c>, <c>user.UpdateAsync</c>, ...).
/// Call those instead; this class is their shared implementation.
/// </summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public static class SpectorRuntime
{
    /// <summary>Appends an insert event and writes the new record.</summary>
    public static Task<T> InsertAsync<T>(
        EventedType<T> type,
        SpectorSession? session,
        Attrs attrs,
        WriteOptions? options,
        CancellationToken ct
    )
        where T : class =>
        Instrument.WriteAsync(
            type,
            session,
            "insert",
            null,
            () => EventWriter.InsertAsync(type, session, attrs, options, ct)
        );

    /// <summary>Replays the record, applies the update and appends it.</summary>
    public static Task<T> UpdateAsync<T>(
        EventedType<T> type,
        SpectorSession? session,
        Guid id,
        Attrs attrs,
        WriteOptions? options,
        CancellationToken ct
    )
        where T : class =>
        Instrument.WriteAsync(
            type,
            session,
            "update",
            id,
            () => EventWriter.UpdateAsync(type, session, id, attrs, options, ct)
        );

    /// <summary>Replays the record, applies a custom action and appends it.</summary>
    public static Task<T> ExecuteAsync<T>(
        EventedType<T> type,
        SpectorSession? session,
        Guid id,
        int actionCode,
        string action,
        Attrs attrs,
        WriteOptions? options,
        CancellationToken ct
    )
        where T : class =>
        Instrument.WriteAsync(
            type,
            session,
            action,
            id,
            () => EventWriter.ExecuteAsync(type, session, id, actionCode, action, attrs, options, ct)
        );

    /// <summary>Appends a delete event and removes the record row.</summary>
    public static Task DeleteAsync<T>(
        EventedType<T> type,
        SpectorSession? session,
        Guid id,
        WriteOptions? options,
        CancellationToken ct
    )
        where T : class =>
        Instrument.WriteAsync(
            type,
            session,
            "delete",
            id,
            async () =>
            {
                await EventWriter.DeleteAsync(type, session, id, options, ct).ConfigureAwait(false);
                return true;
            }
        );

    /// <summary>The record replayed from its log (up to <paramref name="upToSeq"/> when given), or null when absent or
    /// deleted.</summary>
    public static async Task<T?> GetAsync<T>(
        EventedType<T> type,
        SpectorSession? session,
        Guid id,
        long? upToSeq,
        CancellationToken ct
    )
        where T : class
    {
        if (upToSeq is < 1)
            throw new ArgumentOutOfRangeException(nameof(upToSeq), upToSeq, "Event sequence numbers start at 1.");
        var shard = type.Log.ShardFor(id, type.Name);
        await using var lease = await ConnectionLease.OpenAsync(type.Log, session, ct).ConfigureAwait(false);
        var replayed = await EventReader
            .ReplayAsync(
                type,
                shard,
                lease.Connection,
                lease.Transaction,
                id,
                upToSeq,
                ct,
                options: SpectorOptions.For(session, type.Log)
            )
            .ConfigureAwait(false);
        return replayed.Record;
    }

    /// <summary>Appends a savepoint of the record; <paramref name="expected"/> guards against a stale in-memory
    /// copy.</summary>
    public static Task<T> SavepointAsync<T>(
        EventedType<T> type,
        SpectorSession? session,
        Guid id,
        T? expected,
        WriteOptions? options,
        CancellationToken ct
    )
        where T : class =>
        Instrument.WriteAsync(
            type,
            session,
            "savepoint",
            id,
            () => EventWriter.SavepointAsync(type, session, id, expected, options, ct)
        );

    /// <summary>The record replayed from its log with the seq of its last event, or null when absent or
    /// deleted.</summary>
    public static async Task<Versioned<T>?> GetVersionedAsync<T>(
        EventedType<T> type,
        SpectorSession? session,
        Guid id,
        CancellationToken ct
    )
        where T : class
    {
        var shard = type.Log.ShardFor(id, type.Name);
        await using var lease = await ConnectionLease.OpenAsync(type.Log, session, ct).ConfigureAwait(false);
        var replayed = await EventReader
            .ReplayAsync(
                type,
                shard,
                lease.Connection,
                lease.Transaction,
                id,
                null,
                ct,
                options: SpectorOptions.For(session, type.Log)
            )
            .ConfigureAwait(false);
        return replayed.Record is { } record ? new Versioned<T>(record, replayed.LastSeq) : null;
    }

    /// <summary>True when the record exists and is not deleted: one read of its head row, no replay.</summary>
    public static async Task<bool> ExistsAsync<T>(
        EventedType<T> type,
        SpectorSession? session,
        Guid id,
        CancellationToken ct
    )
        where T : class
    {
        var shard = type.Log.ShardFor(id, type.Name);
        await using var lease = await ConnectionLease.OpenAsync(type.Log, session, ct).ConfigureAwait(false);
        await using var command = lease.Connection.CreateCommand();
        command.Transaction = lease.Transaction;
        command.CommandText = shard.Sql.Exists;
        EventReader.AddParameter(command, "id", id);
        EventReader.AddParameter(command, "schema", type.SchemaIndex);
        return await command.ExecuteScalarAsync(ct).ConfigureAwait(false) is not (null or DBNull);
    }

    /// <summary>The ids of every record of the type that is not deleted, streamed from the heads table (shard by
    /// shard).</summary>
    public static async IAsyncEnumerable<Guid> IdsAsync<T>(
        EventedType<T> type,
        SpectorSession? session,
        [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken ct
    )
        where T : class
    {
        await using var lease = await ConnectionLease.OpenAsync(type.Log, session, ct).ConfigureAwait(false);
        foreach (var shard in type.Log.Shards)
        {
            await using var command = lease.Connection.CreateCommand();
            command.Transaction = lease.Transaction;
            command.CommandText = shard.Sql.Ids;
            EventReader.AddParameter(command, "schema", type.SchemaIndex);
            await using var reader = await command.ExecuteReaderAsync(ct).ConfigureAwait(false);
            while (await reader.ReadAsync(ct).ConfigureAwait(false))
                yield return reader.GetGuid(0);
        }
    }

    /// <summary>Replays the whole log and reports every savepoint whose state differs from the replay up to
    /// it.</summary>
    public static Task<SavepointVerification> VerifySavepointsAsync<T>(
        EventedType<T> type,
        SpectorSession? session,
        Guid id,
        CancellationToken ct
    )
        where T : class =>
        Instrument.VerifySavepointsAsync(type, session, id, () => CheckSavepointsAsync(type, session, id, ct));

    private static async Task<SavepointVerification> CheckSavepointsAsync<T>(
        EventedType<T> type,
        SpectorSession? session,
        Guid id,
        CancellationToken ct
    )
        where T : class
    {
        var shard = type.Log.ShardFor(id, type.Name);
        await using var lease = await ConnectionLease.OpenAsync(type.Log, session, ct).ConfigureAwait(false);
        var mismatches = new List<SavepointMismatch>();
        var count = 0;
        await EventReader
            .ReplayAsync(
                type,
                shard,
                lease.Connection,
                lease.Transaction,
                id,
                null,
                ct,
                (eventId, seq, restored, replayed) =>
                {
                    count++;
                    var fields = type.Diff(replayed, restored);
                    if (fields.Count == 0)
                        return;
                    mismatches.Add(
                        new SavepointMismatch(
                            eventId,
                            seq,
                            fields
                                .Select(key => new FieldDifference(
                                    key,
                                    Show(type, replayed, key),
                                    Show(type, restored, key)
                                ))
                                .ToList()
                        )
                    );
                }
            )
            .ConfigureAwait(false);
        return new SavepointVerification(id, count, mismatches);
    }

    private static string Show<T>(EventedType<T> type, T record, string key)
        where T : class =>
        type.TryGetAttr(record, key, out var value) ? StoredJsonOptions.Show(value, type.Log.JsonOptions) : "?";

    /// <summary>Rebuilds a record row from its log unless it exists.</summary>
    public static Task<Materialization<T>> MaterializeAsync<T>(
        EventedType<T> type,
        SpectorSession? session,
        Guid id,
        CancellationToken ct
    )
        where T : class => RecordRecovery.MaterializeAsync(type, session, id, ct);

    /// <summary>Imports the record table's untracked rows into the log, in one transaction.</summary>
    public static Task<IReadOnlyList<T>> BringUpAsync<T>(
        EventedType<T> type,
        SpectorSession? session,
        BringUpOptions<T>? options,
        CancellationToken ct
    )
        where T : class => RecordRecovery.BringUpAsync(type, session, options, ct);

    /// <summary>The record as of an instant (see <c>GetAsOfAsync</c> on the evented type).</summary>
    public static Task<T?> GetAsOfAsync<T>(
        EventedType<T> type,
        SpectorSession? session,
        Guid id,
        DateTimeOffset at,
        CancellationToken ct
    )
        where T : class => RecordHistory.GetAsOfAsync(type, session, id, at, ct);

    /// <summary>Each event of the record with the properties it changed.</summary>
    public static Task<IReadOnlyList<RecordChange>> ChangesAsync<T>(
        EventedType<T> type,
        SpectorSession? session,
        Guid id,
        CancellationToken ct
    )
        where T : class => RecordHistory.ChangesAsync(type, session, id, ct);

    /// <summary>The record's events of this type stored in [<paramref name="from"/>, <paramref name="to"/>), in
    /// sequence order.</summary>
    public static Task<IReadOnlyList<StoredEvent>> AllEventsAsync<T>(
        EventedType<T> type,
        SpectorSession? session,
        Guid id,
        DateTimeOffset? from,
        DateTimeOffset? to,
        CancellationToken ct
    )
        where T : class => RecordHistory.EventsBetweenAsync(type.Log, session, id, type.SchemaIndex, from, to, ct);

    /// <summary>The record's events of this type, in sequence order.</summary>
    public static Task<IReadOnlyList<StoredEvent>> AllEventsAsync<T>(
        EventedType<T> type,
        SpectorSession? session,
        Guid id,
        CancellationToken ct
    )
        where T : class => EventReader.ReadEventsAsync(type.Log, session, id, type.SchemaIndex, ct);
}
