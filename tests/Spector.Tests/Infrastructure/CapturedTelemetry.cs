using System.Diagnostics;
using Microsoft.Extensions.Logging;
using OpenTelemetry;
using OpenTelemetry.Logs;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;

namespace Spector.Tests;

/// <summary>
/// Spans, metrics and log records captured by the OpenTelemetry SDK's in-memory exporter, subscribed to
/// Spector's names exactly as an application subscribes. Tests run one at a time, so what is captured between
/// creation and <see cref="Flush"/> is the test's own.
/// </summary>
public sealed class CapturedTelemetry : IDisposable
{
    private readonly TracerProvider _tracing;
    private readonly MeterProvider _metering;
    private readonly List<MetricSnapshot> _metrics = [];

    public CapturedTelemetry()
    {
        _tracing = Sdk.CreateTracerProviderBuilder()
            .AddSource(SpectorTelemetry.SourceName)
            .AddInMemoryExporter(Spans)
            .Build()!;
        _metering = Sdk.CreateMeterProviderBuilder()
            .AddMeter(SpectorTelemetry.MeterName)
            .AddInMemoryExporter(_metrics)
            .Build()!;
        LoggerFactory = Microsoft.Extensions.Logging.LoggerFactory.Create(builder =>
            builder
                .SetMinimumLevel(LogLevel.Debug)
                .AddOpenTelemetry(o =>
                {
                    o.IncludeFormattedMessage = true;
                    o.AddInMemoryExporter(Logs);
                })
        );
    }

    public List<Activity> Spans { get; } = [];

    public List<LogRecord> Logs { get; } = [];

    public ILoggerFactory LoggerFactory { get; }

    public IEnumerable<Activity> SpansNamed(string name) => Spans.Where(s => s.OperationName == name);

    /// <summary>Exports what is pending; call before reading metrics.</summary>
    public void Flush()
    {
        _tracing.ForceFlush();
        // Cumulative temporality: each export holds the totals so far, so only the latest one is kept.
        _metrics.Clear();
        _metering.ForceFlush();
    }

    /// <summary>The sum of a counter's points, or of a histogram's recorded values, over points with <paramref
    /// name="tag"/>.</summary>
    public double Sum(string instrument, (string Key, object Value)? tag = null) =>
        Points(instrument, tag)
            .Sum(p =>
                _metrics.FirstOrDefault(m => m.Name == instrument)?.MetricType switch
                {
                    MetricType.LongSum => p.GetSumLong(),
                    MetricType.DoubleSum => p.GetSumDouble(),
                    MetricType.Histogram => p.GetHistogramSum(),
                    var other => throw new NotSupportedException($"{instrument}: {other}"),
                }
            );

    /// <summary>How many values a histogram recorded over points with <paramref name="tag"/>.</summary>
    public long Count(string instrument, (string Key, object Value)? tag = null) =>
        Points(instrument, tag).Sum(p => p.GetHistogramCount());

    private List<MetricPoint> Points(string instrument, (string Key, object Value)? tag)
    {
        Flush();
        var points = new List<MetricPoint>();
        foreach (var metric in _metrics.Where(m => m.Name == instrument))
        foreach (var point in metric.MetricPoints)
            if (tag is not { } wanted || HasTag(point, wanted.Key, wanted.Value))
                points.Add(point);
        return points;
    }

    private static bool HasTag(in MetricPoint point, string key, object value)
    {
        foreach (var pair in point.Tags)
            if (pair.Key == key && Equals(pair.Value, value))
                return true;
        return false;
    }

    /// <summary>Every log record as its message and attribute values, for asserting what never appears.</summary>
    public string AllLogText() =>
        string.Join(
            "\n",
            Logs.Select(l =>
                l.FormattedMessage + " " + string.Join(" ", l.Attributes?.Select(a => $"{a.Key}={a.Value}") ?? [])
            )
        );

    public void Dispose()
    {
        _tracing.Dispose();
        _metering.Dispose();
        LoggerFactory.Dispose();
    }
}
