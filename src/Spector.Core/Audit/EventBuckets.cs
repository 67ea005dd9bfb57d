namespace Spector;

/// <summary>The width of a time bucket.</summary>
public enum BucketSize
{
    /// <summary>One hour, starting on the hour of the time zone.</summary>
    Hour,

    /// <summary>One day, from midnight to midnight in the time zone (23 or 25 hours across a DST change).</summary>
    Day,

    /// <summary>One ISO week, from Monday midnight in the time zone.</summary>
    Week,

    /// <summary>One calendar month, from the first day's midnight in the time zone.</summary>
    Month,
}

/// <summary>Which events to count, over which range, in which buckets.</summary>
/// <param name="From">The range's start; the first bucket is the one that holds it.</param>
/// <param name="To">The range's end (exclusive); the last bucket is the one that holds the instant before it.</param>
/// <param name="Size">The bucket width.</param>
public sealed record BucketQuery(DateTimeOffset From, DateTimeOffset To, BucketSize Size)
{
    /// <summary>The most buckets one query returns (a year of hours fits).</summary>
    public const int MaxBuckets = 10_000;

    /// <summary>The time zone whose midnights and hours bound the buckets; UTC when null.</summary>
    public TimeZoneInfo? TimeZone { get; init; }

    /// <summary>Counts per schema and action instead of per action.</summary>
    public bool BySchema { get; init; }

    /// <summary>Only events of this actor.</summary>
    public Actor? Actor { get; init; }

    /// <summary>Only events of this schema index.</summary>
    public int? Schema { get; init; }
}

/// <summary>Counts per bucket, one series per action (or schema and action), zero-filled.</summary>
/// <param name="Starts">Each bucket's start, in the query's time zone; bucket i ends where i + 1 starts.</param>
/// <param name="End">The end of the last bucket.</param>
/// <param name="Series">One series per action (and schema) that has an event in the range, ordered by schema then
/// action code.</param>
public sealed record EventBuckets(
    IReadOnlyList<DateTimeOffset> Starts,
    DateTimeOffset End,
    IReadOnlyList<BucketSeries> Series
)
{
    /// <summary>Every series' count in bucket <paramref name="bucket"/>.</summary>
    public long Total(int bucket) => Series.Sum(s => s.Counts[bucket]);
}

/// <summary>The counts of one action (of one schema, when counted by schema), one per bucket.</summary>
/// <param name="Action">The action's name, or null when the code is unknown to the table.</param>
/// <param name="ActionCode">The stored action code.</param>
/// <param name="Schema">The schema index, when counted by schema.</param>
/// <param name="Counts">The count in each bucket, zero where there was no event.</param>
public sealed record BucketSeries(string? Action, int ActionCode, int? Schema, IReadOnlyList<long> Counts);
