using Hivelet.Errors;

namespace Hivelet.Runtime.Spec;

/// <summary>Which --sysctl names a container may set: only namespaced ones (moby's ValidateSysctl).</summary>
public static class Sysctls
{
    /// <summary>Docker's defaults for a private network namespace (runtime.md C9): ping without
    /// CAP_NET_RAW and binding low ports without CAP_NET_BIND_SERVICE.</summary>
    public static readonly IReadOnlyList<KeyValuePair<string, string>> PrivateNetDefaults =
    [
        new("net.ipv4.ping_group_range", "0 2147483647"),
        new("net.ipv4.ip_unprivileged_port_start", "0"),
    ];

    private static readonly HashSet<string> IpcNames = new(StringComparer.Ordinal)
    {
        "kernel.msgmax", "kernel.msgmnb", "kernel.msgmni", "kernel.sem", "kernel.shmall", "kernel.shmmax",
        "kernel.shmmni", "kernel.shm_rmid_forced",
    };

    public static void Validate(string name, bool hostNetwork)
    {
        if (name.Length == 0 || name.Contains('/') || name.Contains('\0') || name.Contains('\x1f') ||
            name.Split('.').Any(p => p.Length == 0 || p == ".."))
            throw new InvalidInputException($"invalid argument \"{name}\" for \"--sysctl\" flag: invalid sysctl name");
        if (IpcNames.Contains(name) || name.StartsWith("fs.mqueue.", StringComparison.Ordinal) ||
            name is "kernel.domainname" or "kernel.hostname")
            return;
        if (name.StartsWith("net.", StringComparison.Ordinal))
        {
            if (hostNetwork)
                throw new InvalidInputException($"sysctl '{name}' not allowed in host network namespace");
            return;
        }
        throw new InvalidInputException($"sysctl '{name}' is not allowed: it is not namespaced, so it would change the host");
    }
}
