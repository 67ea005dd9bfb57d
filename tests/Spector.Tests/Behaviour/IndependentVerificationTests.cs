using System.Diagnostics;

namespace Spector.Tests;

/// <summary>
/// A chain written by Spector is re-verified by tools/verify-chain: Node's crypto plus the public RFC 8785
/// package "canonicalize", sharing no code with Spector. It installs its package itself on first use.
/// </summary>
[TestFixture(Db.Sqlite)]
[TestFixture(Db.Postgres)]
public sealed class IndependentVerificationTests(Db db) : DatabaseTest(db)
{
    private static readonly string Tool = Path.Combine(FindRoot(), "tools", "verify-chain");

    [OneTimeSetUp]
    public static async Task InstallAsync()
    {
        if (!Directory.Exists(Path.Combine(Tool, "node_modules", "canonicalize")))
            await RunAsync("npm", "ci", "--no-audit", "--no-fund");
    }

    [Test]
    public async Task An_exported_chain_verifies_with_an_off_the_shelf_jcs_library_and_tampering_is_caught()
    {
        for (var i = 0; i < 5; i++)
        {
            var account = await LedgerAccount.InsertAsync(
                Attrs.Parse(
                    $$"""{"owner":"Zoë {{i}} 🚀 \"q\" \\ \t","deep":"""
                        + """{"b":[1,{"a":null}],"a":1e-7},"big":9007199254740993,"money":0.1,"huge":1e300}"""
                )
            );
            await account.PostAsync(1234567.891m, "ünïcødé");
            await account.UpdateAsync(new Attrs { ["note"] = "€" });
        }
        var head = (await LedgerEvents.Log.VerifyHashChainAsync()).Head!;
        var file = Path.Combine(Path.GetTempPath(), $"spector-chain-{Guid.NewGuid():N}.jsonl");
        try
        {
            await using (var output = File.Create(file))
                Assert.That(await LedgerEvents.Log.ExportChainAsync(output), Is.EqualTo(15));

            var (code, text) = await RunAsync("node", "verify.mjs", file, head.ToString());
            Assert.That(code, Is.EqualTo(0), text);
            Assert.That(text, Does.Contain($"ok: 15 events, head {head}"));

            var lines = await File.ReadAllLinesAsync(file);
            lines[7] = lines[7].Replace("memo", "mem0");
            await File.WriteAllLinesAsync(file, lines);
            (code, text) = await RunAsync("node", "verify.mjs", file);
            Assert.That(code, Is.EqualTo(1));
            Assert.That(text, Does.StartWith("break at position 8 "));
        }
        finally
        {
            File.Delete(file);
        }
    }

