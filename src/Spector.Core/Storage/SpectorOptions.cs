using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Spector;

/// <summary>
/// How a <see cref="SpectorStore"/> behaves: retries, logging and thresholds. Immutable once made, so one options
/// object can be shared by many stores; every store has its own, never a process-wide one.
/// </summary>
public sealed class SpectorOptions
{
    private readonly int _maxWriteAttempts = 30;
    private readonly TimeSpan _slowReplayThreshold = TimeSpan.FromMilliseconds(500);

    /// <summary>Defaults: 30 write attempts, replays over 500 ms logged as slow, no logging.</summary>
    public static SpectorOptions Default { get; } = new();

    /// <summary>
    /// How many times a write in its own transaction is tried when the database refuses it with a serialization
    /// failure (only where the database's default isolation is REPEATABLE READ or SERIALIZABLE) before
    /// <see cref="SerializationFailureException"/>. Writes of one record queue on its head row and never retry.
    /// </summary>
    public int MaxWriteAttempts
    {
        get => _maxWriteAttempts;
        init =>
            _maxWriteAttempts =
                value >= 1
                    ? value
                    : throw new ArgumentOutOfRangeException(
                        nameof(MaxWriteAttempts),
                        value,
                        "A write needs at least one attempt."
                    );
    }

    /// <summary>A replay that takes longer than this is logged as a warning (with the record and the events it
    /// read).</summary>
    public TimeSpan SlowReplayThreshold
    {
        get => _slowReplayThreshold;
        init =>
            _slowReplayThreshold =
                value > TimeSpan.Zero
                    ? value
                    : throw new ArgumentOutOfRangeException(
                        nameof(SlowReplayThreshold),
                        value,
                        "The threshold must be positive."
                    );
    }

    /// <summary>
    /// Whether Spector prepares the statements of its writes where the driver keeps prepared statements per
    /// connection (PostgreSQL; docs/storage.md). True by default. Turn it off behind a pooler that cannot carry
    /// prepared statements, such as PgBouncer in transaction mode before version 1.21.
    /// </summary>
    public bool PrepareStatements { get; init; } = true;

    /// <summary>
    /// Where Spector logs retries and conflicts, migrations, slow replays and verification results. Payloads,
    /// metadata and connection strings are never logged.
    /// </summary>
    public ILoggerFactory LoggerFactory { get; init; } = NullLoggerFactory.Instance;

    internal ILogger Logger => _logger ??= LoggerFactory.CreateLogger("Spector");

    private ILogger? _logger;

    /// <summary>The options in effect for an operation: its session's store, else the log's default store, else the
    /// defaults.</summary>
    internal static SpectorOptions For(SpectorSession? session, EventLog log) =>
        session?.Store?.Options ?? log.DefaultStore?.Options ?? Default;
}
