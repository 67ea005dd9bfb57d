using System.CommandLine;

namespace Spector.Tool;

/// <summary><c>spector rebuild</c>: every record table replayed from the log (<see
/// cref="RecordTables.RebuildAsync{T}"/>).</summary>
internal static class RebuildCommand
{
    public static Command Create(CommandContext context)
    {
        var tables = CommandContext.TableOption();
        var command = new Command(
            "rebuild",
            "Rebuild record tables from the events; readers see the old rows until it commits."
        )
        {
            tables,
        };
        context.SetAction(
            command,
            needsStore: true,
            async (parsed, app, cancellationToken) =>
            {
                var logs = CommandContext.Selected(app, parsed.GetValue(tables));
                var types = app.Types.Where(t => t.HasRecordTable && logs.Contains(t.Log)).ToList();
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
