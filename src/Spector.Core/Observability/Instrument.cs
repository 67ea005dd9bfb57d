using System.Diagnostics;
using Microsoft.Extensions.Logging;
using static Spector.SpectorTelemetry;

namespace Spector;

/// <summary>
/// Spans, measurements and log lines around each kind of operation, in one place per operation so the code
/// that does the work stays about the work.
/// </summary>
internal static class Instrument
{
    public const string WriteSpan = "spector.write";
    public const string ReplaySpan = "spector.replay";
    public const string VerifySpan = "spector.verify";
    public const string MigrateSpan = "spector.migrate";

    /// <summary>One write (insert, update, custom action, delete, savepoint) with its retries.</summary>
    public static async Task<TResult> WriteAsync<T, TResult>(
        EventedType<T> type,
        SpectorSession? session,
        string action,
        Guid? recordId,
        Func<Task<TResult>> write
    )
        where T : class
    {
        var table = type.Log.Table;
        using var span = Source.StartActivity(WriteSpan);
        if (span is not null)
        {
            span.DisplayName = $"{action} {type.Name}";
            span.SetTag(Tags.Table, table)
                .SetTag(Tags.Schema, type.SchemaIndex)
                .SetTag(Tags.Action, action)
                .SetTag(Tags.Attempts, 1);
            if (recordId is { } id)
                span.SetTag(Tags.RecordId, id.ToString());
        }
        var started = Stopwatch.GetTimestamp();
        var outcome = "ok";
        try
        {
            return await write().ConfigureAwait(false);
        }
        catch (Exception e)
        {
            outcome = e switch
            {
                ConcurrencyConflictException or SerializationFailureException => "conflict",
                ChangesetInvalidException or StaleRecordException or IdempotencyKeyReusedException => "invalid",
                RecordNotFoundException => "not_found",
                _ => "error",
            };
            span?.SetStatus(ActivityStatusCode.Error, e.GetType().Name);
            // A stale ExpectedSeq is the caller's business; giving up on serialization failures is worth a warning.
            if (e is SerializationFailureException failure)
                SpectorOptions
                    .For(session, type.Log)
                    .Logger.WriteConflict(type.Name, failure.RecordId ?? Guid.Empty, table, action, failure.Attempts);
            throw;
        }
        finally
        {
            span?.SetTag(Tags.Outcome, outcome);
            WriteDuration.Record(
                Stopwatch.GetElapsedTime(started).TotalMilliseconds,
                new(Tags.Table, table),
                new(Tags.Action, action),
                new(Tags.Outcome, outcome)
            );
        }
    }

    /// <summary>A write in its own transaction met a serialization failure and is about to start over.</summary>
    public static void WriteRetried(
        SpectorOptions options,
        string recordType,
        string table,
        string action,
        Guid recordId,
        int attempt
    )
    {
        Conflicts.Add(1, new KeyValuePair<string, object?>(Tags.Table, table), new(Tags.Action, action));
        CurrentSpan(WriteSpan)?.SetTag(Tags.Attempts, attempt + 1);
        options.Logger.WriteRetried(recordType, recordId, table, action, attempt, options.MaxWriteAttempts);
    }

    /// <summary>An event row was inserted; the write's span takes the first one's record id and seq.</summary>
    public static void Appended(EventLog log, string table, int action, Guid recordId, long seq)
    {
        var actionName = log.ActionName(action) ?? "unknown";
        Appends.Add(1, new KeyValuePair<string, object?>(Tags.Table, table), new(Tags.Action, actionName));
        if (CurrentSpan(WriteSpan) is { } span && span.GetTagItem(Tags.Seq) is null)
            span.SetTag(Tags.Seq, seq).SetTag(Tags.RecordId, recordId.ToString());
    }

    /// <summary>One replay of one record: its span, its length, and a warning when it is slow.</summary>
    public static async Task<EventReader.Replayed<T>> ReplayAsync<T>(
        EventedType<T> type,
        string table,
        Guid recordId,
        SpectorOptions options,
        Func<Task<EventReader.Replayed<T>>> replay
    )
        where T : class
    {
        using var span = Source.StartActivity(ReplaySpan);
        span?.SetTag(Tags.Table, table)
            .SetTag(Tags.Schema, type.SchemaIndex)
            .SetTag(Tags.RecordId, recordId.ToString());
        var started = Stopwatch.GetTimestamp();
        var replayed = await replay().ConfigureAwait(false);
        var elapsed = Stopwatch.GetElapsedTime(started);
        span?.SetTag(Tags.Events, replayed.EventsRead).SetTag(Tags.Seq, replayed.LastSeq);
        // Checked first: the schema tag boxes, and replay is a hot path that usually has no listener.
        if (ReplayLength.Enabled)
            ReplayLength.Record(
                replayed.EventsRead,
                new KeyValuePair<string, object?>(Tags.Table, table),
                new(Tags.Schema, type.SchemaIndex)
            );
        if (elapsed > options.SlowReplayThreshold)
            options.Logger.SlowReplay(
                type.Name,
                recordId,
                table,
                replayed.EventsRead,
                elapsed.TotalMilliseconds,
                options.SlowReplayThreshold.TotalMilliseconds
            );
        return replayed;
    }

