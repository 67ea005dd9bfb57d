using System.Data.Common;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace Spector;

/// <summary>PostgreSQL through Npgsql: SQLSTATE classification and LISTEN for followers.</summary>
public sealed class PostgreSqlProvider : SpectorProvider
{
    private PostgreSqlProvider()
        : base(SqlDialect.PostgreSql) { }

    /// <summary>The one instance (the provider holds no state).</summary>
    public static PostgreSqlProvider Instance { get; } = new();

    /// <summary>A store over a data source made from <paramref name="connectionString"/>, which the host
    /// disposes.</summary>
    public override (SpectorStore Store, IAsyncDisposable? Owned) CreateStore(
        string connectionString,
        SpectorOptions? options
    )
    {
        var dataSource = NpgsqlDataSource.Create(connectionString);
        return (new PostgresStore(dataSource, options), dataSource);
    }

    /// <summary>
    /// A store over the <see cref="NpgsqlDataSource"/> registered in <paramref name="services"/> (as
    /// <c>AddNpgsqlDataSource</c> registers it; with <paramref name="serviceKey"/>, the one registered under that
    /// key), or null without one.
    /// </summary>
    public override SpectorStore? CreateStore(IServiceProvider services, object? serviceKey, SpectorOptions? options)
    {
        var registered =
            serviceKey is null ? services.GetService(typeof(NpgsqlDataSource))
            : services is IKeyedServiceProvider keyed ? keyed.GetKeyedService(typeof(NpgsqlDataSource), serviceKey)
            : null;
        return registered is NpgsqlDataSource dataSource ? new PostgresStore(dataSource, options) : null;
    }

    /// <inheritdoc/>
    protected internal override bool Handles(DbConnection connection) => connection is NpgsqlConnection;

    // A COMMIT at the end of a command ends the transaction server-side; NpgsqlTransaction then reports itself
    // completed, so disposing it sends nothing.
    /// <inheritdoc/>
    protected internal override bool CommitsInCommand => true;

    // Npgsql keeps a prepared statement per physical connection and finds it again by its SQL text, so preparing a
    // command whose text that connection already prepared costs nothing; the server then parses and plans each of
    // Spector's statements once per connection instead of on every write.
    /// <inheritdoc/>
    protected internal override bool PreparesCommands => true;

    /// <inheritdoc/>
    protected internal override bool IsSerializationFailure(DbException error) =>
        error
            is PostgresException
            {
                SqlState: PostgresErrorCodes.SerializationFailure or PostgresErrorCodes.DeadlockDetected,
            };

    /// <inheritdoc/>
    protected internal override bool IsLinkRejected(DbException error) =>
        error is PostgresException { SqlState: SqlStates.LinkRejected };

    /// <inheritdoc/>
    protected internal override bool IsAppendOnlyViolation(DbException error) =>
        error is PostgresException { SqlState: SqlStates.AppendOnly };

    /// <inheritdoc/>
    protected internal override string MessageText(DbException error) =>
        error is PostgresException pg ? pg.MessageText : error.Message;

    /// <inheritdoc/>
    protected internal override async Task<SpectorListener?> ListenAsync(
        SpectorStore store,
        string channel,
        CancellationToken ct
    )
    {
        var connection = (NpgsqlConnection)await store.OpenConnectionAsync(ct).ConfigureAwait(false);
        try
        {
            await using var command = new NpgsqlCommand($"LISTEN {channel}", connection);
            await command.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
            return new PostgresListener(connection);
        }
        catch
        {
            await connection.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    private sealed class PostgresListener(NpgsqlConnection connection) : SpectorListener
    {
        public override Task<bool> WaitAsync(TimeSpan timeout, CancellationToken cancellationToken) =>
            connection.WaitAsync(timeout, cancellationToken);

        public override bool IsConnectionFailure(Exception error) =>
            error is NpgsqlException or InvalidOperationException or IOException;

        public override ValueTask DisposeAsync() => connection.DisposeAsync();
    }
}
