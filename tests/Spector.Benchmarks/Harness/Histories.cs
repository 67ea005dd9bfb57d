using System.Globalization;
using Dapper;
using Spector.Benchmarks.Model;

namespace Spector.Benchmarks.Harness;

/// <summary>
/// Records with a given number of events, bulk-loaded in Spector's stored format: an insert, then updates,
/// and (for <see cref="SavedAccount"/>) a savepoint every <see cref="SavedAccount.Interval"/> events, as SavepointEvery
/// writes them.
/// </summary>
internal static class Histories
{
    public static async Task<Guid[]> LoadAsync(BenchDatabase db, bool savepoints, int history, int records)
    {
        var ids = Enumerable.Range(0, records).Select(_ => Guid.CreateVersion7()).ToArray();
        var schema = savepoints ? 1 : 0;
        await EventRowLoader.LoadAsync(
            db.Store,
            "bench_events",
            hashed: false,
            ids.SelectMany(id => Rows(id, schema, savepoints, history))
        );
        await using var connection = await db.Store.OpenConnectionAsync();
        await using var tx = await connection.BeginTransactionAsync();
        await connection.ExecuteAsync(
            $"INSERT INTO \"{(savepoints ? "bench_saved_accounts" : "bench_accounts")}\" "
                + "(\"id\", \"owner\", \"balance\", \"memo\") VALUES (@id, 'owner', @balance, @memo)",
            ids.Select(id => new
            {
                id,
                balance = (decimal)history,
                memo = $"update {history}",
            }),
            tx
        );
        // Each record's head row, as Spector's own writes (or the migration that adds the heads table) leave it:
        // without it every first update would pay for making the head from the log, once per record.
        var lastAt = At(history);
        await connection.ExecuteAsync(
            "INSERT INTO \"bench_events_heads\" (\"record_id\", \"schema\", \"last_seq\", \"last_hash\", \"deleted\", "
                + "\"savepoint_seq\", \"last_at\") VALUES (@id, @schema, @history, NULL, @deleted, @savepoint, @at)",
            ids.Select(id => new
            {
                id,
                schema,
                history = (long)history,
                deleted = false,
                savepoint = savepoints ? (long)(history - history % SavedAccount.Interval) : 0L,
                at = db.Store.Dialect == SqlDialect.Sqlite ? (object)EventHash.Micros(lastAt) : lastAt,
            }),
            tx
        );
        await tx.CommitAsync();
        // Fold the bulk load into the database file now, so the first measured commits do not pay for it.
        if (db.Store.Dialect == SqlDialect.Sqlite)
            await connection.ExecuteAsync("PRAGMA wal_checkpoint(TRUNCATE)");
        return ids;
    }

    private static readonly DateTimeOffset Start = DateTimeOffset.UtcNow.AddDays(-1);

    /// <summary>The time of event <paramref name="seq"/> of every loaded history.</summary>
    private static DateTimeOffset At(long seq) => Start.AddTicks(seq * 10);

    private static IEnumerable<EventRow> Rows(Guid recordId, int schema, bool savepoints, int history)
    {
        for (var seq = 1; seq <= history; seq++)
        {
            var id = seq == 1 ? recordId : Guid.CreateVersion7();
            var stamp = AttrConvert.FormatTimestamp(At(seq));
            var (action, payload) =
                seq == 1
                    ? (
                        EventActions.Insert,
                        $$"""{"__version__":1,"__event_id__":"{{id}}","inserted_at":"{{stamp}}","updated_at":"""
                            + $$"""
                            "{{stamp}}","owner":"owner","balance":0}
                            """
                    )
                : savepoints && seq % SavedAccount.Interval == 0
                    ? (
                        EventActions.Savepoint,
                        string.Create(
                            CultureInfo.InvariantCulture,
                            $$"""{"__version__":1,"__event_id__":"{{id}}","owner":"owner","balance":{{seq - 1}},"""
                                + $$"""
                                "memo":"update {{seq - 1}}"}
                                """
                        )
                    )
                : (
                    EventActions.Update,
                    string.Create(
                        CultureInfo.InvariantCulture,
                        $$"""{"__version__":1,"__event_id__":"{{id}}","updated_at":"{{stamp}}","balance":{{seq}},"""
                            + $$"""
                            "memo":"update {{seq}}"}
                            """
                    )
                );
            yield return new EventRow(id, recordId, seq, schema, action, payload, At(seq));
        }
    }
}
