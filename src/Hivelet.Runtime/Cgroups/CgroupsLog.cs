using Microsoft.Extensions.Logging;

namespace Hivelet.Runtime.Cgroups;

internal static partial class CgroupsLog
{
    [LoggerMessage(3100, LogLevel.Debug, "cgroup layout {Layout}, root {Root}")]
    public static partial void Detected(ILogger logger, CgroupLayout layout, string root);

    [LoggerMessage(3101, LogLevel.Debug, "created cgroup {Path}")]
    public static partial void Created(ILogger logger, string path);

    [LoggerMessage(3102, LogLevel.Debug, "wrote \"{Value}\" to {File}")]
    public static partial void Wrote(ILogger logger, string value, string file);

    [LoggerMessage(3103, LogLevel.Debug, "attached a device program of {Instructions} instructions to {Path}")]
    public static partial void DeviceProgramAttached(ILogger logger, int instructions, string path);

    [LoggerMessage(3104, LogLevel.Debug, "removed cgroup {Path}")]
    public static partial void Removed(ILogger logger, string path);

    [LoggerMessage(3105, LogLevel.Warning, "cgroup {Path} still busy after {Attempts} attempts; left in place")]
    public static partial void StillBusy(ILogger logger, string path, int attempts);

    [LoggerMessage(3106, LogLevel.Debug, "killed {Count} processes of container {ContainerId}")]
    public static partial void Killed(ILogger logger, int count, string containerId);

    [LoggerMessage(3107, LogLevel.Warning, "container {ContainerId}: processes left in its cgroup after {Milliseconds} ms")]
    public static partial void KillTimedOut(ILogger logger, string containerId, long milliseconds);

    [LoggerMessage(3108, LogLevel.Information, "removed the stale cgroup of container {ContainerId}")]
    public static partial void StaleRemoved(ILogger logger, string containerId);

    [LoggerMessage(3109, LogLevel.Warning, "could not remove the stale cgroup of container {ContainerId}: {Reason}")]
    public static partial void StaleFailed(ILogger logger, string containerId, string reason);

    [LoggerMessage(3110, LogLevel.Debug, "kept the cgroup of container {ContainerId}, unknown to this store: {Reason}")]
    public static partial void StaleKept(ILogger logger, string containerId, string reason);

    [LoggerMessage(3111, LogLevel.Warning, "could not undo a partly created cgroup for {ContainerId}: {Reason}")]
    public static partial void RollbackFailed(ILogger logger, string containerId, string reason);
}
