using System.CommandLine;

namespace Spector.Tool;

/// <summary><c>spector migrate</c>: creates the events tables, or with <c>--script</c> prints their SQL and touches
/// nothing.</summary>
internal static class MigrateCommand
{
    public static Command Create(CommandContext context)
    {
        var script = new Option<bool>("--script")
        {
            Description = "Print the SQL (for DbUp, FluentMigrator or a DBA) instead of running it.",
        };
        var tables = CommandContext.TableOption();
        var command = new Command("migrate", "Create the events, heads, link and record tables that are missing.")
        {
            script,
            tables,
        };
        context.SetAction(
            command,
            needsStore: false,
            async (parsed, app, cancellationToken) =>
            {
                var logs = CommandContext.Selected(app, parsed.GetValue(tables));
                if (parsed.GetValue(script))
                {
                    var dialect =
                        context.Source.Dialect(parsed)
                        ?? throw new SpectorToolException(
                            "migrate --script needs the database kind: pass --provider sqlite or --provider postgres."
                        );
                    foreach (var log in logs)
                    {
                        context.Console.Line($"-- Spector events table {log.Table}");
                        context.Console.Out.Write(log.UpSql(dialect));
                        context.Console.Line("");
                    }
                    return ExitCodes.Ok;
                }
                var store = app.RequireStore();
                foreach (var log in logs)
                {
                    await log.MigrateUpAsync(store, cancellationToken: cancellationToken).ConfigureAwait(false);
                    context.Console.Line($"migrated {log.Table}");
                }
                return ExitCodes.Ok;
            }
        );
        return command;
    }
}
