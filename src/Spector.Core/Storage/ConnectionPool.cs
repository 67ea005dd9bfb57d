using System.Data.Common;

namespace Spector;

/// <summary>
/// Open connections a store keeps between Spector's own writes, each with the commands it has run. A driver that
/// prepares a command's statements on every execution and drops them when the connection closes (Microsoft.Data.Sqlite)
/// then prepares each statement once per connection instead of once per write, and per-connection setup runs once.
/// Only an operation that ended cleanly gives its connection back; the pool keeps at most a few idle ones.
/// </summary>
internal sealed class ConnectionPool : IAsyncDisposable
{
    // Enough for the writers a process runs at once on one database file; more would only hold file handles.
    private const int IdleLimit = 16;

    private readonly Func<CancellationToken, ValueTask<DbConnection>> _open;
    private readonly Func<DbConnection, bool> _usable;
    private readonly Stack<PooledConnection> _idle = new();
    private readonly Lock _gate = new();
    private bool _disposed;

    /// <param name="open">Opens a connection and applies its settings.</param>
    /// <param name="usable">
    /// Whether an idle connection may serve another operation: open, no transaction left, still on the database
    /// the store names.
    /// </param>
    public ConnectionPool(Func<CancellationToken, ValueTask<DbConnection>> open, Func<DbConnection, bool> usable)
    {
        _open = open;
        _usable = usable;
    }

    /// <summary>An idle connection that is still usable, or a new one.</summary>
    public async ValueTask<PooledConnection> RentAsync(CancellationToken ct)
    {
        while (TakeIdle() is { } idle)
        {
            if (_usable(idle.Connection))
                return idle;
            await idle.DisposeAsync().ConfigureAwait(false);
        }
        return new PooledConnection(await _open(ct).ConfigureAwait(false));
    }

    /// <summary>
    /// Takes back a connection whose operation ended cleanly; a failed operation's connection is closed instead,
    /// whatever state the error left it in.
    /// </summary>
    public ValueTask ReturnAsync(PooledConnection connection, bool succeeded)
    {
        // Whether it is still usable is asked when it is next rented: that covers the time it waits here too.
        if (succeeded)
            lock (_gate)
                if (!_disposed && _idle.Count < IdleLimit)
                {
                    _idle.Push(connection);
                    return ValueTask.CompletedTask;
                }
        return connection.DisposeAsync();
    }

    /// <summary>Closes the idle connections; connections in use close when their operations end.</summary>
    public async ValueTask DisposeAsync()
    {
        PooledConnection[] idle;
        lock (_gate)
        {
            _disposed = true;
            idle = [.. _idle];
            _idle.Clear();
        }
        foreach (var connection in idle)
            await connection.DisposeAsync().ConfigureAwait(false);
    }

    private PooledConnection? TakeIdle()
    {
        lock (_gate)
            return _idle.TryPop(out var idle) ? idle : null;
    }
}

/// <summary>A connection of a <see cref="ConnectionPool"/> and the commands prepared on it, by SQL text.</summary>
internal sealed class PooledConnection(DbConnection connection) : IAsyncDisposable
{
    // A few statements per events table; an application with many tables keeps the most used ones here.
    private const int CommandLimit = 64;

    private readonly Dictionary<string, DbCommand> _commands = new(StringComparer.Ordinal);
    private readonly HashSet<DbCommand> _busy = [];

    public DbConnection Connection { get; } = connection;

    /// <summary>
    /// The command kept for <paramref name="sql"/>, with no parameters, or null when it is in use (a nested
    /// operation on the same text) or the cache is full: the caller then makes a command of its own.
    /// </summary>
    public DbCommand? Rent(string sql)
    {
        if (!_commands.TryGetValue(sql, out var command))
        {
            if (_commands.Count >= CommandLimit)
                return null;
            command = Connection.CreateCommand();
            command.CommandText = sql;
            _commands.Add(sql, command);
        }
        if (!_busy.Add(command))
            return null;
        command.Parameters.Clear();
        return command;
    }

    /// <summary>
    /// Takes back a command <see cref="Rent"/> lent (its parameters are dropped, its statements kept); false for
    /// any other command.
    /// </summary>
    public bool Return(DbCommand command)
    {
        if (!_busy.Remove(command))
            return false;
        command.Parameters.Clear();
        command.Transaction = null;
        return true;
    }

    /// <summary>Closes the commands (finalizing their statements) and the connection.</summary>
    public async ValueTask DisposeAsync()
    {
        foreach (var command in _commands.Values)
            await command.DisposeAsync().ConfigureAwait(false);
        _commands.Clear();
        await Connection.DisposeAsync().ConfigureAwait(false);
    }
}
