namespace Spector;

/// <summary>
/// SQLite entry points, where users have always written them: <c>SpectorStore.Sqlite(...)</c>,
/// <c>AppEvents.UseSqlite(...)</c>.
/// </summary>
public static class SqliteSetup
{
    extension(SpectorStore)
    {
        /// <summary>An embedded SQLite database file (created when missing), in WAL mode.</summary>
        public static SpectorStore Sqlite(string connectionString, SpectorOptions? options = null) =>
            new SqliteStore(connectionString, options);
    }

    extension<TEvents>(TEvents)
        where TEvents : IEventsTable
    {
        /// <summary>Stores this table's events in an embedded SQLite database: its default store.</summary>
        public static void UseSqlite(string connectionString) => TEvents.Log.Use(SpectorStore.Sqlite(connectionString));
    }
}
