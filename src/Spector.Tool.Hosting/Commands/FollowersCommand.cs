using System.CommandLine;
using System.Globalization;

namespace Spector.Tool;

/// <summary><c>spector followers</c>: each registered follower's checkpoint, lease, lag and last failure.</summary>
internal static class FollowersCommand
{
    public static Command Create(CommandContext context)
    {
        var command = new Command("followers", "Show the status of the app's followers (registered in its container).");
        context.SetAction(
            command,
            needsStore: true,
            async (_, app, cancellationToken) =>
            {
                if (app.Followers.Count == 0)
                {
                    context.Console.Line("no followers registered");
                    return ExitCodes.Ok;
                }
                var statuses = new List<FollowerStatus>();
                foreach (var follower in app.Followers)
                    statuses.Add(await follower.ReadStatusAsync(cancellationToken).ConfigureAwait(false));
                context.Console.Table(
                    ["follower", "lease", "processed", "lag (events)", "lag", "last error"],
                    statuses.Select(s =>
                        (IReadOnlyList<string>)
                            [
                                s.Name,
                                s.LeaseHeld ? "held" : "free",
                                s.Processed.ToString(CultureInfo.InvariantCulture),
                                s.LagEvents.ToString(CultureInfo.InvariantCulture),
                                s.Lag.ToString(@"d\.hh\:mm\:ss", CultureInfo.InvariantCulture),
                                s.LastError ?? "",
                            ]
                    )
                );
                return ExitCodes.Ok;
            }
        );
        return command;
    }
}
