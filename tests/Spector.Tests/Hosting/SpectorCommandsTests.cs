using Microsoft.Extensions.DependencyInjection;
using Spector.Tool;

namespace Spector.Tests;

/// <summary>
/// The spector commands run inside an app (RunSpectorCommandAsync, the code the dotnet tool runs too) on the test
/// model's hard cases: a sharded hashed log, per-record chains, and savepoints checked against replays.
/// </summary>
[TestFixture(Db.Sqlite)]
[TestFixture(Db.Postgres)]
public sealed class SpectorCommandsTests(Db db) : DatabaseTest(db)
{
    private readonly StringWriter _output = new();
    private readonly StringWriter _error = new();

    private async Task<int> RunAsync(params string[] args)
    {
        _output.GetStringBuilder().Clear();
        _error.GetStringBuilder().Clear();
        var services = new ServiceCollection()
            .AddSingleton(StoreWith(SpectorOptions.Default))
            .Configure<SpectorServiceOptions>(o =>
            {
                o.EventsTables.Add(ShardedEvents.Log);
                o.EventsTables.Add(ReceiptEvents.Log);
            });
        await using var provider = services.BuildServiceProvider();
        return await provider.RunSpectorCommandAsync(args, new ToolConsole(_output, _error, interactive: false));
    }

    private async Task<List<ShardNote>> WriteNotesAsync()
    {
        var notes = new List<ShardNote>();
        // Ids fall on both shards; nine revisions make two savepoints each (SavepointEvery = 4).
        bool BothShards() => notes.Select(n => ShardedEvents.Log.ShardFor(n.Id).Table).Distinct().Count() == 2;
        while (notes.Count < 4 || !BothShards())
        {
            var note = await ShardNote.InsertAsync(new Attrs { ["title"] = $"note {notes.Count}", ["body"] = "b" });
            for (var i = 0; i < 9; i++)
                note = await note.ReviseAsync($"body {i}");
            notes.Add(note);
        }
        var receipt = await Receipt.InsertAsync(new Attrs { ["customer"] = "Ann", ["total"] = 10m });
        await receipt.RefundAsync(1m);
        return notes;
    }

    private string[] Lines => _output.ToString().Trim().Split('\n');

    [Test]
    public async Task Verify_checks_every_shard_the_per_record_chains_and_the_savepoints()
    {
        var notes = await WriteNotesAsync();
        var shards = notes
            .GroupBy(n => ShardedEvents.Log.ShardFor(n.Id).Table)
            .ToDictionary(g => g.Key, g => g.Count());
        Assert.That(shards.Keys, Is.EquivalentTo(new[] { "notes_even", "notes_odd" }));

        var code = await RunAsync("verify");

        Assert.That(code, Is.EqualTo(ExitCodes.Ok), _output + "\n" + _error);
        var savepoints = notes.Count * 3;
        foreach (var (shard, count) in shards)
            Assert.That(Lines, Has.Some.StartsWith($"ok      {shard}: {count * 13} events, table chain, head "));
        Assert.That(Lines, Has.Some.EqualTo("ok      receipts: 2 events, record chain"));
        Assert.That(Lines, Has.Some.EqualTo($"ok      savepoints of ShardNote: {savepoints} in {notes.Count} records"));
    }

    [Test]
    public async Task A_savepoint_that_disagrees_with_its_replay_exits_2_and_names_the_record()
    {
        var notes = await WriteNotesAsync();
        var victim = notes[0];
        var shard = ShardedEvents.Log.ShardFor(victim.Id).Table;
        await using (var connection = await OpenAsync())
        await using (var tamper = connection.CreateCommand())
        {
            // The victim's savepoints, found by the stored id's own spelling (SQLite keeps it as text, PostgreSQL as
            // uuid).
            var match = Database == Db.Postgres ? "\"id\" = @id" : "lower(\"id\") = @id";
            var victimRows =
                $"\"action\" = 4 AND \"parent_id\" = (SELECT \"parent_id\" FROM \"{shard}\" WHERE {match})";
            tamper.CommandText =
                Database == Db.Postgres
                    ? $"ALTER TABLE \"{shard}\" DISABLE TRIGGER USER; "
                        + $"UPDATE \"{shard}\" SET \"payload\" = jsonb_set(\"payload\", '{{revisions}}', '99') "
                        + $"WHERE {victimRows}"
                    : $"DROP TRIGGER \"{shard}_no_update\"; "
                        + $"UPDATE \"{shard}\" SET \"payload\" = json_set(\"payload\", '$.revisions', 99) "
                        + $"WHERE {victimRows}";
            var id = tamper.CreateParameter();
            (id.ParameterName, id.Value) = ("id", Database == Db.Postgres ? victim.Id : victim.Id.ToString());
            tamper.Parameters.Add(id);
            await tamper.ExecuteNonQueryAsync();
            tamper.CommandText = $"SELECT COUNT(*) FROM \"{shard}\" WHERE {victimRows}";
            Assert.That(
                Convert.ToInt64(await tamper.ExecuteScalarAsync()),
                Is.EqualTo(3),
                "the victim's three savepoints"
            );
        }

        var code = await RunAsync("verify");
        var chainsOnly = await RunAsync("verify", "--no-savepoints");

        Assert.That(code, Is.EqualTo(ExitCodes.VerificationFailed), _output.ToString());
        Assert.That(chainsOnly, Is.EqualTo(ExitCodes.VerificationFailed), "the edit also breaks the hash chain");
        Assert.That(Lines, Has.None.Contains("savepoints of"));
        await RunAsync("verify");
        Assert.That(Lines, Has.Some.StartsWith($"BROKEN  {shard}: HashMismatch"));
        // Four notes or more: WriteNotesAsync writes until both shards hold one, three savepoints each.
        Assert.That(Lines, Has.Some.StartsWith($"BROKEN  savepoints of ShardNote: 3 of {notes.Count * 3} differ"));
        Assert.That(Lines, Has.Some.Contains($"record {victim.Id} seq 5: revisions"));
    }

    [Test]
    public async Task Export_writes_one_file_per_shard_and_rebuild_refills_the_record_tables()
    {
        var notes = await WriteNotesAsync();
        var folder = Directory.CreateTempSubdirectory("spector-commands-").FullName;
        try
        {
            Assert.That(
                await RunAsync("export", "--output", folder, "--table", "notes"),
                Is.EqualTo(ExitCodes.Ok),
                _error.ToString()
            );
            var exported = Directory.GetFiles(folder).Select(Path.GetFileName).Order().ToList();
            Assert.That(exported, Is.EqualTo(new[] { "notes_even.jsonl", "notes_odd.jsonl" }));
            Assert.That(
                exported.Sum(f => File.ReadAllLines(Path.Combine(folder, f!)).Length),
                Is.EqualTo(notes.Count * 13)
            );
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
        Assert.That(await RunAsync("export", "--table", "nope"), Is.EqualTo(ExitCodes.Error));
        Assert.That(_error.ToString(), Does.Contain("No events table named nope; the app's are notes, receipts"));

        await using (var connection = await OpenAsync())
        await using (var wipe = connection.CreateCommand())
        {
            wipe.CommandText = "DELETE FROM \"sharded_notes\"";
            await wipe.ExecuteNonQueryAsync();
        }
        Assert.That(await RunAsync("rebuild"), Is.EqualTo(ExitCodes.Ok), _error.ToString());
        Assert.That(Lines, Has.Some.EqualTo($"ok      sharded_notes: {notes.Count} records, {notes.Count} rows"));
        Assert.That((await ShardNote.GetAsync(notes[2].Id))!.Revisions, Is.EqualTo(9));
    }
}
