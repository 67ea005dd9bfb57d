namespace Spector;

/// <summary>
/// A causation chain across the shards of a sharded log, where one table's recursive query cannot follow a cause
/// into another shard: breadth first, one query per shard and step, each asking which events name a member found
/// so far as their cause. The set only grows and repeats are dropped, so a cycle written by hand ends too.
/// </summary>
internal static class CausationChain
{
    /// <summary>The root (event ids in their lowercase hyphenated form) and the ids of every event it caused,
    /// transitively.</summary>
    public static async Task<IReadOnlyCollection<string>> MembersAsync(
        EventLog log,
        ConnectionLease lease,
        string root,
        CancellationToken ct
    )
    {
        // The root as written and canonical, as the recursive query in one table starts (TimelineSql).
        var members = new HashSet<string>(StringComparer.Ordinal) { ContextText.CanonicalGuid(root)!, root };
        var frontier = members.ToList();
        var postgres = lease.Dialect.Kind == SqlDialect.PostgreSql;
        while (frontier.Count > 0)
        {
            var next = new List<string>();
            foreach (var shard in log.Shards)
            {
                await using var command = lease.Connection.CreateCommand();
                command.Transaction = lease.Transaction;
                var t = SqlIdentifier.Quote(shard.Table);
                // Event ids as text: PostgreSQL's uuid::text is lowercase; Microsoft.Data.Sqlite stores them uppercase.
                command.CommandText = postgres
                    ? $"SELECT \"id\"::text FROM {t} WHERE \"causation_id\" = ANY(@causes)"
                    : $"SELECT lower(\"id\") FROM {t} "
                        + "WHERE \"causation_id\" IN (SELECT \"value\" FROM json_each(@causes))";
                EventReader.AddParameter(
                    command,
                    "causes",
                    postgres
                        ? frontier.ToArray()
                        : System.Text.Json.JsonSerializer.Serialize(
                            frontier.ToArray(),
                            SpectorJsonContext.Default.StringArray
                        )
                );
                await using var reader = await command.ExecuteReaderAsync(ct).ConfigureAwait(false);
                while (await reader.ReadAsync(ct).ConfigureAwait(false))
                {
                    var id = reader.GetString(0);
                    if (members.Add(id))
                        next.Add(id);
                }
            }
            frontier = next;
        }
        return members;
    }
}
