namespace Hivelet.Runtime.Cgroups;

/// <summary>Limits in Docker's units; null = not set.</summary>
public sealed record CgroupResources
{
    public long? MemoryBytes { get; init; }

    /// <summary>Memory plus swap; -1 = unlimited swap (Docker's --memory-swap -1).</summary>
    public long? MemorySwapBytes { get; init; }

    /// <summary>CPUs times 1e9 (Docker's NanoCpus; --cpus 1.5 = 1_500_000_000).</summary>
    public long? NanoCpus { get; init; }

    /// <summary>Relative weight, Docker's --cpu-shares (2..262144, default 1024).</summary>
    public long? CpuShares { get; init; }

    public string? CpusetCpus { get; init; }

    public string? CpusetMems { get; init; }

    /// <summary>--pids-limit; 0 or -1 = unlimited.</summary>
    public long? PidsLimit { get; init; }

    /// <summary>--blkio-weight, 10..1000.</summary>
    public int? BlkioWeight { get; init; }

    /// <summary>
    /// Device rules in order; the manager starts from "deny all". Empty = <see cref="DeviceRules.DockerDefault"/>;
    /// <see cref="DeviceRules.AllowAll"/> (--privileged) leaves devices unrestricted.
    /// </summary>
    public IReadOnlyList<DeviceRule> Devices { get; init; } = [];
}

/// <summary>One device-cgroup rule. Major/Minor -1 = any (*). Type 'a', 'c' or 'b'. Access a subset of "rwm".</summary>
public readonly record struct DeviceRule(bool Allow, char Type, long Major, long Minor, string Access);

/// <summary>A snapshot of a group's usage. Zero where the controller is absent.</summary>
public sealed record CgroupStats(
    ulong CpuUsageNanoseconds,
    ulong MemoryUsageBytes,
    ulong MemoryLimitBytes,
    ulong Pids,
    ulong PidsLimit,
    ulong BlockReadBytes,
    ulong BlockWriteBytes);
