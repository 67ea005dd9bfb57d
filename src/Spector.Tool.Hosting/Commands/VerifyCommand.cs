using System.CommandLine;
using System.Globalization;
using System.Text.Json;

namespace Spector.Tool;

/// <summary>
/// <c>spector verify</c>: every hashed table's chain (each shard's, or each record's for per-record chains) and
/// every savepoint against a replay. Exit 0 when all hold, <see cref="ExitCodes.VerificationFailed"/> otherwise.
/// </summary>
internal static class VerifyCommand
{
    public static Command Create(CommandContext context)
    {
        var json = new Option<bool>("--json") { Description = "Print the result as one JSON document (for CI)." };
        var noSavepoints = new Option<bool>("--no-savepoints") { Description = "Check hash chains only." };
        var expectHeads = new Option<string[]>("--expect-head")
        {
            Description =
                "A head an earlier verify printed, as <table>=<position>:<hash>: the chain must still hold it, so "
                + "events removed from its end are found. Repeat for several tables.",
            AllowMultipleArgumentsPerToken = true,
        };
        var tables = CommandContext.TableOption();
        var command = new Command("verify", "Verify hash chains and savepoints; exit 2 when something does not hold.")
        {
            json,
            noSavepoints,
            expectHeads,
            tables,
        };
        context.SetAction(
            command,
            needsStore: true,
            async (parsed, app, cancellationToken) =>
            {
                var logs = CommandContext.Selected(app, parsed.GetValue(tables));
                var expected = ExpectedHeads(parsed.GetValue(expectHeads), logs);
                var types = parsed.GetValue(noSavepoints)
                    ? []
                    : app.Types.Where(t => t.HasSavepoints && logs.Contains(t.Log)).ToList();
                var chains = await context
                    .Console.ProgressAsync(
                        "verifying chains",
                        report => VerifyChainsAsync(logs, report, cancellationToken, expected)
                    )
                    .ConfigureAwait(false);
                var savepoints = new List<SavepointReport>();
                foreach (var type in types)
                    savepoints.Add(
                        await context
                            .Console.ProgressAsync(
                                $"verifying savepoints of {type.Name}",
                                report => VerifySavepointsAsync(type, report, cancellationToken)
                            )
                            .ConfigureAwait(false)
                    );
                var valid = chains.All(c => c.Valid) && savepoints.All(s => s.Mismatches.Count == 0);
                if (parsed.GetValue(json))
                    context.Console.Line(
                        JsonSerializer.Serialize(
                            new
                            {
                                valid,
                                chains,
                                savepoints,
                            },
                            JsonOptions
                        )
                    );
                else
                    Print(context.Console, chains, savepoints, logs.Where(l => !l.Hashed));
                return valid ? ExitCodes.Ok : ExitCodes.VerificationFailed;
            }
        );
        return command;
    }

    private static readonly JsonSerializerOptions JsonOptions = new(JsonSerializerDefaults.Web);

    /// <summary>Each shard chain of the hashed tables among <paramref name="logs"/>, verified.</summary>
    internal static async Task<List<ChainReport>> VerifyChainsAsync(
        IReadOnlyList<EventLog> logs,
        Action<long, long> report,
        CancellationToken ct,
        IReadOnlyDictionary<string, ChainHead>? expected = null
    )
    {
        var hashed = logs.Where(l => l.Hashed).ToList();
        var total = hashed.Sum(l => l.Shards.Count);
        var reports = new List<ChainReport>();
        foreach (var log in hashed)
        foreach (var shard in log.Shards)
        {
            var result = await log.VerifyShardChainAsync(shard.Table, expected?.GetValueOrDefault(shard.Table), ct)
                .ConfigureAwait(false);
            reports.Add(
                new ChainReport(
                    shard.Table,
                    log.HashScope == HashScope.Record ? "record" : "table",
                    result.EventsChecked,
                    result.Head?.ToString(),
                    result.IsValid,
                    result.FirstBreak is { } b
                        ? new BreakReport(b.Kind.ToString(), b.Position, b.EventId, b.LastGoodPosition, b.Message)
                        : null
                )
            );
            report(reports.Count, total);
        }
        return reports;
    }

