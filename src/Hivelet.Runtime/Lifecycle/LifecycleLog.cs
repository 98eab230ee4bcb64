using Microsoft.Extensions.Logging;

namespace Hivelet.Runtime.Lifecycle;

internal static partial class LifecycleLog
{
    [LoggerMessage(3020, LogLevel.Information, "started container {ContainerId}: monitor {MonitorPid}, pid {Pid}")]
    public static partial void Started(this ILogger logger, string containerId, int monitorPid, int pid);

    [LoggerMessage(3021, LogLevel.Information, "container {ContainerId} did not stop within {Seconds} s after signal {Signal}; killing it")]
    public static partial void StopTimedOut(this ILogger logger, string containerId, int seconds, int signal);

    [LoggerMessage(3022, LogLevel.Warning, "container {ContainerId}: monitor {MonitorPid} still alive after the container was killed; killing it")]
    public static partial void KillingMonitor(this ILogger logger, string containerId, int monitorPid);

    [LoggerMessage(3023, LogLevel.Debug, "container {ContainerId}: forwarding signal {Signal} to pid {Pid}")]
    public static partial void ForwardingSignal(this ILogger logger, string containerId, int signal, int pid);

    [LoggerMessage(3024, LogLevel.Warning, "remove container {ContainerId}: {Error}")]
    public static partial void RemoveStepFailed(this ILogger logger, string containerId, string error);

    [LoggerMessage(3025, LogLevel.Debug, "container {ContainerId}: no run template: {Reason}")]
    public static partial void NoRunTemplate(this ILogger logger, string containerId, string reason);

    [LoggerMessage(3026, LogLevel.Debug, "container {ContainerId}: run template written for this command line")]
    public static partial void RunTemplateWritten(this ILogger logger, string containerId);
}
