namespace Spector;

/// <summary>
/// A read model kept in tables of the same database from events across records (for example orders per customer
/// per day). The same <see cref="ApplyAsync"/> runs in one of two forms: <b>async</b>, as a follower whose writes
/// commit with its checkpoint (<see cref="CreateFollower"/>), or <b>inline</b>, inside every write's own transaction
/// (<see cref="EventLog.AddInlineProjection"/>). Either form can be rebuilt from zero (<see cref="RebuildAsync"/>).
/// </summary>
public abstract class Projection
{
    /// <summary>A projection of the events of <paramref name="logs"/>.</summary>
    protected Projection(string name, params EventLog[] logs)
    {
        if (string.IsNullOrWhiteSpace(name))
            throw new ArgumentException("A projection needs a name.", nameof(name));
        ArgumentNullException.ThrowIfNull(logs);
        if (logs.Length == 0)
            throw new ArgumentException(
                $"Projection {name} projects no events table: pass at least one log.",
                nameof(logs)
            );
        Name = name;
        Logs = logs;
    }

    /// <summary>The projection's name; its follower is called <c>projection:&lt;name&gt;</c>.</summary>
    public string Name { get; }

    /// <summary>The projected logs.</summary>
    public IReadOnlyList<EventLog> Logs { get; }

    /// <summary>Only these schema indexes reach <see cref="ApplyAsync"/> (all when null).</summary>
    public virtual IReadOnlyCollection<int>? Schemas => null;

    /// <summary>Only these action names reach <see cref="ApplyAsync"/> (all when null).</summary>
    public virtual IReadOnlyCollection<string>? Actions => null;

    /// <summary>The projection's DDL; every statement idempotent (<c>CREATE TABLE IF NOT EXISTS</c>...).</summary>
    public abstract IReadOnlyList<string> CreateSql(SqlDialect dialect);

    /// <summary>Statements that empty the projection's tables (<c>DELETE FROM</c>...), run inside the rebuild's
    /// transaction.</summary>
    public abstract IReadOnlyList<string> ClearSql(SqlDialect dialect);

    /// <summary>
    /// Applies one event through <paramref name="session"/>'s connection and transaction (never commit it). For the
    /// inline form the event is not stored yet when this runs: its <see cref="StoredEvent.Position"/> is 0.
    /// </summary>
    public abstract Task ApplyAsync(
        FollowedEvent followed,
        SpectorSession session,
        CancellationToken cancellationToken
    );

    /// <summary>True when the event passes <see cref="Schemas"/> and <see cref="Actions"/>.</summary>
    internal bool Accepts(int schema, string? action) =>
        (Schemas is null || Schemas.Contains(schema))
        && (Actions is null || (action is not null && Actions.Contains(action)));

    /// <summary>The follower that keeps the projection up to date (async form); <paramref name="tuning"/> sets its
    /// pace.</summary>
    [System.Diagnostics.CodeAnalysis.RequiresDynamicCode(SqlArgs.DapperMapsRows)]
    public Follower CreateFollower(Func<FollowerOptions, FollowerOptions>? tuning = null)
    {
        var options = new FollowerOptions(FollowerName, [.. Logs]) { Schemas = Schemas, Actions = Actions };
        return new Follower(tuning?.Invoke(options) ?? options, ApplyAsync);
    }

    /// <summary>Creates the projection's tables and its follower's checkpoint.</summary>
    [System.Diagnostics.CodeAnalysis.RequiresDynamicCode(SqlArgs.DapperMapsRows)]
    public async Task MigrateAsync(CancellationToken cancellationToken = default)
    {
        var follower = CreateFollower();
        await follower.MigrateAsync(cancellationToken).ConfigureAwait(false);
        await follower.RunStatementsAsync(CreateSql(Logs[0].Store.Dialect), cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Empties the projection and applies every event again, in one transaction that also moves the follower's
    /// checkpoint to the last event applied: readers see the old tables until the new ones commit, never an empty
    /// one. It takes the follower's lease first (waiting while another process runs it). <paramref name="progress"/>
    /// hears the number of events applied after each batch.
    /// </summary>
    [System.Diagnostics.CodeAnalysis.RequiresDynamicCode(SqlArgs.DapperMapsRows)]
    public Task<long> RebuildAsync(IProgress<long>? progress = null, CancellationToken cancellationToken = default) =>
        CreateFollower().ReplayAllAsync(ClearSql(Logs[0].Store.Dialect), progress, cancellationToken);

    private string FollowerName => "projection:" + Name;
}
