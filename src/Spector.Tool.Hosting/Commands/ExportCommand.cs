using System.CommandLine;

namespace Spector.Tool;

/// <summary>
/// <c>spector export</c>: each hashed table's chain (each shard's) as JSON Lines, <c>&lt;table&gt;.jsonl</c> in the
/// output folder, for tools/verify-chain or any RFC 8785 implementation.
/// </summary>
internal static class ExportCommand
{
    public static Command Create(CommandContext context)
    {
        var output = new Option<DirectoryInfo>("--output", "-o")
        {
            Description = "The folder to write <table>.jsonl files to (default: the current folder).",
        };
        var tables = CommandContext.TableOption();
        var command = new Command("export", "Write hash chains as JSON Lines for independent verification.")
        {
            output,
            tables,
        };
        context.SetAction(
            command,
            needsStore: true,
            async (parsed, app, cancellationToken) =>
            {
                var folder = parsed.GetValue(output)?.FullName ?? Directory.GetCurrentDirectory();
                Directory.CreateDirectory(folder);
                var logs = CommandContext.Selected(app, parsed.GetValue(tables));
                foreach (var log in logs.Where(l => !l.Hashed))
                    context.Console.Line($"skip    {log.Table}: not hashed");
                var shards = logs.Where(l => l.Hashed)
                    .SelectMany(l => l.Shards.Select(s => (Log: l, s.Table)))
                    .ToList();
                var written = await context
                    .Console.ProgressAsync(
                        "exporting chains",
                        async report =>
                        {
                            var lines = new List<string>();
                            foreach (var (log, table) in shards)
                            {
                                var path = Path.Combine(folder, $"{table}.jsonl");
                                long count;
                                await using (var file = File.Create(path))
                                    count = await log.ExportShardChainAsync(table, file, cancellationToken)
                                        .ConfigureAwait(false);
                                lines.Add(
                                    $"{table}: {count} events to {path}"
                                        + (log.HashScope == HashScope.Record ? " (per-record chains)" : "")
                                );
                                report(lines.Count, shards.Count);
                            }
                            return lines;
                        }
                    )
                    .ConfigureAwait(false);
                foreach (var line in written)
                    context.Console.Line($"ok      {line}");
                return ExitCodes.Ok;
            }
        );
        return command;
    }
}