    /// <summary>
    /// Random awkward attributes and contexts (AwkwardValues: keys outside the BMP beside keys in U+E000-U+FFFF,
    /// controls, escapes, large and fractional numbers, nesting) canonicalize in Spector exactly as in the public
    /// "canonicalize" package: the exported chain verifies there with the head Spector reports.
    /// </summary>
    [TestCase(11)]
    [TestCase(12)]
    public async Task Random_awkward_events_export_and_verify_with_the_off_the_shelf_library(int seed)
    {
        var random = new Random(seed);
        for (var i = 0; i < 10; i++)
        {
            var attrs = new Attrs { ["owner"] = AwkwardValues.Text(random, 1, 12) };
            for (var k = 0; k < random.Next(1, 6); k++)
                attrs[AwkwardValues.Text(random, 0, 6) + "#" + k] = AwkwardValues.Node(random, random.Next(0, 4));
            var account = await LedgerAccount.InsertAsync(
                attrs,
                new WriteOptions { Context = AwkwardValues.Context(random) }
            );
            await account.PostAsync(0.5m * i, AwkwardValues.Text(random, 0, 20));
        }
        var head = (await LedgerEvents.Log.VerifyHashChainAsync()).Head!;
        var file = Path.Combine(Path.GetTempPath(), $"spector-chain-{Guid.NewGuid():N}.jsonl");
        try
        {
            await using (var output = File.Create(file))
                Assert.That(await LedgerEvents.Log.ExportChainAsync(output), Is.EqualTo(20));

            var (code, text) = await RunAsync("node", "verify.mjs", file, head.ToString());
            Assert.That(code, Is.EqualTo(0), $"seed {seed}: {text}");
            Assert.That(text, Does.Contain($"ok: 20 events, head {head}"));
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Test]
    public async Task A_changed_digit_of_a_large_number_in_an_export_is_caught_by_the_independent_verifier()
    {
        var sample = await Sample.InsertAsync(
            new Attrs
            {
                ["text"] = "big",
                ["amount"] = 12345678901234.5678m,
                ["count"] = 9007199254740993L,
            }
        );
        await sample.UpdateAsync(new Attrs { ["text"] = "bigger" });
        var file = Path.Combine(Path.GetTempPath(), $"spector-chain-{Guid.NewGuid():N}.jsonl");
        try
        {
            await using (var output = File.Create(file))
                Assert.That(await ValueEvents.Log.ExportChainAsync(output), Is.EqualTo(2));
            var (code, text) = await RunAsync("node", "verify.mjs", file);
            Assert.That(code, Is.EqualTo(0), text);

            var digits = new[]
            {
                ("12345678901234.5678", "12345678901234.5677"),
                ("9007199254740993", "9007199254740992"),
            };
            foreach (var (stored, tampered) in digits)
            {
                var lines = await File.ReadAllLinesAsync(file);
                Assert.That(lines[0], Does.Contain($"\"{stored}\""), "stored as a string of its digits");
                await File.WriteAllLinesAsync(file, [lines[0].Replace($"\"{stored}\"", $"\"{tampered}\""), lines[1]]);
                (code, text) = await RunAsync("node", "verify.mjs", file);
                Assert.That(code, Is.EqualTo(1), text);
                Assert.That(text, Does.StartWith("break at position 1 "));
                await File.WriteAllLinesAsync(file, lines);
            }
        }
        finally
        {
            File.Delete(file);
        }
    }

    [TestCase("16777217", "16777217.0000000001")]
    [TestCase("0.1", "0.1000000000000000055")]
    [TestCase("0", "-0")]
    [TestCase("0", "-0.0e1")]
    public async Task A_number_respelled_to_the_same_double_in_an_export_is_caught_by_the_independent_verifier(
        string stored,
        string respelled
    )
    {
        var ratio = double.Parse(stored, System.Globalization.CultureInfo.InvariantCulture);
        var sample = await Sample.InsertAsync(new Attrs { ["text"] = "n", ["ratio"] = ratio });
        await sample.UpdateAsync(new Attrs { ["text"] = "m" });
        var file = Path.Combine(Path.GetTempPath(), $"spector-chain-{Guid.NewGuid():N}.jsonl");
        try
        {
            await using (var output = File.Create(file))
                Assert.That(await ValueEvents.Log.ExportChainAsync(output), Is.EqualTo(2));
            var (code, text) = await RunAsync("node", "verify.mjs", file);
            Assert.That(code, Is.EqualTo(0), text);

            var lines = await File.ReadAllLinesAsync(file);
            var number = new System.Text.RegularExpressions.Regex(
                "(\"ratio\":\\s*)" + System.Text.RegularExpressions.Regex.Escape(stored) + "(?=[,}])"
            );
            Assert.That(number.IsMatch(lines[0]), Is.True, lines[0]);
            await File.WriteAllLinesAsync(file, [number.Replace(lines[0], "${1}" + respelled), lines[1]]);
            (code, text) = await RunAsync("node", "verify.mjs", file);
            Assert.That(code, Is.EqualTo(1), text);
            Assert.That(text, Does.StartWith("break at position 1 ").And.Contain(respelled));
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Test]
    public async Task Events_with_a_context_export_and_verify_independently_beside_events_without_one()
    {
        await LedgerAccount.InsertAsync(new Attrs { ["owner"] = "no context" });
        using (
            SpectorContext.Begin(
                actor: new Actor("user", "Zoë \"q\" 🚀"),
                reason: "a\nb",
                correlationId: "c",
                causationId: "m"
            )
        )
            await LedgerAccount.InsertAsync(new Attrs { ["owner"] = "with context" });
        var head = (await LedgerEvents.Log.VerifyHashChainAsync()).Head!;
        var file = Path.Combine(Path.GetTempPath(), $"spector-chain-{Guid.NewGuid():N}.jsonl");
        try
        {
            await using (var output = File.Create(file))
                await LedgerEvents.Log.ExportChainAsync(output);
            var lines = await File.ReadAllLinesAsync(file);
            Assert.That(lines[0], Does.Not.Contain("\"context\""));
            Assert.That(lines[1], Does.Contain("\"context\":{\"actor_id\":\"Zoë"));
            var (code, text) = await RunAsync("node", "verify.mjs", file, head.ToString());
            Assert.That(code, Is.EqualTo(0), text);

            lines[1] = lines[1].Replace("\"reason\":\"a\\nb\"", "\"reason\":\"a\\nc\"");
            await File.WriteAllLinesAsync(file, lines);
            (code, text) = await RunAsync("node", "verify.mjs", file);
            Assert.That(code, Is.EqualTo(1), text);
            Assert.That(text, Does.StartWith("break at position 2 "));
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Test]
    public async Task Links_in_an_exported_chain_verify_independently()
    {
        var chat = await AIChat.Conversation.InsertAsync(new Attrs { ["role"] = "user", ["content"] = "Hi" });
        chat = await chat.AppendAsync(chat.Messages[0].Id, "assistant", "Hello");
        chat = await chat.AppendAsync(chat.Messages[1].Id, "user", "Two ancestors");
        var head = (await AIChat.ConversationEvents.Log.VerifyHashChainAsync()).Head!;
        var file = Path.Combine(Path.GetTempPath(), $"spector-chain-{Guid.NewGuid():N}.jsonl");
        try
        {
            await using (var output = File.Create(file))
                await AIChat.ConversationEvents.Log.ExportChainAsync(output);
            var lines = await File.ReadAllLinesAsync(file);
            Assert.That(lines[2], Does.Contain(chat.Messages[0].Id.ToString()).And.Contain("ancestors"));

            var (code, text) = await RunAsync("node", "verify.mjs", file, head.ToString());
            Assert.That(code, Is.EqualTo(0), text);

            // Dropping a link from the export is caught at that event.
            var row = System.Text.Json.Nodes.JsonNode.Parse(lines[2])!.AsObject();
            var links = row["links"]!.AsArray();
            links.Remove(links.Single(l => l![1]!.GetValue<string>() == chat.Messages[0].Id.ToString()));
            lines[2] = row.ToJsonString();
            await File.WriteAllLinesAsync(file, lines);
            (code, text) = await RunAsync("node", "verify.mjs", file);
            Assert.That(code, Is.EqualTo(1), text);
            Assert.That(text, Does.StartWith("break at position 3 "));
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Test]
    public async Task Per_record_chains_export_record_by_record_and_verify_independently()
    {
        var receipts = new List<Receipt>();
        for (var i = 0; i < 3; i++)
            receipts.Add(
                await Receipt.InsertAsync(new Attrs { ["customer"] = $"Zoë {i} ✓", ["total"] = 10.5m * (i + 1) })
            );
        // Interleaved writes: in position order the records' events alternate, in the export they are grouped.
        for (var round = 0; round < 3; round++)
            foreach (var receipt in receipts)
                await receipt.RefundAsync(0.25m);
        var file = Path.Combine(Path.GetTempPath(), $"spector-chain-{Guid.NewGuid():N}.jsonl");
        try
        {
            await using (var output = File.Create(file))
                // with a savepoint after each 4th event
                Assert.That(await ReceiptEvents.Log.ExportChainAsync(output), Is.EqualTo(15));

            var (code, text) = await RunAsync("node", "verify.mjs", "--record-scope", file);
            Assert.That(code, Is.EqualTo(0), text);
            Assert.That(text, Does.Contain("ok: 15 events in 3 records"));

            // Read as one table-wide chain, the same export does not verify: the scopes really differ.
            (code, _) = await RunAsync("node", "verify.mjs", file);
            Assert.That(code, Is.EqualTo(1));

            var lines = (await File.ReadAllLinesAsync(file)).ToList();
            var removed = System.Text.Json.Nodes.JsonNode.Parse(lines[5])!;
            lines.RemoveAt(5);
            await File.WriteAllLinesAsync(file, lines);
            (code, text) = await RunAsync("node", "verify.mjs", "--record-scope", file);
            Assert.That(code, Is.EqualTo(1), text);
            Assert.That(text, Does.Contain($"has no seq {removed["seq"]}"));
        }
        finally
        {
            File.Delete(file);
        }
    }

    internal static async Task<(int Code, string Output)> RunAsync(string program, params string[] arguments)
    {
        var start = new ProcessStartInfo(program)
        {
            WorkingDirectory = Tool,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var argument in arguments)
            start.ArgumentList.Add(argument);
        Process process;
        try
        {
            process = Process.Start(start)!;
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            var message = $"{program} is needed to re-verify chains independently ({e.Message}); install Node.js.";
            if (Environment.GetEnvironmentVariable("CI") is { Length: > 0 } ci && ci != "false")
                Assert.Fail(message);
            Assert.Inconclusive(message);
            throw;
        }
        using (process)
        {
            var stdout = process.StandardOutput.ReadToEndAsync();
            var stderr = process.StandardError.ReadToEndAsync();
            using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(3));
            await process.WaitForExitAsync(timeout.Token);
            return (process.ExitCode, await stdout + await stderr);
        }
    }

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "Spector.sln")))
                return dir.FullName;
        throw new InvalidOperationException("Spector.sln not found");
    }
}
