using Microsoft.Extensions.Logging;

namespace Spector;

/// <summary>
/// Every message Spector logs, source-generated (no boxing, no formatting when the level is off). Messages name
/// tables, record types, ids, sequence numbers and counts: never payloads, metadata or connection strings.
/// </summary>
internal static partial class LogMessages
{
    [LoggerMessage(
        1001,
        LogLevel.Debug,
        "{RecordType} {RecordId} in {Table}: {Action} met a serialization failure "
            + "on attempt {Attempt} of {MaxAttempts}; starting over"
    )]
    public static partial void WriteRetried(
        this ILogger logger,
        string recordType,
        Guid recordId,
        string table,
        string action,
        int attempt,
        int maxAttempts
    );

    [LoggerMessage(
        1002,
        LogLevel.Warning,
        "{RecordType} {RecordId} in {Table}: {Action} gave up after {Attempts} attempts met serialization failures"
    )]
    public static partial void WriteConflict(
        this ILogger logger,
        string recordType,
        Guid recordId,
        string table,
        string action,
        int attempts
    );

    [LoggerMessage(
        1003,
        LogLevel.Warning,
        "{RecordType} {RecordId} in {Table}: replay read {Events} events in {ElapsedMs:F1} ms "
            + "(slow above {ThresholdMs} ms); consider savepoints"
    )]
    public static partial void SlowReplay(
        this ILogger logger,
        string recordType,
        Guid recordId,
        string table,
        long events,
        double elapsedMs,
        double thresholdMs
    );

    [LoggerMessage(
        1004,
        LogLevel.Information,
        "Events table {Table}: migration {Direction} ran {Statements} statements in {ElapsedMs:F1} ms"
    )]
    public static partial void Migrated(
        this ILogger logger,
        string table,
        string direction,
        int statements,
        double elapsedMs
    );

    [LoggerMessage(
        1005,
        LogLevel.Information,
        "Hash chain of {Table} verified: {Events} events, intact, head position {HeadPosition}"
    )]
    public static partial void ChainIntact(this ILogger logger, string table, long events, long? headPosition);

    [LoggerMessage(
        1006,
        LogLevel.Error,
        "Hash chain of {Table} is broken after {Events} intact events: {Break} at position {Position}, event {EventId}"
    )]
    public static partial void ChainBroken(
        this ILogger logger,
        string table,
        long events,
        string @break,
        long? position,
        Guid? eventId
    );

    [LoggerMessage(
        1007,
        LogLevel.Information,
        "{RecordType} {RecordId} in {Table}: {Checked} savepoints verified, all agree with the replay"
    )]
    public static partial void SavepointsIntact(
        this ILogger logger,
        string recordType,
        Guid recordId,
        string table,
        int @checked
    );

    [LoggerMessage(
        1008,
        LogLevel.Error,
        "{RecordType} {RecordId} in {Table}: {Mismatches} of {Checked} savepoints disagree with the replay, "
            + "first at seq {Seq}"
    )]
    public static partial void SavepointsMismatch(
        this ILogger logger,
        string recordType,
        Guid recordId,
        string table,
        int mismatches,
        int @checked,
        long seq
    );
}
