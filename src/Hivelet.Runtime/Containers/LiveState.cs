using System.Text.Json;
using Hivelet.Runtime.Cgroups;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Hivelet.Runtime.Containers;

/// <summary>
/// A container's state as `ps` and `inspect` show it: BUNDLE/status checked against the live monitor.
/// A status that is not `exited` while its monitor is gone (kill -9, OOM, reboot) is reconciled here:
/// what is left in the cgroup is killed and the status rewritten as exited 137 "monitor died".
/// </summary>
public sealed class LiveState(ContainerStore store, ICgroupManager? cgroups, ILogger? logger = null)
{
    private readonly ILogger _logger = logger ?? NullLogger.Instance;

    /// <summary>Start time of a pid (0 = gone); replaceable so decisions are testable without processes.</summary>
    public Func<int, ulong> StartTimeOf { get; init; } = ProcessInfo.StartTime;

    public ContainerStatus? ReadStatus(string id)
    {
        var bundle = store.BundleDir(id);
        var status = ContainerStatus.Read(bundle);
        if (status is null || !NeedsReconcile(status, StartTimeOf))
            return status;
        // Re-read: the monitor may have written "exited" and left between our read and the check.
        status = ContainerStatus.Read(bundle);
        if (status is null || !NeedsReconcile(status, StartTimeOf))
            return status;
        _logger.MonitorDied(id, status.MonitorPid);
        cgroups?.Open(id)?.KillAll();
        var fixedStatus = Reconciled(status, DateTimeOffset.UtcNow);
        fixedStatus.Write(bundle);
        return fixedStatus;
    }

    public ContainerState Read(ContainerRecord record)
    {
        var status = ReadStatus(record.Id);
        return ContainerState.From(status, status is { IsExited: false } ? ReadHealth(record.Id) : null);
    }

    public HealthState? ReadHealth(string id)
    {
        try
        {
            return JsonSerializer.Deserialize(File.ReadAllBytes(Path.Combine(store.RunDir(id), HealthState.FileName)),
                ContainerJsonContext.Default.HealthState);
        }
        catch (Exception e) when (e is IOException or JsonException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    /// <summary>True when the status claims a live container but its monitor is not the process that wrote it.</summary>
    public static bool NeedsReconcile(ContainerStatus status, Func<int, ulong> startTimeOf)
    {
        if (status.IsExited)
            return false;
        if (status.MonitorPid <= 0)
            return true;
        var start = startTimeOf(status.MonitorPid);
        return start == 0 || (status.MonitorStart != 0 && start != status.MonitorStart);
    }

    /// <summary>The status written after a monitor died: exited, 137 (its container was SIGKILLed with it).</summary>
    public static ContainerStatus Reconciled(ContainerStatus status, DateTimeOffset now) => status with
    {
        State = "exited",
        Pid = 0,
        PidStart = 0,
        ExitCode = 137,
        FinishedAt = now,
        Error = "monitor died",
    };
}
