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
    public static Task<T> InsertAsync<T>(EventedType<T> type, SpectorSession? session, Attrs attrs, CancellationToken ct) where T : class =>
        Instrument.WriteAsync(type, session, "insert", null, () => EventWriter.InsertAsync(type, session, attrs, ct));

    /// <summary>Replays the record, applies the update and appends it.</summary>
    public static Task<T> UpdateAsync<T>(EventedType<T> type, SpectorSession? session, Guid id, Attrs attrs, CancellationToken ct) where T : class =>
        Instrument.WriteAsync(type, session, "update", id, () => EventWriter.UpdateAsync(type, session, id, attrs, ct));

    /// <summary>Replays the record, applies a custom action and appends it.</summary>
    public static Task<T> ExecuteAsync<T>(EventedType<T> type, SpectorSession? session, Guid id, int actionCode, string action, Attrs attrs,
        CancellationToken ct) where T : class =>
        Instrument.WriteAsync(type, session, action, id, () => EventWriter.ExecuteAsync(type, session, id, actionCode, action, attrs, ct));

    /// <summary>Appends a delete event and removes the record row.</summary>
    public static Task DeleteAsync<T>(EventedType<T> type, SpectorSession? session, Guid id, CancellationToken ct) where T : class =>
        Instrument.WriteAsync(type, session, "delete", id, async () =>
        {
            await EventWriter.DeleteAsync(type, session, id, ct).ConfigureAwait(false);
            return true;
        });

    /// <summary>The record replayed from its log (up to <paramref name="upToSeq"/> when given), or null when absent or deleted.</summary>
    public static async Task<T?> GetAsync<T>(EventedType<T> type, SpectorSession? session, Guid id, long? upToSeq, CancellationToken ct)
        where T : class
    {
        if (upToSeq is < 1) throw new ArgumentOutOfRangeException(nameof(upToSeq), upToSeq, "Event sequence numbers start at 1.");
        var shard = type.Log.ShardFor(id, type.Name);
        await using var lease = await ConnectionLease.OpenAsync(type.Log, session, ct).ConfigureAwait(false);
        var replayed = await EventReader.ReplayAsync(type, shard, lease.Connection, lease.Transaction, id, upToSeq, ct,
            options: SpectorOptions.For(session, type.Log)).ConfigureAwait(false);
        return replayed.Record;
    }

    /// <summary>Appends a savepoint of the record; <paramref name="expected"/> guards against a stale in-memory copy.</summary>
    public static Task<T> SavepointAsync<T>(EventedType<T> type, SpectorSession? session, Guid id, T? expected, CancellationToken ct)
        where T : class =>
        Instrument.WriteAsync(type, session, "savepoint", id, () => EventWriter.SavepointAsync(type, session, id, expected, ct));

    /// <summary>Replays the whole log and reports every savepoint whose state differs from the replay up to it.</summary>
    public static Task<SavepointVerification> VerifySavepointsAsync<T>(EventedType<T> type, SpectorSession? session, Guid id,
        CancellationToken ct) where T : class =>
        Instrument.VerifySavepointsAsync(type, session, id, () => CheckSavepointsAsync(type, session, id, ct));

    private static async Task<SavepointVerification> CheckSavepointsAsync<T>(EventedType<T> type, SpectorSession? session, Guid id,
        CancellationToken ct) where T : class
    {
        var shard = type.Log.ShardFor(id, type.Name);
        await using var lease = await ConnectionLease.OpenAsync(type.Log, session, ct).ConfigureAwait(false);
        var mismatches = new List<SavepointMismatch>();
        var count = 0;
        await EventReader.ReplayAsync(type, shard, lease.Connection, lease.Transaction, id, null, ct, (eventId, seq, restored, replayed) =>
        {
            count++;
            var fields = type.Diff(replayed, restored);
            if (fields.Count == 0) return;
            mismatches.Add(new SavepointMismatch(eventId, seq, fields.Select(key => new FieldDifference(key,
                Show(type, replayed, key), Show(type, restored, key))).ToList()));
        }).ConfigureAwait(false);
        return new SavepointVerification(id, count, mismatches);
    }

    private static string Show<T>(EventedType<T> type, T record, string key) where T : class =>
        type.TryGetAttr(record, key, out var value) ? System.Text.Json.JsonSerializer.Serialize(value) : "?";

    /// <summary>Rebuilds a record row from its log unless it exists.</summary>
    public static Task<Materialization<T>> MaterializeAsync<T>(EventedType<T> type, SpectorSession? session, Guid id, CancellationToken ct)
        where T : class =>
        RecordRecovery.MaterializeAsync(type, session, id, ct);

    /// <summary>Imports the record table's untracked rows into the log, in one transaction.</summary>
    public static Task<IReadOnlyList<T>> BringUpAsync<T>(EventedType<T> type, SpectorSession? session, BringUpOptions<T>? options,
        CancellationToken ct) where T : class =>
        RecordRecovery.BringUpAsync(type, session, options, ct);

    /// <summary>The record's events of this type, in sequence order.</summary>
    public static Task<IReadOnlyList<StoredEvent>> AllEventsAsync<T>(EventedType<T> type, SpectorSession? session, Guid id, CancellationToken ct)
        where T : class =>
        EventReader.ReadEventsAsync(type.Log, session, id, type.SchemaIndex, ct);
}
