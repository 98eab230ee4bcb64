namespace Hivelet.Runtime.Spec;

/// <summary>Docker's fixed defaults for a container (runtime.md C3-C5, moby daemon/pkg/oci/defaults.go).</summary>
public static class DockerDefaults
{
    /// <summary>Paths made unreadable (C4). /proc/interrupts: GHSA-6fw5-f8r9-fgfm; powercap: GHSA-jq35-85cj-fj4p.</summary>
    public static readonly IReadOnlyList<string> MaskedPaths =
    [
        "/proc/acpi", "/proc/asound", "/proc/interrupts", "/proc/kcore", "/proc/keys", "/proc/latency_stats",
        "/proc/sched_debug", "/proc/scsi", "/proc/timer_list", "/proc/timer_stats",
        "/sys/devices/virtual/powercap", "/sys/firmware",
    ];

    /// <summary>Paths mounted read-only over themselves (C4).</summary>
    public static readonly IReadOnlyList<string> ReadonlyPaths =
    [
        "/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger",
    ];

    /// <summary>Docker also masks every /sys/devices/system/cpu/cpuN/thermal_throttle the host has.</summary>
    public static List<string> HostThermalThrottlePaths(string cpuDir = "/sys/devices/system/cpu")
    {
        var result = new List<string>();
        try
        {
            foreach (var dir in Directory.EnumerateDirectories(cpuDir, "cpu*"))
            {
                var name = Path.GetFileName(dir);
                if (name.Length <= 3 || !AllDigits(name.AsSpan(3)))
                    continue;
                var tt = Path.Combine(dir, "thermal_throttle");
                if (Directory.Exists(tt))
                    result.Add(Path.Combine("/sys/devices/system/cpu", name, "thermal_throttle"));
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
        }
        result.Sort(StringComparer.Ordinal);
        return result;
    }

    private static bool AllDigits(ReadOnlySpan<char> s)
    {
        foreach (var c in s)
        {
            if (!char.IsAsciiDigit(c))
                return false;
        }
        return true;
    }

    /// <summary>The device nodes every container gets (runtime-spec's default devices), 0666 root:root.</summary>
    public static readonly IReadOnlyList<(string Path, uint Major, uint Minor)> Devices =
    [
        ("/dev/null", 1, 3), ("/dev/zero", 1, 5), ("/dev/full", 1, 7), ("/dev/random", 1, 8),
        ("/dev/urandom", 1, 9), ("/dev/tty", 5, 0),
    ];

    /// <summary>runtime-spec's default symlinks (target, link).</summary>
    public static readonly IReadOnlyList<(string Target, string Link)> Symlinks =
    [
        ("/proc/self/fd", "/dev/fd"), ("/proc/self/fd/0", "/dev/stdin"), ("/proc/self/fd/1", "/dev/stdout"),
        ("/proc/self/fd/2", "/dev/stderr"), ("pts/ptmx", "/dev/ptmx"),
    ];
}
