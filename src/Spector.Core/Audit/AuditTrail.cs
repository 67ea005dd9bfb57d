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
    public IAsyncEnumerable<StoredEvent> TimelineAsync(
        TimelineQuery query,
        string? after = null,
        SpectorSession? session = null,
        CancellationToken cancellationToken = default
    )
    {
        // Checked now, not at the first MoveNextAsync: bad input fails where it is passed.
        var start = Validate(query, after);
        return StreamAsync(query, start, session, cancellationToken);
    }

    private async IAsyncEnumerable<StoredEvent> StreamAsync(
        TimelineQuery query,
        TimelineKey? after,
        SpectorSession? session,
        [EnumeratorCancellation] CancellationToken ct
    )
    {
        while (true)
        {
            var page = await ReadAsync(query, after, StreamPageSize, session, ct).ConfigureAwait(false);
            foreach (var e in page.Events)
            {
                // A cancelled stream stops at the next event, not after the page already read.
                ct.ThrowIfCancellationRequested();
                yield return e;
            }
            if (!page.More)
                yield break;
            after = page.Last;
        }
    }

    /// <summary>One page of the timeline, and the cursor of the next one.</summary>
    /// <exception cref="ArgumentException">A bad filter or page size, an inverted range, or a cursor of another
    /// query.</exception>
    public async Task<TimelinePage> TimelinePageAsync(
        TimelineQuery query,
        int pageSize = 100,
        string? after = null,
        SpectorSession? session = null,
        CancellationToken cancellationToken = default
    )
    {
        if (pageSize is < 1 or > MaxPageSize)
            throw new ArgumentOutOfRangeException(
                nameof(pageSize),
                pageSize,
                $"A timeline page holds 1 to {MaxPageSize} events."
            );
        var start = Validate(query, after);
        var page = await ReadAsync(query, start, pageSize, session, cancellationToken).ConfigureAwait(false);
        return new TimelinePage(page.Events, page.More ? TimelineCursor.Encode(query, _log, page.Last) : null);
    }

    /// <summary>The cursor that resumes <paramref name="query"/>'s timeline just after <paramref
    /// name="shown"/>.</summary>
    /// <exception cref="ShardRoutingException">On a sharded log, the event's record routes to no shard.</exception>
    public string CursorAfter(TimelineQuery query, StoredEvent shown)
    {
        ArgumentNullException.ThrowIfNull(query);
        ArgumentNullException.ThrowIfNull(shown);
        return TimelineCursor.Encode(query, _log, TimelineKey.Of(_log, shown));
    }

    /// <summary>
    /// Counts events per time bucket and action (and schema, with <see cref="BucketQuery.BySchema"/>), in SQL, with a
    /// zero for every bucket an action has no event in. On a sharded log each shard counts its own, and the counts
    /// are added.
    /// </summary>
    /// <exception cref="ArgumentException">An inverted or empty range, or more than <see
    /// cref="BucketQuery.MaxBuckets"/> buckets.</exception>
    public Task<EventBuckets> CountAsync(
        BucketQuery query,
        SpectorSession? session = null,
        CancellationToken cancellationToken = default
    )
    {
        ArgumentNullException.ThrowIfNull(query);
        return BucketCounter.CountAsync(_log, query, session, cancellationToken);
    }

    private TimelineKey? Validate(TimelineQuery query, string? after)
    {
        ArgumentNullException.ThrowIfNull(query);
        TimeRange.Check(query.From, query.To);
        if (query.Action is { } action)
            TimelineSql.ActionCode(_log, action);
        return after is null ? null : TimelineCursor.Decode(after, query, _log);
    }

    /// <summary>
    /// A page and whether another follows. On a sharded log every shard gives its first page after the key, in
    /// (time, position) order, and the pages merge by (time, shard, position).
    /// </summary>
    private async Task<(List<StoredEvent> Events, bool More, TimelineKey Last)> ReadAsync(
        TimelineQuery query,
        TimelineKey? after,
        int pageSize,
        SpectorSession? session,
        CancellationToken ct
    )
    {
        await using var lease = await ConnectionLease.OpenAsync(_log, session, ct).ConfigureAwait(false);
        var chain =
            _log.IsSharded && query.CausedBy is { } root
                ? await CausationChain.MembersAsync(_log, lease, root, ct).ConfigureAwait(false)
                : null;
        var rows = new List<(StoredEvent Event, TimelineKey Key)>();
        for (var shard = 0; shard < _log.Shards.Count; shard++)
        {
            await using var command = lease.Connection.CreateCommand();
            command.Transaction = lease.Transaction;
            // One row more than the page tells whether another page follows.
            new TimelineSql(_log, _log.Shards[shard], shard, lease.Dialect, query, after, pageSize + 1, chain).Bind(
                command
            );
            await using var reader = await command.ExecuteReaderAsync(ct).ConfigureAwait(false);
            while (await reader.ReadAsync(ct).ConfigureAwait(false))
            {
                var e = EventReader.ReadEvent(_log, lease.Dialect, reader);
                rows.Add((e, new TimelineKey(e.Position, e.InsertedAt, shard)));
            }
        }
        if (_log.IsSharded)
        {
            var newest = query.NewestFirst;
            rows.Sort((a, b) => newest ? b.Key.CompareByTime(a.Key) : a.Key.CompareByTime(b.Key));
        }
        var more = rows.Count > pageSize;
        if (more)
            rows.RemoveRange(pageSize, rows.Count - pageSize);
        return (rows.ConvertAll(row => row.Event), more, rows.Count == 0 ? default : rows[^1].Key);
    }
}
