using Microsoft.Extensions.Logging;

namespace Hivelet.Runtime.Containers;

internal static partial class ContainersLog
{
    [LoggerMessage(3000, LogLevel.Information, "created container {ContainerId} ({Name})")]
    public static partial void Created(this ILogger logger, string containerId, string name);

    [LoggerMessage(3001, LogLevel.Information, "removed container {ContainerId}")]
    public static partial void Removed(this ILogger logger, string containerId);

    [LoggerMessage(3002, LogLevel.Warning, "repair: removed half-created container {ContainerId}")]
    public static partial void RepairRemovedHalfCreated(this ILogger logger, string containerId);

    [LoggerMessage(3003, LogLevel.Warning, "repair: removed {Count} temp files in {Bundle}")]
    public static partial void RepairRemovedTemps(this ILogger logger, int count, string bundle);

    [LoggerMessage(3004, LogLevel.Information, "container {ContainerId}: its monitor {MonitorPid} is gone; marked exited")]
    public static partial void MonitorDied(this ILogger logger, string containerId, int monitorPid);

    [LoggerMessage(3005, LogLevel.Warning, "skipping unreadable container record {Path}: {Error}")]
    public static partial void UnreadableRecord(this ILogger logger, string path, string error);

    [LoggerMessage(3006, LogLevel.Debug, "repair skipped: another hivelet holds the containers lock")]
    public static partial void RepairSkipped(this ILogger logger);

    [LoggerMessage(3007, LogLevel.Warning, "cleanup of container {ContainerId}: {Error}")]
    public static partial void CleanupFailed(this ILogger logger, string containerId, string error);
}
