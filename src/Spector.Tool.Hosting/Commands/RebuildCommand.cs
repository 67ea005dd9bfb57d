using System.CommandLine;

namespace Spector.Tool;

/// <summary>
/// <c>spector rebuild</c>: every record table replayed from the log (<see cref="RecordTables.RebuildAsync{T}"/>).
/// A hashed table's chain is verified first: a rebuild makes the log's state the tables' state, so a tampered log
/// is refused (exit 2) unless <c>--no-verify</c> says the operator knows.
/// </summary>
internal static class RebuildCommand
{
    public static Command Create(CommandContext context)
    {
        var tables = CommandContext.TableOption();
        var noVerify = new Option<bool>("--no-verify")
        {
            Description = "Rebuild without verifying hashed tables' chains first.",
        };
        var command = new Command(
            "rebuild",
            "Rebuild record tables from the events; readers see the old rows until it commits."
        )
        {
            tables,
            noVerify,
        };
        context.SetAction(
            command,
            needsStore: true,
            async (parsed, app, cancellationToken) =>
            {
                var logs = CommandContext.Selected(app, parsed.GetValue(tables));
                var types = app.Types.Where(t => t.HasRecordTable && logs.Contains(t.Log)).ToList();
                var rebuilt = types.Select(t => t.Log).Distinct().ToList();
                if (!parsed.GetValue(noVerify) && rebuilt.Any(l => l.Hashed))
                {
                    var chains = await context
                        .Console.ProgressAsync(
                            "verifying chains",
                            report => VerifyCommand.VerifyChainsAsync(rebuilt, report, cancellationToken)
                        )
                        .ConfigureAwait(false);
                    var broken = chains.Where(c => !c.Valid).ToList();
                    foreach (var chain in broken)
                        context.Console.Line(
                            $"BROKEN  {chain.Table}: {chain.Break!.Kind} at position {chain.Break.Position}: "
                                + chain.Break.Message
                        );
                    if (broken.Count > 0)
                    {
                        context.Console.Line(
                            "nothing rebuilt: the log does not verify (rebuild --no-verify copies it as it is)"
                        );
                        return ExitCodes.VerificationFailed;
                    }
                }
                if (types.Count == 0)
                    context.Console.Line("no record tables to rebuild");
                foreach (var type in types)
                {
                    var result = await context
                        .Console.ProgressAsync(
                            $"rebuilding {type.Name}",
                            report =>
                                type.RebuildAsync(
                                    new RebuildOptions { Progress = new Reporter(report) },
                                    cancellationToken
                                )
                        )
                        .ConfigureAwait(false);
                    context.Console.Line(
                        $"ok      {result.Table}: {result.Records} records, {result.Rows} rows"
                            + (result.Resumed ? " (resumed)" : "")
                            + (result.CaughtUp > 0 ? $", {result.CaughtUp} caught up" : "")
                    );
                }
                return ExitCodes.Ok;
            }
        );
        return command;
    }

    // Reports synchronously: Progress<T> would post to the thread pool and could report after the bar closed.
    private sealed class Reporter(Action<long, long> report) : IProgress<RebuildProgress>
    {
        public void Report(RebuildProgress value) => report(value.Done, value.Total);
    }
}
