using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace Spector;

/// <summary>
/// The names to subscribe to: <c>AddSource(SpectorTelemetry.SourceName)</c> and
/// <c>AddMeter(SpectorTelemetry.MeterName)</c> in OpenTelemetry. Spans: <c>spector.write</c>, <c>spector.replay</c>,
/// <c>spector.verify</c>, <c>spector.migrate</c>. Instruments are listed in docs/observability.md.
/// </summary>
public static class SpectorTelemetry
{
    /// <summary>The ActivitySource of Spector's spans.</summary>
    public const string SourceName = "Spector";

    /// <summary>The Meter of Spector's counters and histograms.</summary>
    public const string MeterName = "Spector";

    // Static by .NET convention (like HttpClient's and Npgsql's): listeners find sources and meters by name.
    internal static readonly ActivitySource Source = new(
        SourceName,
        typeof(SpectorTelemetry).Assembly.GetName().Version?.ToString()
    );
    internal static readonly Meter Meter = new(
        MeterName,
        typeof(SpectorTelemetry).Assembly.GetName().Version?.ToString()
    );

    internal static readonly Counter<long> Appends = Meter.CreateCounter<long>(
        "spector.events.appended",
        "{event}",
        "Events appended, savepoints included."
    );

    internal static readonly Counter<long> Conflicts = Meter.CreateCounter<long>(
        "spector.write.conflicts",
        "{conflict}",
        "Writes that lost the (parent_id, seq) race and replayed again."
    );

    internal static readonly Histogram<double> WriteDuration = Meter.CreateHistogram<double>(
        "spector.write.duration",
        "ms",
        "Time of one write, retries included."
    );

    internal static readonly Histogram<long> ReplayLength = Meter.CreateHistogram<long>(
        "spector.replay.length",
        "{event}",
        "Events read to rebuild one record."
    );

    internal static readonly Counter<long> EventsVerified = Meter.CreateCounter<long>(
        "spector.verify.events",
        "{event}",
        "Events whose hash was recomputed by chain verification."
    );

    internal static readonly Histogram<double> VerifyRate = Meter.CreateHistogram<double>(
        "spector.verify.rate",
        "{event}/s",
        "Events verified per second, per verification."
    );

    /// <summary>Tag names, shared by spans and instruments.</summary>
    internal static class Tags
    {
        public const string Table = "spector.table";
        public const string Schema = "spector.schema";
        public const string Action = "spector.action";
        public const string RecordId = "spector.record_id";
        public const string Seq = "spector.seq";
        public const string Attempts = "spector.attempts";
        public const string Events = "spector.events";
        public const string Outcome = "spector.outcome";
    }

    /// <summary>The span of Spector's own operation that is current, if any: tags are added only to it.</summary>
    internal static Activity? CurrentSpan(string name) =>
        Activity.Current is { } current && current.Source == Source && current.OperationName == name ? current : null;
}
