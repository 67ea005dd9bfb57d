using Npgsql;

namespace Spector.Testing;

/// <summary>
/// A schema of its own in a PostgreSQL database, made first on the search path of every connection its data
/// source opens, and dropped with everything in it on dispose. Tests and benchmarks create and drop their tables
/// here, so a connection string that names a real database never reaches tables they did not create.
/// </summary>
public sealed class PostgresSchema : IAsyncDisposable
{
    private readonly NpgsqlDataSource _admin;

    private PostgresSchema(string name, NpgsqlDataSource admin, NpgsqlDataSource dataSource)
    {
        Name = name;
        _admin = admin;
        DataSource = dataSource;
    }

    /// <summary>The schema's name: <c>spector_test_</c> and a random suffix, so parallel runs never share
    /// one.</summary>
    public string Name { get; }

    /// <summary>Opens connections whose search path is this schema alone.</summary>
    public NpgsqlDataSource DataSource { get; }

    public static async Task<PostgresSchema> CreateAsync(string connectionString)
    {
        var name = $"spector_test_{Guid.NewGuid():N}"[..25];
        var admin = NpgsqlDataSource.Create(connectionString);
        try
        {
            await using (var create = admin.CreateCommand($"CREATE SCHEMA \"{name}\""))
                await create.ExecuteNonQueryAsync();
        }
        catch
        {
            await admin.DisposeAsync();
            throw;
        }
        var scoped = new NpgsqlConnectionStringBuilder(connectionString) { SearchPath = name };
        return new PostgresSchema(name, admin, NpgsqlDataSource.Create(scoped.ConnectionString));
    }

    public async ValueTask DisposeAsync()
    {
        await DataSource.DisposeAsync();
        await using (var drop = _admin.CreateCommand($"DROP SCHEMA IF EXISTS \"{Name}\" CASCADE"))
            await drop.ExecuteNonQueryAsync();
        await _admin.DisposeAsync();
    }
}
