namespace Spector;

/// <summary>The SQL text of one events table, built once from its validated, quoted name.</summary>
internal sealed class EventLogSql
{
    private const string EventColumns = "\"position\", \"id\", \"parent_id\", \"seq\", \"schema\", \"action\", \"payload\", \"metadata\", \"inserted_at\"";
    private readonly string _table;
    private readonly string _appendPostgres;
    private readonly string _appendSqlite;

    public EventLogSql(string table, bool hashed)
    {
        _table = table;
        var t = SqlIdentifier.Quote(table);
        const string replayColumns = "SELECT \"id\", \"seq\", \"schema\", \"action\", \"payload\" FROM ";
        Replay = $"{replayColumns}{t} WHERE \"parent_id\" = @parent_id ORDER BY \"seq\"";
        ReplayUpTo = $"{replayColumns}{t} WHERE \"parent_id\" = @parent_id AND \"seq\" <= @up_to ORDER BY \"seq\"";
        const string latestSavepoint = "SELECT MAX(\"seq\") FROM ";
        ReplayFromSavepoint = $"{replayColumns}{t} WHERE \"parent_id\" = @parent_id AND \"seq\" >= " +
            $"COALESCE(({latestSavepoint}{t} WHERE \"parent_id\" = @parent_id AND \"action\" = {EventActions.Savepoint}), 1) ORDER BY \"seq\"";
        ReplayFromSavepointUpTo = $"{replayColumns}{t} WHERE \"parent_id\" = @parent_id AND \"seq\" <= @up_to AND \"seq\" >= " +
            $"COALESCE(({latestSavepoint}{t} WHERE \"parent_id\" = @parent_id AND \"action\" = {EventActions.Savepoint} AND \"seq\" <= @up_to), 1) " +
            "ORDER BY \"seq\"";
        EventsOf = $"SELECT {EventColumns} FROM {t} WHERE \"parent_id\" = @parent_id ORDER BY \"seq\"";
        EventsOfSchema = $"SELECT {EventColumns} FROM {t} WHERE \"parent_id\" = @parent_id AND \"schema\" = @schema ORDER BY \"seq\"";
        _appendPostgres = Dialect.For(SqlDialect.PostgreSql).AppendSql(table, hashed);
        _appendSqlite = Dialect.For(SqlDialect.Sqlite).AppendSql(table, hashed);
        ChainHead = $"SELECT \"hash\" FROM {t} ORDER BY \"position\" DESC LIMIT 1";
        Chain = $"SELECT {EventColumns}, \"hash\" FROM {t} ORDER BY \"position\"";
    }

    /// <summary>id, seq, schema, action, payload of one record in order.</summary>
    public string Replay { get; }

    /// <summary>As <see cref="Replay"/>, up to and including <c>@up_to</c>.</summary>
    public string ReplayUpTo { get; }

    /// <summary>As <see cref="Replay"/>, from the record's latest savepoint.</summary>
    public string ReplayFromSavepoint { get; }

    /// <summary>As <see cref="ReplayUpTo"/>, from the latest savepoint at or before <c>@up_to</c>.</summary>
    public string ReplayFromSavepointUpTo { get; }

    /// <summary>Every column of one record's events.</summary>
    public string EventsOf { get; }

    /// <summary>Every column of one record's events of one schema.</summary>
    public string EventsOfSchema { get; }

    /// <summary>The stored hash of the last event (hashed tables).</summary>
    public string ChainHead { get; }

    /// <summary>Every event with its hash, in chain order (hashed tables).</summary>
    public string Chain { get; }

    public string Append(Dialect dialect) => dialect.Kind == SqlDialect.PostgreSql ? _appendPostgres : _appendSqlite;

    public override string ToString() => _table;
}
