using System.Runtime.CompilerServices;

namespace Spector;

/// <summary>
/// Questions across the records of one events table: timelines (who did what, in which operation, caused by
/// what) and counts per time bucket. Reach it as <c>AppEvents.Log.Audit</c>; see docs/audit-trail.md.
/// </summary>
public sealed class AuditTrail
{
    /// <summary>The largest page a timeline reads at once.</summary>
    public const int MaxPageSize = 10_000;

    private const int StreamPageSize = 500;
    private readonly EventLog _log;

    internal AuditTrail(EventLog log) => _log = log;

    /// <summary>
    /// Streams the timeline from its start, or from just after <paramref name="after"/> (a cursor from
    /// <see cref="TimelinePageAsync"/> or <see cref="CursorAfter"/>), reading a page at a time.
    /// </summary>
    /// <exception cref="ArgumentException">A bad filter, an inverted range, or a cursor of another query.</exception>
    public IAsyncEnumerable<StoredEvent> TimelineAsync(TimelineQuery query, string? after = null,
        SpectorSession? session = null, CancellationToken cancellationToken = default)
    {
        // Checked now, not at the first MoveNextAsync: bad input fails where it is passed.
        var start = Validate(query, after);
        return StreamAsync(query, start, session, cancellationToken);
    }

    private async IAsyncEnumerable<StoredEvent> StreamAsync(TimelineQuery query, long? after, SpectorSession? session,
        [EnumeratorCancellation] CancellationToken ct)
    {
        while (true)
        {
            var page = await ReadAsync(query, after, StreamPageSize, session, ct).ConfigureAwait(false);
            foreach (var e in page.Events) yield return e;
            if (!page.More) yield break;
            after = page.Events[^1].Position;
        }
    }

    /// <summary>One page of the timeline, and the cursor of the next one.</summary>
    /// <exception cref="ArgumentException">A bad filter or page size, an inverted range, or a cursor of another
    /// query.</exception>
    public async Task<TimelinePage> TimelinePageAsync(TimelineQuery query, int pageSize = 100, string? after = null,
        SpectorSession? session = null, CancellationToken cancellationToken = default)
    {
        if (pageSize is < 1 or > MaxPageSize)
            throw new ArgumentOutOfRangeException(nameof(pageSize), pageSize,
                $"A timeline page holds 1 to {MaxPageSize} events.");
        var start = Validate(query, after);
        var page = await ReadAsync(query, start, pageSize, session, cancellationToken).ConfigureAwait(false);
        return new TimelinePage(page.Events, page.More ? CursorAfter(query, page.Events[^1]) : null);
    }

    /// <summary>The cursor that resumes <paramref name="query"/>'s timeline just after <paramref
    /// name="shown"/>.</summary>
    public string CursorAfter(TimelineQuery query, StoredEvent shown)
    {
        ArgumentNullException.ThrowIfNull(query);
        ArgumentNullException.ThrowIfNull(shown);
        return TimelineCursor.Encode(query, Shard.Table, shown.Position);
    }

    /// <summary>
    /// Counts events per time bucket and action (and schema, with <see cref="BucketQuery.BySchema"/>), in SQL, with a
    /// zero for every bucket an action has no event in.
    /// </summary>
    /// <exception cref="ArgumentException">An inverted or empty range, or more than <see
    /// cref="BucketQuery.MaxBuckets"/> buckets.</exception>
    public Task<EventBuckets> CountAsync(BucketQuery query, SpectorSession? session = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(query);
        return BucketCounter.CountAsync(_log, Shard, query, session, cancellationToken);
    }

    private EventShard Shard => _log.IsSharded
        ? throw new InvalidOperationException(
            $"Events table {_log.Table} is sharded into {string.Join(", ", _log.Shards.Select(s => s.Table))}: " +
            "timelines and buckets " +
            "read one table, and positions are not comparable across shards.")
        : _log.Shards[0];

    private long? Validate(TimelineQuery query, string? after)
    {
        ArgumentNullException.ThrowIfNull(query);
        var table = Shard.Table;
        TimeRange.Check(query.From, query.To);
        if (query.Action is { } action) TimelineSql.ActionCode(_log, action);
        return after is null ? null : TimelineCursor.Decode(after, query, table);
    }

    private async Task<(List<StoredEvent> Events, bool More)> ReadAsync(TimelineQuery query, long? after, int pageSize,
        SpectorSession? session, CancellationToken ct)
    {
        var shard = Shard;
        await using var lease = await ConnectionLease.OpenAsync(_log, session, ct).ConfigureAwait(false);
        await using var command = lease.Connection.CreateCommand();
        command.Transaction = lease.Transaction;
        // One row more than the page tells whether another page follows.
        new TimelineSql(_log, shard, lease.Dialect, query, after, pageSize + 1).Bind(command);
        var events = new List<StoredEvent>(Math.Min(pageSize + 1, 1024));
        await using var reader = await command.ExecuteReaderAsync(ct).ConfigureAwait(false);
        while (await reader.ReadAsync(ct).ConfigureAwait(false))
            events.Add(EventReader.ReadEvent(_log, lease.Dialect, reader));
        var more = events.Count > pageSize;
        if (more) events.RemoveAt(events.Count - 1);
        return (events, more);
    }
}