    /// <summary>One hash-chain verification (a table, a shard, or one record's chain).</summary>
    public static async Task<ChainVerification> VerifyChainAsync(
        EventLog log,
        SpectorSession? session,
        string table,
        Guid? recordId,
        Func<Task<ChainVerification>> verify
    )
    {
        using var span = Source.StartActivity(VerifySpan);
        span?.SetTag(Tags.Table, table).SetTag(Tags.Action, "chain");
        if (recordId is { } id)
            span?.SetTag(Tags.RecordId, id.ToString());
        var started = Stopwatch.GetTimestamp();
        var result = await verify().ConfigureAwait(false);
        var seconds = Stopwatch.GetElapsedTime(started).TotalSeconds;
        span?.SetTag(Tags.Events, result.EventsChecked).SetTag(Tags.Outcome, result.IsValid ? "intact" : "broken");
        if (!result.IsValid)
            span?.SetStatus(ActivityStatusCode.Error, result.FirstBreak!.Kind.ToString());
        EventsVerified.Add(result.EventsChecked, new KeyValuePair<string, object?>(Tags.Table, table));
        if (result.EventsChecked > 0 && seconds > 0)
            VerifyRate.Record(result.EventsChecked / seconds, new KeyValuePair<string, object?>(Tags.Table, table));
        var logger = SpectorOptions.For(session, log).Logger;
        if (result.FirstBreak is { } broken)
            logger.ChainBroken(table, result.EventsChecked, broken.Kind.ToString(), broken.Position, broken.EventId);
        else
            logger.ChainIntact(table, result.EventsChecked, result.Head?.Position);
        return result;
    }

    /// <summary>One check of a record's savepoints against a full replay.</summary>
    public static async Task<SavepointVerification> VerifySavepointsAsync<T>(
        EventedType<T> type,
        SpectorSession? session,
        Guid recordId,
        Func<Task<SavepointVerification>> verify
    )
        where T : class
    {
        var table = type.Log.Table;
        using var span = Source.StartActivity(VerifySpan);
        span?.SetTag(Tags.Table, table)
            .SetTag(Tags.Action, "savepoints")
            .SetTag(Tags.Schema, type.SchemaIndex)
            .SetTag(Tags.RecordId, recordId.ToString());
        var result = await verify().ConfigureAwait(false);
        span?.SetTag(Tags.Events, result.SavepointsChecked).SetTag(Tags.Outcome, result.IsValid ? "intact" : "broken");
        var logger = SpectorOptions.For(session, type.Log).Logger;
        if (result.IsValid)
            logger.SavepointsIntact(type.Name, recordId, table, result.SavepointsChecked);
        else
        {
            span?.SetStatus(ActivityStatusCode.Error, "savepoint mismatch");
            logger.SavepointsMismatch(
                type.Name,
                recordId,
                table,
                result.Mismatches.Count,
                result.SavepointsChecked,
                result.Mismatches[0].Seq
            );
        }
        return result;
    }

    /// <summary>One migration of one events table (up or down).</summary>
    public static async Task MigrateAsync(
        EventLog log,
        SpectorSession? session,
        string direction,
        int statements,
        Func<Task> migrate
    )
    {
        using var span = Source.StartActivity(MigrateSpan);
        span?.SetTag(Tags.Table, log.Table).SetTag(Tags.Action, direction);
        var started = Stopwatch.GetTimestamp();
        try
        {
            await migrate().ConfigureAwait(false);
        }
        catch (Exception e)
        {
            span?.SetStatus(ActivityStatusCode.Error, e.GetType().Name);
            throw;
        }
        SpectorOptions
            .For(session, log)
            .Logger.Migrated(log.Table, direction, statements, Stopwatch.GetElapsedTime(started).TotalMilliseconds);
    }
}
