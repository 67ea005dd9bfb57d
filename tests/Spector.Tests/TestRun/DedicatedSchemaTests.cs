using Dapper;
using Npgsql;
using Spector.Testing;

namespace Spector.Tests;

/// <summary>
/// SPECTOR_TEST_POSTGRES may name a real database. The tests reset their tables by dropping them, so they
/// work in a schema of their own: a user's tables of the very same names stay as they were.
/// </summary>
[TestFixture]
public sealed class DedicatedSchemaTests
{
    [Test]
    public async Task Resetting_and_writing_in_the_test_schema_leaves_a_databases_own_tables_alone()
    {
        var database = $"spector_user_{Guid.NewGuid():N}"[..24];
        await using var server = NpgsqlDataSource.Create(PostgresServer.ConnectionString);
        await server.CreateCommand($"CREATE DATABASE \"{database}\"").ExecuteNonQueryAsync();
        var userDatabase = new NpgsqlConnectionStringBuilder(PostgresServer.ConnectionString)
        {
            Database = database,
            Pooling = false,
        };
        try
        {
            await using (var user = new NpgsqlConnection(userDatabase.ConnectionString))
            {
                await user.OpenAsync();
                // The user's tables carry the names the test model migrates and drops.
                await user.ExecuteAsync(
                    """
                    CREATE TABLE "events" ("note" text);
                    INSERT INTO "events" VALUES ('ledger of 2025');
                    CREATE TABLE "users" ("name" text);
                    INSERT INTO "users" VALUES ('Ada');
                    """
                );
            }

            string schemaName;
            await using (var schema = await PostgresSchema.CreateAsync(userDatabase.ConnectionString))
            {
                schemaName = schema.Name;
                var log = AppEvents.Log;
                log.Use(SpectorStore.Postgres(schema.DataSource));
                await log.MigrateDownAsync();
                await log.MigrateUpAsync();
                var created = await User.InsertAsync(new Attrs { ["name"] = "Cy", ["email"] = "cy@example.com" });
                Assert.That((await User.GetAsync(created.Id))!.Name, Is.EqualTo("Cy"));
                await log.MigrateDownAsync();
            }

            await using var after = new NpgsqlConnection(userDatabase.ConnectionString);
            await after.OpenAsync();
            Assert.That(
                await after.QueryAsync<string>("SELECT \"note\" FROM public.\"events\""),
                Is.EqualTo(new[] { "ledger of 2025" })
            );
            Assert.That(
                await after.QueryAsync<string>("SELECT \"name\" FROM public.\"users\""),
                Is.EqualTo(new[] { "Ada" })
            );
            Assert.That(
                await after.ExecuteScalarAsync<long>(
                    "SELECT COUNT(*) FROM pg_namespace WHERE nspname = @schemaName",
                    new { schemaName }
                ),
                Is.EqualTo(0),
                "the test schema is dropped after the run"
            );
        }
        finally
        {
            await server.CreateCommand($"DROP DATABASE IF EXISTS \"{database}\" WITH (FORCE)").ExecuteNonQueryAsync();
        }
    }
}