    /// <summary>
    /// Parses <c>--expect-head</c> values (<c>table=position:hash</c>, as <see cref="ChainHead.ToString"/> prints a
    /// head) into heads by shard table; a value that names no table-chained shard of <paramref name="logs"/> or
    /// does not parse is an error that says so.
    /// </summary>
    private static Dictionary<string, ChainHead> ExpectedHeads(string[]? values, IReadOnlyList<EventLog> logs)
    {
        var heads = new Dictionary<string, ChainHead>(StringComparer.Ordinal);
        foreach (var value in values ?? [])
        {
            var (table, head) = value.Split('=', 2) is [var t, var h] ? (t, h) : ("", value);
            var log = logs.FirstOrDefault(l => l.Shards.Any(s => s.Table == table));
            if (log is not { Hashed: true, HashScope: HashScope.Table })
                throw new SpectorToolException(
                    log is null
                        ? $"--expect-head '{value}': expected <table>=<position>:<hash> naming a hashed events table "
                            + "(or shard) of the selection."
                        : $"--expect-head: events table {table} "
                            + (log.Hashed ? "chains each record on its own; it has no table head." : "is not hashed.")
                );
            var parts = head.Split(':', 2);
            if (
                parts.Length != 2
                || !long.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out var position)
                || position < 1
                || parts[1].Length != 64
                || !parts[1].All(Uri.IsHexDigit)
            )
                throw new SpectorToolException(
                    $"--expect-head for {table}: '{head}' is not <position>:<hash> (a position from 1 and 64 hex "
                        + "digits, as verify prints a head)."
                );
            if (!heads.TryAdd(table, new ChainHead(position, Convert.FromHexString(parts[1]))))
                throw new SpectorToolException($"--expect-head names {table} twice.");
        }
        return heads;
    }

    private static async Task<SavepointReport> VerifySavepointsAsync(
        EventedTypeHandle type,
        Action<long, long> report,
        CancellationToken ct
    )
    {
        var ids = new List<Guid>();
        await foreach (var id in type.IdsAsync(ct).ConfigureAwait(false))
            ids.Add(id);
        var (checkedCount, mismatches) = (0L, new List<SavepointMismatchReport>());
        for (var i = 0; i < ids.Count; i++)
        {
            var result = await type.VerifySavepointsAsync(ids[i], ct).ConfigureAwait(false);
            checkedCount += result.SavepointsChecked;
            mismatches.AddRange(
                result.Mismatches.Select(m => new SavepointMismatchReport(
                    ids[i],
                    m.SavepointEventId,
                    m.Seq,
                    m.Fields.Select(f => f.Key).ToList()
                ))
            );
            report(i + 1, ids.Count);
        }
        return new SavepointReport(type.Name, ids.Count, checkedCount, mismatches);
    }

    private static void Print(
        ToolConsole console,
        List<ChainReport> chains,
        List<SavepointReport> savepoints,
        IEnumerable<EventLog> unhashed
    )
    {
        foreach (var chain in chains)
            console.Line(
                chain.Valid
                    ? $"ok      {chain.Table}: {chain.Events} events, {chain.Scope} chain"
                        + (chain.Head is null ? "" : $", head {chain.Head}")
                    : $"BROKEN  {chain.Table}: {chain.Break!.Kind} at position {chain.Break.Position}: "
                        + chain.Break.Message
            );
        foreach (var log in unhashed)
            console.Line($"skip    {log.Table}: not hashed");
        foreach (var type in savepoints)
        {
            console.Line(
                type.Mismatches.Count == 0
                    ? $"ok      savepoints of {type.Type}: {type.Checked} in {type.Records} records"
                    : $"BROKEN  savepoints of {type.Type}: "
                        + $"{type.Mismatches.Count} of {type.Checked} differ from the replay"
            );
            foreach (var m in type.Mismatches)
                console.Line($"        record {m.RecordId} seq {m.Seq}: {string.Join(", ", m.Fields)}");
        }
    }

    internal sealed record ChainReport(
        string Table,
        string Scope,
        long Events,
        string? Head,
        bool Valid,
        BreakReport? Break
    );

    internal sealed record BreakReport(
        string Kind,
        long Position,
        Guid? EventId,
        long? LastGoodPosition,
        string Message
    );

    private sealed record SavepointReport(
        string Type,
        long Records,
        long Checked,
        List<SavepointMismatchReport> Mismatches
    );

    private sealed record SavepointMismatchReport(Guid RecordId, Guid EventId, long Seq, List<string> Fields);
}
