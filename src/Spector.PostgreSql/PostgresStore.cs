using System.Data.Common;
using Npgsql;

namespace Spector;

/// <summary>A PostgreSQL database reached through an Npgsql data source (which owns pooling).</summary>
internal sealed class PostgresStore(NpgsqlDataSource dataSource, SpectorOptions? options)
    : SpectorStore(PostgreSqlProvider.Instance, options)
{
    public override async ValueTask<DbConnection> OpenConnectionAsync(CancellationToken cancellationToken = default) =>
        await dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
}
