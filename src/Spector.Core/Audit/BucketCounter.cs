using System.Globalization;
using System.Text;

namespace Spector;

/// <summary>
/// Counts events per bucket in SQL. The bucket bounds are computed here, as instants, from the time zone's
/// calendar (so a day is midnight to midnight even across a DST change), and sent as one parameter; the
/// database joins them to the <c>inserted_at</c> index and groups.
/// </summary>
internal static class BucketCounter
{
    public static async Task<EventBuckets> CountAsync(
        EventLog log,
        BucketQuery query,
        SpectorSession? session,
        CancellationToken ct
    )
    {
        var zone = query.TimeZone ?? TimeZoneInfo.Utc;
        var bounds = Bounds(query, zone);
        var starts = bounds.Take(bounds.Count - 1).ToArray();
        var ends = bounds.Skip(1).ToArray();
        var series = new SortedDictionary<(int Schema, int Action), long[]>();
        await using var lease = await ConnectionLease.OpenAsync(log, session, ct).ConfigureAwait(false);
        // A sharded log counts shard by shard; the counts of one bucket and action add up.
        foreach (var shard in log.Shards)
            await CountShardAsync(lease, shard, query, starts, ends, series, ct).ConfigureAwait(false);
        var all = series
            .Select(pair => new BucketSeries(
                log.ActionName(pair.Key.Action),
                pair.Key.Action,
                query.BySchema ? pair.Key.Schema : null,
                pair.Value
            ))
            .ToList();
        return new EventBuckets(starts, bounds[^1], all);
    }

    private static async Task CountShardAsync(
        ConnectionLease lease,
        EventShard shard,
        BucketQuery query,
        DateTimeOffset[] starts,
        DateTimeOffset[] ends,
        SortedDictionary<(int Schema, int Action), long[]> series,
        CancellationToken ct
    )
    {
        var dialect = lease.Dialect;
        var t = SqlIdentifier.Quote(shard.Table);
        var filters = new StringBuilder();
        await using var command = lease.Connection.CreateCommand();
        command.Transaction = lease.Transaction;
        if (query.Actor is { } actor)
        {
            filters.Append(" AND e.\"actor_type\" = @actor_type AND e.\"actor_id\" = @actor_id");
            EventReader.AddParameter(command, "actor_type", actor.Type);
            EventReader.AddParameter(command, "actor_id", actor.Id);
        }
        if (query.Schema is { } schema)
        {
            filters.Append(" AND e.\"schema\" = @schema");
            EventReader.AddParameter(command, "schema", schema);
        }
        string from;
        if (dialect.Kind == SqlDialect.PostgreSql)
        {
            from = "unnest(@starts, @ends) WITH ORDINALITY AS b(\"s\", \"e\", \"i\")";
            EventReader.AddParameter(command, "starts", starts.Select(s => s.ToUniversalTime()).ToArray());
            EventReader.AddParameter(command, "ends", ends.Select(s => s.ToUniversalTime()).ToArray());
        }
        else
        {
            from =
                "(SELECT CAST(\"key\" AS integer) + 1 AS \"i\", json_extract(\"value\", '$[0]') AS \"s\", "
                + "json_extract(\"value\", '$[1]') AS \"e\" FROM json_each(@bounds)) b";
            static string Micros(DateTimeOffset instant) =>
                EventHash.Micros(instant).ToString(CultureInfo.InvariantCulture);
            var json = "[" + string.Join(",", starts.Zip(ends, (s, e) => $"[{Micros(s)},{Micros(e)}]")) + "]";
            EventReader.AddParameter(command, "bounds", json);
        }
        command.CommandText =
            $"SELECT b.\"i\", e.\"schema\", e.\"action\", COUNT(e.\"position\") FROM {from} "
            + $"LEFT JOIN {t} e ON e.\"inserted_at\" >= b.\"s\" AND e.\"inserted_at\" < b.\"e\"{filters} "
            + "GROUP BY b.\"i\", e.\"schema\", e.\"action\"";

        await using var reader = await command.ExecuteReaderAsync(ct).ConfigureAwait(false);
        while (await reader.ReadAsync(ct).ConfigureAwait(false))
        {
            if (reader.IsDBNull(2))
                continue; // a bucket with no event at all
            var bucket = (int)reader.GetInt64(0) - 1;
            var key = (query.BySchema ? reader.GetInt32(1) : 0, reader.GetInt32(2));
            if (!series.TryGetValue(key, out var counts))
                series[key] = counts = new long[starts.Length];
            counts[bucket] += reader.GetInt64(3);
        }
    }

