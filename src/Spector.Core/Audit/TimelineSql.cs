using System.Data.Common;

namespace Spector;

/// <summary>
/// The SQL of one timeline page: the query's filters as conditions on indexed columns, keyset paging on
/// <c>position</c> and a LIMIT. Only fixed column names and the validated table name reach the text; every
/// value is a parameter.
/// </summary>
internal sealed class TimelineSql
{
    private readonly List<string> _conditions = [];
    private readonly List<(string Name, object Value)> _parameters = [];
    private string _with = "";

    public TimelineSql(EventLog log, EventShard shard, Dialect dialect, TimelineQuery query, long? afterPosition,
        int limit)
    {
        var t = SqlIdentifier.Quote(shard.Table);
        if (query.Actor is { } actor)
        {
            Add("\"actor_type\" = @actor_type", "actor_type", actor.Type);
            Add("\"actor_id\" = @actor_id", "actor_id", actor.Id);
        }
        if (query.CorrelationId is { } correlation)
            Add("\"correlation_id\" = @correlation_id", "correlation_id", correlation);
        if (query.TraceId is { } trace) Add("\"trace_id\" = @trace_id", "trace_id", trace);
        if (query.RecordId is { } record) Add("\"parent_id\" = @parent_id", "parent_id", record);
        if (query.Schema is { } schema) Add("\"schema\" = @schema", "schema", schema);
        if (query.Action is { } action) Add("\"action\" = @action", "action", ActionCode(log, action));
        if (query.From is { } from) Add("\"inserted_at\" >= @from", "from", dialect.Timestamp(from));
        if (query.To is { } to) Add("\"inserted_at\" < @to", "to", dialect.Timestamp(to));
        if (query.CausedBy is { } root) AddCausationChain(t, dialect, root);
        var newest = query.NewestFirst;
        if (afterPosition is { } after) Add(newest ? "\"position\" < @after" : "\"position\" > @after", "after", after);
        _parameters.Add(("limit", limit));
        var where = _conditions.Count == 0 ? "" : " WHERE " + string.Join(" AND ", _conditions);
        var order = newest ? "DESC" : "ASC";
        Text = $"{_with}SELECT {EventLogSql.EventColumns} FROM {t}{where} ORDER BY \"position\" {order} LIMIT @limit";
    }

    public string Text { get; }

    public void Bind(DbCommand command)
    {
        command.CommandText = Text;
        foreach (var (name, value) in _parameters) EventReader.AddParameter(command, name, value);
    }

    private void Add(string condition, string name, object value)
    {
        _conditions.Add(condition);
        _parameters.Add((name, value));
    }

    /// <summary>
    /// The chain as a recursive CTE over the causation index: the root id, then the ids of the events that
    /// name a chain member as their cause, until none is added (UNION drops repeats, so a cycle ends too).
    /// </summary>
    private void AddCausationChain(string table, Dialect dialect, string root)
    {
        // Event ids as text: PostgreSQL's uuid::text is lowercase; Microsoft.Data.Sqlite stores them uppercase.
        var idText = dialect.Kind == SqlDialect.PostgreSql ? "e.\"id\"::text" : "lower(e.\"id\")";
        var rootId = Guid.TryParse(root, out var eventId) ? eventId : (Guid?)null;
        var rootText = rootId?.ToString("D") ?? root;
        _with = "WITH RECURSIVE \"chain\"(\"id\") AS (SELECT CAST(@root AS text) UNION " +
                $"SELECT {idText} FROM {table} e JOIN \"chain\" c ON e.\"causation_id\" = c.\"id\") ";
        _parameters.Add(("root", rootText));
        var members = "\"causation_id\" IN (SELECT \"id\" FROM \"chain\")";
        if (rootId is { } id)
        {
            _conditions.Add($"({members} OR \"id\" = @root_id)");
            _parameters.Add(("root_id", id));
        }
        else
        {
            _conditions.Add(members);
        }
    }

    public static int ActionCode(EventLog log, string action)
    {
        int[] baseCodes = [EventActions.Insert, EventActions.Update, EventActions.Delete, EventActions.Savepoint];
        foreach (var code in baseCodes)
            if (EventActions.NameOf(code) == action) return code;
        foreach (var info in log.Actions)
            if (info.Name == action) return info.Code;
        throw new ArgumentException(
            $"Events table {log.Table} has no action '{action}'; its actions are insert, update, delete, savepoint" +
            string.Concat(log.Actions.Select(a => ", " + a.Name)) + ".", nameof(action));
    }
}
