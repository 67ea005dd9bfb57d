using Microsoft.Extensions.Logging;

namespace Spector;

/// <summary>What hosting logs, under category Spector like the core's messages.</summary>
internal static partial class HostingLogMessages
{
    [LoggerMessage(
        EventId = 1010,
        Level = LogLevel.Warning,
        Message = "Events table {Table} already had a default store; AddSpector's store replaces it. One default per "
            + "events table per process: for several hosts or databases use keyed stores or pass the store."
    )]
    public static partial void DefaultStoreReplaced(this ILogger logger, string table);
}
