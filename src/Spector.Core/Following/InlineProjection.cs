using System.Data.Common;

namespace Spector;

/// <summary>Runs a log's inline projections on an event just appended, in the write's transaction.</summary>
internal static class InlineProjection
{
    /// <summary>Applies <paramref name="projections"/>, the log's inline projections as the write read them when it
    /// decided where its COMMIT goes.</summary>
    public static async Task ApplyAsync(
        EventLog log,
        IReadOnlyList<Projection> projections,
        EventShard shard,
        DbConnection connection,
        DbTransaction? tx,
        Guid eventId,
        Guid recordId,
        long seq,
        int schema,
        int action,
        DateTimeOffset insertedAt,
        string payload,
        string? metadata,
        StoredContext context,
        CancellationToken ct
    )
    {
        var actionName = log.ActionName(action);
        // Position and transaction id are not known before the row is read back; inline projections get 0 for both.
        var followed = new FollowedEvent(
            shard.Table,
            log,
            new StoredEvent(
                eventId,
                recordId,
                seq,
                0,
                schema,
                action,
                actionName,
                payload,
                metadata,
                insertedAt,
                context
            ),
            0
        );
        var session = new SpectorSession(connection, tx);
        foreach (var projection in projections)
            if (projection.Accepts(schema, actionName))
                await projection.ApplyAsync(followed, session, ct).ConfigureAwait(false);
    }
}
