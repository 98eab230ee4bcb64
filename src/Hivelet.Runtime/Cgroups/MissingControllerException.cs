using Hivelet.Errors;

namespace Hivelet.Runtime.Cgroups;

/// <summary>A limit needs a cgroup controller the kernel lacks or has switched off; the message says how to enable it.</summary>
public sealed class MissingControllerException(string controller, string message) : HiveletException(message)
{
    /// <summary>The controller by its v1 name (memory, cpu, cpuset, pids, blkio, devices).</summary>
    public string Controller { get; } = controller;
}
