using System.CommandLine;
using System.Globalization;

namespace Spector.Tool;

/// <summary><c>spector events &lt;id&gt;</c>: one record's history, oldest first, from whichever table holds
/// it.</summary>
internal static class EventsCommand
{
    public static Command Create(CommandContext context)
    {
        var id = new Argument<Guid>("id") { Description = "The record id." };
        var command = new Command("events", "Show the history of one record: seq, time, action, who, payload.") { id };
        context.SetAction(
            command,
            needsStore: true,
            async (parsed, app, cancellationToken) =>
            {
                var recordId = parsed.GetValue(id);
                foreach (var log in app.Logs)
                {
                    var events = await log.EventsOfAsync(recordId, cancellationToken).ConfigureAwait(false);
                    if (events.Count == 0)
                        continue;
                    var schemas = log.Schemas.ToDictionary(s => s.Index, s => s.TypeName);
                    context.Console.Line($"record {recordId} in {log.Table}: {events.Count} events");
                    context.Console.Table(
                        ["seq", "at (UTC)", "action", "type", "actor", "payload"],
                        events.Select(e =>
                            (IReadOnlyList<string>)
                                [
                                    e.Seq.ToString(CultureInfo.InvariantCulture),
                                    e.InsertedAt.UtcDateTime.ToString(
                                        "yyyy-MM-dd HH:mm:ss.fff",
                                        CultureInfo.InvariantCulture
                                    ),
                                    e.Action
                                        ?? log.ActionName(e.ActionCode)
                                        ?? e.ActionCode.ToString(CultureInfo.InvariantCulture),
                                    schemas.GetValueOrDefault(e.Schema, $"schema {e.Schema}"),
                                    e.Actor is { } actor ? $"{actor.Type}:{actor.Id}" : "",
                                    e.PayloadJson,
                                ]
                        )
                    );
                    return ExitCodes.Ok;
                }
                throw new SpectorToolException(
                    $"No events for record {recordId} in {string.Join(", ", app.Logs.Select(l => l.Table))}."
                );
            }
        );
        return command;
    }
}
