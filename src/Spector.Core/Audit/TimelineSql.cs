using System.Data.Common;

namespace Spector;

/// <summary>
/// The SQL of one timeline page of one events table: the query's filters as conditions on indexed columns, keyset
/// paging and a LIMIT. An unsharded log pages on <c>position</c>; a shard of a sharded log on (<c>inserted_at</c>,
/// shard, <c>position</c>), the order its shards merge in (<see cref="TimelineKey"/>). Only fixed column names and
/// the validated table name reach the text; every value is a parameter.
/// </summary>
internal sealed class TimelineSql
{
    private readonly List<string> _conditions = [];
    private readonly List<(string Name, object Value)> _parameters = [];
    private string _with = "";

    // chain: on a sharded log, the causation chain's members found across every shard (CausationChain); null to
    // walk the chain in SQL within this table.
    public TimelineSql(
        EventLog log,
        EventShard shard,
        int shardIndex,
        Dialect dialect,
        TimelineQuery query,
        TimelineKey? after,
        int limit,
        IReadOnlyCollection<string>? chain = null
    )
    {
        var t = SqlIdentifier.Quote(shard.Table);
        if (query.Actor is { } actor)
        {
            Add("\"actor_type\" = @actor_type", "actor_type", actor.Type);
            Add("\"actor_id\" = @actor_id", "actor_id", actor.Id);
        }
        if (query.CorrelationId is { } correlation)
            Add("\"correlation_id\" = @correlation_id", "correlation_id", correlation);
        if (query.TraceId is { } trace)
            Add("\"trace_id\" = @trace_id", "trace_id", trace);
        if (query.RecordId is { } record)
            Add("\"parent_id\" = @parent_id", "parent_id", record);
        if (query.Schema is { } schema)
            Add("\"schema\" = @schema", "schema", schema);
        if (query.Action is { } action)
            Add("\"action\" = @action", "action", ActionCode(log, action));
        if (query.From is { } from)
            Add("\"inserted_at\" >= @from", "from", dialect.Timestamp(TimeRange.Bound(from)));
        if (query.To is { } to)
            Add("\"inserted_at\" < @to", "to", dialect.Timestamp(TimeRange.Bound(to)));
        if (query.CausedBy is { } root)
        {
            if (chain is null)
                AddCausationChain(t, dialect, root);
            else
                AddChainMembers(dialect, root, chain);
        }
        var newest = query.NewestFirst;
        var order = newest ? "DESC" : "ASC";
        var byTime = log.IsSharded;
        if (after is { } key)
            AddKeyset(key, shardIndex, byTime, newest, dialect);
        _parameters.Add(("limit", limit));
        var where = _conditions.Count == 0 ? "" : " WHERE " + string.Join(" AND ", _conditions);
        var orderBy = byTime ? $"\"inserted_at\" {order}, \"position\" {order}" : $"\"position\" {order}";
        Text = $"{_with}SELECT {EventLogSql.EventColumns} FROM {t}{where} ORDER BY {orderBy} LIMIT @limit";
    }

    /// <summary>
    /// The events after <paramref name="key"/> in the timeline's order. By position: below (newest first) or above
    /// it. By time across shards: an earlier (later) instant; at the same instant, a shard ordered after the key's
    /// (newest first: before it), or the key's own shard past its position.
    /// </summary>
    private void AddKeyset(TimelineKey key, int shardIndex, bool byTime, bool newest, Dialect dialect)
    {
        var past = newest ? "<" : ">";
        if (!byTime)
        {
            Add($"\"position\" {past} @after", "after", key.Position);
            return;
        }
        _parameters.Add(("after_at", dialect.Timestamp(key.At)));
        var shardAfterKeys = newest ? shardIndex < key.Shard : shardIndex > key.Shard;
        if (shardIndex == key.Shard)
        {
            _conditions.Add(
                $"(\"inserted_at\" {past} @after_at "
                    + $"OR (\"inserted_at\" = @after_at AND \"position\" {past} @after))"
            );
            _parameters.Add(("after", key.Position));
        }
        else
        {
            _conditions.Add($"\"inserted_at\" {past}{(shardAfterKeys ? "=" : "")} @after_at");
        }
    }

    public string Text { get; }

    public void Bind(DbCommand command)
    {
        command.CommandText = Text;
        foreach (var (name, value) in _parameters)
            EventReader.AddParameter(command, name, value);
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
        // The root as written and in the canonical form causation ids are stored in (events stored before GUIDs
        // were made canonical keep the spelling they were given).
        _with =
            "WITH RECURSIVE \"chain\"(\"id\") AS (SELECT \"column1\" FROM "
            + "(VALUES (CAST(@root AS text)), (CAST(@root_given AS text))) AS \"roots\" UNION "
            + $"SELECT {idText} FROM {table} e JOIN \"chain\" c ON e.\"causation_id\" = c.\"id\") ";
        _parameters.Add(("root", ContextText.CanonicalGuid(root)!));
        _parameters.Add(("root_given", root));
        var members = "\"causation_id\" IN (SELECT \"id\" FROM \"chain\")";
        if (Guid.TryParse(root, out var rootId))
        {
            _conditions.Add($"({members} OR \"id\" = @root_id)");
            _parameters.Add(("root_id", rootId));
        }
        else
        {
            _conditions.Add(members);
        }
    }

    /// <summary>The chain as a list of members found beforehand: the root, and every event id that is a
    /// cause.</summary>
    private void AddChainMembers(Dialect dialect, string root, IReadOnlyCollection<string> chain)
    {
        var members =
            dialect.Kind == SqlDialect.PostgreSql
                ? "\"causation_id\" = ANY(@chain)"
                : "\"causation_id\" IN (SELECT \"value\" FROM json_each(@chain))";
        _parameters.Add(
            (
                "chain",
                dialect.Kind == SqlDialect.PostgreSql
                    ? chain.ToArray()
                    : System.Text.Json.JsonSerializer.Serialize(chain.ToArray(), SpectorJsonContext.Default.StringArray)
            )
        );
        if (Guid.TryParse(root, out var rootId))
        {
            _conditions.Add($"({members} OR \"id\" = @root_id)");
            _parameters.Add(("root_id", rootId));
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
            if (EventActions.NameOf(code) == action)
                return code;
        foreach (var info in log.Actions)
            if (info.Name == action)
                return info.Code;
        throw new ArgumentException(
            $"Events table {log.Table} has no action '{action}'; its actions are insert, update, delete, savepoint"
                + string.Concat(log.Actions.Select(a => ", " + a.Name))
                + ".",
            nameof(action)
        );
    }
}
