using Microsoft.Extensions.Logging;

namespace Hivelet.Runtime.Logs;

internal static partial class LogsLog
{
    [LoggerMessage(EventId = 3250, Level = LogLevel.Debug, Message = "Skipping a malformed log line in {File} at byte {Offset}")]
    public static partial void MalformedLine(ILogger logger, string file, long offset);

    [LoggerMessage(EventId = 3251, Level = LogLevel.Debug, Message = "Log {File} was rotated; following the new file")]
    public static partial void Rotated(ILogger logger, string file);

    [LoggerMessage(EventId = 3252, Level = LogLevel.Debug, Message = "Log {File} was truncated; reading it from the start")]
    public static partial void Truncated(ILogger logger, string file);
}
