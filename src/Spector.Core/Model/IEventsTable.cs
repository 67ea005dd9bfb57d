namespace Spector;

/// <summary>
/// An <c>[EventsTable]</c> class, as the generator completes it: its <see cref="EventLog"/> reachable through the
/// type. Provider packages hang their setup on it (<c>AppEvents.UseSqlite(...)</c>, <c>AppEvents.UsePostgres(...)</c>)
/// so that generated code names no database provider.
/// </summary>
public interface IEventsTable
{
    /// <summary>The events table's runtime handle.</summary>
    static abstract EventLog Log { get; }
}
