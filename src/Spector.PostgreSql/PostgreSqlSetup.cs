using Npgsql;

namespace Spector;

/// <summary>
/// PostgreSQL entry points, where users have always written them: <c>SpectorStore.Postgres(...)</c>,
/// <c>AppEvents.UsePostgres(...)</c>.
/// </summary>
public static class PostgreSqlSetup
{
    extension(SpectorStore)
    {
        /// <summary>A PostgreSQL database reached through an Npgsql data source (which owns pooling).</summary>
        public static SpectorStore Postgres(NpgsqlDataSource dataSource, SpectorOptions? options = null) =>
            new PostgresStore(dataSource ?? throw new ArgumentNullException(nameof(dataSource)), options);
    }

    extension<TEvents>(TEvents)
        where TEvents : IEventsTable
    {
        /// <summary>Stores this table's events in PostgreSQL: its default store.</summary>
        public static void UsePostgres(NpgsqlDataSource dataSource) =>
            TEvents.Log.Use(SpectorStore.Postgres(dataSource));
    }
}
