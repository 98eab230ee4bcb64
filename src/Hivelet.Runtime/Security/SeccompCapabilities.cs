namespace Hivelet.Runtime.Security;

/// <summary>Capability numbers (linux/capability.h) by the CAP_* names Docker's profiles use.</summary>
internal static class SeccompCapabilities
{
    internal const int CAP_DAC_READ_SEARCH = 2;
    internal const int CAP_SYS_MODULE = 16;
    internal const int CAP_SYS_RAWIO = 17;
    internal const int CAP_SYS_CHROOT = 18;
    internal const int CAP_SYS_PTRACE = 19;
    internal const int CAP_SYS_PACCT = 20;
    internal const int CAP_SYS_ADMIN = 21;
    internal const int CAP_SYS_BOOT = 22;
    internal const int CAP_SYS_NICE = 23;
    internal const int CAP_SYS_TIME = 25;
    internal const int CAP_SYS_TTY_CONFIG = 26;
    internal const int CAP_SYSLOG = 34;
    internal const int CAP_PERFMON = 38;
    internal const int CAP_BPF = 39;

    private static readonly string[] Names =
    [
        "CHOWN", "DAC_OVERRIDE", "DAC_READ_SEARCH", "FOWNER", "FSETID", "KILL", "SETGID", "SETUID", "SETPCAP",
        "LINUX_IMMUTABLE", "NET_BIND_SERVICE", "NET_BROADCAST", "NET_ADMIN", "NET_RAW", "IPC_LOCK", "IPC_OWNER",
        "SYS_MODULE", "SYS_RAWIO", "SYS_CHROOT", "SYS_PTRACE", "SYS_PACCT", "SYS_ADMIN", "SYS_BOOT", "SYS_NICE",
        "SYS_RESOURCE", "SYS_TIME", "SYS_TTY_CONFIG", "MKNOD", "LEASE", "AUDIT_WRITE", "AUDIT_CONTROL", "SETFCAP",
        "MAC_OVERRIDE", "MAC_ADMIN", "SYSLOG", "WAKE_ALARM", "BLOCK_SUSPEND", "AUDIT_READ", "PERFMON", "BPF",
        "CHECKPOINT_RESTORE",
    ];

    /// <summary>
    /// The number of a capability named "CAP_SYS_ADMIN" (or "SYS_ADMIN", any case), or -1 when unknown: dockerd
    /// compares names with the container's set, so an unknown name simply never matches.
    /// </summary>
    internal static int Parse(string name)
    {
        var bare = name.StartsWith("CAP_", StringComparison.OrdinalIgnoreCase) ? name[4..] : name;
        for (int i = 0; i < Names.Length; i++)
        {
            if (string.Equals(Names[i], bare, StringComparison.OrdinalIgnoreCase))
                return i;
        }
        return -1;
    }
}
