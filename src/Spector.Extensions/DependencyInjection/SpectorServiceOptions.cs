namespace Spector;

/// <summary>
/// What <c>services.AddSpector(...)</c> registers, set in code or bound from configuration (a section such as
/// <c>"Spector": { "Dialect": "PostgreSql", "ConnectionString": "...", "MaxWriteAttempts": 10 }</c>).
/// </summary>
public sealed class SpectorServiceOptions
{
    /// <summary>The database: <see cref="SqlDialect.Sqlite"/> (default) or <see
    /// cref="SqlDialect.PostgreSql"/>.</summary>
    public SqlDialect Dialect { get; set; } = SqlDialect.Sqlite;

    /// <summary>
    /// The connection string. For PostgreSQL it may be left out: the <c>NpgsqlDataSource</c> registered in the
    /// container is used then (as <c>AddNpgsqlDataSource</c> registers it).
    /// </summary>
    public string? ConnectionString { get; set; }

    /// <summary>See <see cref="SpectorOptions.MaxWriteAttempts"/>.</summary>
    public int MaxWriteAttempts { get; set; } = SpectorOptions.Default.MaxWriteAttempts;

    /// <summary>See <see cref="SpectorOptions.SlowReplayThreshold"/>.</summary>
    public TimeSpan SlowReplayThreshold { get; set; } = SpectorOptions.Default.SlowReplayThreshold;

    /// <summary>See <see cref="SpectorOptions.PrepareStatements"/>.</summary>
    public bool PrepareStatements { get; set; } = SpectorOptions.Default.PrepareStatements;

    /// <summary>Migrate every table of <see cref="EventsTables"/> when the host starts, before it serves
    /// requests.</summary>
    public bool MigrateOnStartup { get; set; }

    /// <summary>
    /// Make this store the default of every table in <see cref="EventsTables"/>, so generated methods called without
    /// a session (<c>User.InsertAsync(attrs)</c>) use it. Unset: yes for <c>AddSpector(...)</c>, no for a keyed store.
    /// </summary>
    public bool? UseAsDefaultStore { get; set; }

    /// <summary>The events tables of the app (<c>AppEvents.Log</c>, ...): migrated on startup and checked by health
    /// checks.</summary>
    public IList<EventLog> EventsTables { get; } = [];
}
