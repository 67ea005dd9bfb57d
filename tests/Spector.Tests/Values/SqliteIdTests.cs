using System.Text.Json;
using Dapper;

namespace Spector.Tests;

/// <summary>
/// SQLite ids: the DDL, docs/storage.md and the stored values agree (TEXT, the upper-case hyphenated form
/// Microsoft.Data.Sqlite binds a Guid as), the hash envelope and exports use the lower-case canonical form, and a
/// file whose tables were made by the older DDL that declared BLOB keeps working.
/// </summary>
[TestFixture(Db.Sqlite)]
public sealed class SqliteIdTests(Db db) : DatabaseTest(db)
{
    [Test]
    public async Task Ids_are_declared_and_stored_as_upper_case_text_and_hashed_in_lower_case()
    {
        var account = await LedgerAccount.InsertAsync(new Attrs { ["owner"] = "Ann" });

        await using var connection = await OpenAsync();
        var declared = await connection.QueryAsync<string>(
            "SELECT \"type\" FROM pragma_table_info('ledger') WHERE \"name\" IN ('id', 'parent_id')"
        );
        Assert.That(declared, Is.EqualTo(new[] { "TEXT", "TEXT" }));
        var (type, text) = await connection.QuerySingleAsync<(string, string)>(
            "SELECT typeof(\"id\"), \"id\" FROM \"ledger\""
        );
        Assert.That((type, text), Is.EqualTo(("text", account.Id.ToString("D").ToUpperInvariant())));
        Assert.That(
            await connection.QuerySingleAsync<string>(
                "SELECT \"type\" FROM pragma_table_info('ledger_heads') WHERE \"name\" = 'record_id'"
            ),
            Is.EqualTo("TEXT")
        );
        var heads = await connection.QueryAsync<(string, string)>(
            "SELECT typeof(\"record_id\"), \"record_id\" FROM \"ledger_heads\" WHERE \"schema\" >= 0"
        );
        Assert.That(
            heads,
            Is.EqualTo(new[] { ("text", account.Id.ToString("D").ToUpperInvariant()) }),
            "the heads table too"
        );

        using var export = new MemoryStream();
        await LedgerEvents.Log.ExportChainAsync(export);
        var line = JsonDocument.Parse(export.ToArray()).RootElement;
        Assert.That(line.GetProperty("id").GetString(), Is.EqualTo(account.Id.ToString("D")), "the envelope's form");
    }

    [Test]
    public async Task A_file_made_by_the_older_ddl_that_declared_blob_ids_is_read_and_written()
    {
        await ExecuteRawAsync("DROP TABLE \"ledger\"");
        // The events table as earlier versions created it.
        await ExecuteRawAsync(
            """
            CREATE TABLE "ledger" (
                "position" INTEGER PRIMARY KEY AUTOINCREMENT,
                "hash" BLOB NOT NULL,
                "id" BLOB NOT NULL UNIQUE,
                "parent_id" BLOB NOT NULL,
                "seq" INTEGER NOT NULL CHECK ("seq" >= 1),
                "schema" INTEGER NOT NULL,
                "action" INTEGER NOT NULL,
                "payload" TEXT NOT NULL,
                "metadata" TEXT NULL,
                "idempotency_key" TEXT NULL,
                "inserted_at" INTEGER NOT NULL,
                UNIQUE ("parent_id", "seq")
            )
            """
        );
        await LedgerEvents.Log.MigrateUpAsync();

        var account = await LedgerAccount.InsertAsync(new Attrs { ["owner"] = "Old" });
        await account.PostAsync(12.5m, "first");
        await (await LedgerAccount.GetAsync(account.Id))!.PostAsync(0.25m, "second");

        var replayed = (await LedgerAccount.GetAsync(account.Id))!;
        Assert.That(replayed.Balance, Is.EqualTo(12.75m));
        Assert.That(await LedgerAccount.AllEventsAsync(account.Id), Has.Count.EqualTo(3));
        Assert.That((await LedgerEvents.Log.VerifyHashChainAsync()).IsValid, Is.True);
        Assert.That(
            await CountAsync("ledger", "\"parent_id\" = @id", new { id = account.Id }),
            Is.EqualTo(3),
            "a Guid parameter finds the stored text"
        );
    }
}