    /// <summary>The bucket bounds covering [From, To): n + 1 instants in <paramref name="zone"/>'s offsets.</summary>
    internal static List<DateTimeOffset> Bounds(BucketQuery query, TimeZoneInfo zone)
    {
        if (query.From >= query.To)
        {
            var what = query.From == query.To ? "empty" : "inverted";
            throw new ArgumentException(
                $"The bucket range from {query.From:O} to {query.To:O} is {what}.",
                nameof(query)
            );
        }
        if (!Enum.IsDefined(query.Size))
            throw new ArgumentException($"{query.Size} is not a bucket size.", nameof(query));
        // A range of ten thousand years of hours is a mistake to refuse early, not to enumerate.
        var roughCount =
            (query.To - query.From).TotalHours
            / query.Size switch
            {
                BucketSize.Hour => 1,
                BucketSize.Day => 24,
                BucketSize.Week => 168,
                _ => 24 * 28,
            };
        if (roughCount > BucketQuery.MaxBuckets + 2)
            throw TooMany(query);
        try
        {
            var bounds = new List<DateTimeOffset> { Floor(query.From, query.Size, zone) };
            while (bounds[^1] < query.To)
            {
                if (bounds.Count > BucketQuery.MaxBuckets)
                    throw TooMany(query);
                bounds.Add(Next(bounds[^1], query.Size, zone));
            }
            return bounds;
        }
        catch (ArgumentOutOfRangeException e)
        {
            // A bucket bound past the calendar's end (or before its start) in the zone's local time.
            throw new ArgumentException(
                $"The {query.Size} buckets from {query.From:O} to {query.To:O} in time zone {zone.Id} reach past "
                    + $"the first or last representable instant: narrow the range.",
                nameof(query),
                e
            );
        }
    }

    private static ArgumentException TooMany(BucketQuery query) =>
        new(
            $"The range from {query.From:O} to {query.To:O} holds more than {BucketQuery.MaxBuckets} {query.Size} "
                + "buckets: "
                + "narrow it or use a wider bucket.",
            nameof(query)
        );

    private static DateTimeOffset Floor(DateTimeOffset instant, BucketSize size, TimeZoneInfo zone)
    {
        var local = TimeZoneInfo.ConvertTime(instant, zone);
        if (size == BucketSize.Hour)
            // Hours are counted in elapsed time; the zone fixes only where they start (:30 in India).
            return local.AddTicks(-(local.Ticks % TimeSpan.TicksPerHour));
        var day = local.Date;
        var start = size switch
        {
            BucketSize.Week => day.AddDays(-(((int)day.DayOfWeek + 6) % 7)),
            BucketSize.Month => new DateTime(day.Year, day.Month, 1),
            _ => day,
        };
        return AtLocal(start, zone);
    }

    private static DateTimeOffset Next(DateTimeOffset start, BucketSize size, TimeZoneInfo zone) =>
        size switch
        {
            BucketSize.Hour => TimeZoneInfo.ConvertTime(start.AddHours(1), zone),
            BucketSize.Day => AtLocal(start.DateTime.Date.AddDays(1), zone),
            BucketSize.Week => AtLocal(start.DateTime.Date.AddDays(7), zone),
            _ => AtLocal(new DateTime(start.Year, start.Month, 1).AddMonths(1), zone),
        };

    /// <summary>
    /// The instant a local wall-clock time names: a time skipped by a DST change moves to the first valid minute
    /// after it; a time that occurs twice takes its first occurrence.
    /// </summary>
    private static DateTimeOffset AtLocal(DateTime local, TimeZoneInfo zone)
    {
        local = DateTime.SpecifyKind(local, DateTimeKind.Unspecified);
        while (zone.IsInvalidTime(local))
            local = local.AddMinutes(1);
        var offset = zone.IsAmbiguousTime(local) ? zone.GetAmbiguousTimeOffsets(local).Max() : zone.GetUtcOffset(local);
        return new DateTimeOffset(local, offset);
    }
}
