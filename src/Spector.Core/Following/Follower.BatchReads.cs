using System.Data.Common;

namespace Spector;

public sealed partial class Follower
{
    /// <summary>
    /// The batch reads of one pump: one connection, and one command per events table run again with each new cursor.
    /// SQLite then prepares the statement once per pump instead of once per batch (a tenth of a catch-up's time
    /// went to preparing). No transaction stays open between batches: each read takes a fresh snapshot.
    /// </summary>
    private sealed class BatchReads(Follower follower) : IAsyncDisposable
    {
        private readonly Dictionary<string, BatchCommand> _commands = [];
        private DbConnection? _connection;

        private sealed record BatchCommand(
            DbCommand Command,
            DbParameter? TxId,
            DbParameter Position,
            DbParameter Limit
        );

        /// <summary>Up to <paramref name="limit"/> events after the table's cursor, in delivery order.</summary>
        public async Task<List<FollowedEvent>> ReadAsync(
            EventLog log,
            EventShard shard,
            int limit,
            CancellationToken ct
        )
        {
            var cursor = follower._cursors[shard.Table];
            var dialect = follower.Dialect;
            var read = await CommandAsync(shard.Table, ct).ConfigureAwait(false);
            if (read.TxId is { } txId)
                txId.Value = cursor.TxId;
            read.Position.Value = cursor.Position;
            read.Limit.Value = limit;
            // Sized for a full read once a row arrives (an empty poll allocates nothing): growing it copied every
            // reference of a 1,000-event batch about ten times.
            List<FollowedEvent>? events = null;
            await using var reader = await read.Command.ExecuteReaderAsync(ct).ConfigureAwait(false);
            while (await reader.ReadAsync(ct).ConfigureAwait(false))
            {
                var (stored, stamp) = follower.Sql.ReadRow(log, dialect, reader);
                events ??= new List<FollowedEvent>(Math.Min(limit, 8192));
                events.Add(new FollowedEvent(shard.Table, log, stored, stamp));
            }
            return events ?? [];
        }

        private async Task<BatchCommand> CommandAsync(string table, CancellationToken ct)
        {
            if (_commands.TryGetValue(table, out var existing))
                return existing;
            _connection ??= await follower.Store.OpenConnectionAsync(ct).ConfigureAwait(false);
            var command = _connection.CreateCommand();
            command.CommandText = follower.Sql.ReadBatch(table);
            var txId = follower.Dialect.Kind == SqlDialect.PostgreSql ? Add(command, "tx_id", 0L) : null;
            var read = new BatchCommand(command, txId, Add(command, "position", 0L), Add(command, "limit", 0));
            // Microsoft.Data.Sqlite keeps a statement across runs only once prepared; PostgreSQL plans a
            // parameterised read as fast as it parses it, and a server-side statement would bind the pump to one
            // backend.
            if (follower.Dialect.Kind == SqlDialect.Sqlite)
                await command.PrepareAsync(ct).ConfigureAwait(false);
            _commands[table] = read;
            return read;
        }

        private static DbParameter Add(DbCommand command, string name, object value)
        {
            var parameter = command.CreateParameter();
            parameter.ParameterName = name;
            parameter.Value = value;
            command.Parameters.Add(parameter);
            return parameter;
        }

        public async ValueTask DisposeAsync()
        {
            foreach (var read in _commands.Values)
                await read.Command.DisposeAsync().ConfigureAwait(false);
            if (_connection is not null)
                await _connection.DisposeAsync().ConfigureAwait(false);
        }
    }
}
