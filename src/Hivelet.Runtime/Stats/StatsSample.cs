using Hivelet.Runtime.Cgroups;

namespace Hivelet.Runtime.Stats;

/// <summary>One reading of a container: its cgroup counters, its network counters and when they were read.</summary>
public sealed record StatsSample(DateTimeOffset At, CgroupStats Cgroup, ulong NetRxBytes, ulong NetTxBytes);

/// <summary>The numbers of one `stats` row, before formatting.</summary>
public sealed record StatsRow(
    double CpuPercent,
    ulong MemoryUsage,
    ulong MemoryLimit,
    double MemoryPercent,
    ulong NetRx,
    ulong NetTx,
    ulong BlockRead,
    ulong BlockWrite,
    ulong Pids);

public static class StatsCalculator
{
    /// <summary>
    /// CPU % is the cgroup's CPU time used between two samples over the wall time between them, x100:
    /// 100% is one CPU fully busy, 200% two. Docker computes cpuDelta / systemDelta x onlineCPUs x 100,
    /// where systemDelta is the host's CPU time over all CPUs, i.e. wall time x onlineCPUs: the same
    /// number without reading /proc/stat. Without a previous sample (or no time passed) it is 0, as
    /// Docker's first reading. Memory % is usage over the limit; an unlimited container (limit 0) is
    /// measured against the host's memory, as Docker shows it.
    /// </summary>
    public static StatsRow Compute(StatsSample? previous, StatsSample current, ulong hostMemoryBytes)
    {
        ArgumentNullException.ThrowIfNull(current);
        double cpu = 0;
        if (previous is not null)
        {
            double wallNs = (current.At - previous.At).Ticks * 100.0;
            ulong now = current.Cgroup.CpuUsageNanoseconds, before = previous.Cgroup.CpuUsageNanoseconds;
            if (wallNs > 0 && now > before)
                cpu = (now - before) / wallNs * 100.0;
        }
        var cg = current.Cgroup;
        ulong limit = cg.MemoryLimitBytes == 0 || (hostMemoryBytes > 0 && cg.MemoryLimitBytes > hostMemoryBytes)
            ? hostMemoryBytes
            : cg.MemoryLimitBytes;
        double memPercent = limit == 0 ? 0 : cg.MemoryUsageBytes * 100.0 / limit;
        return new StatsRow(cpu, cg.MemoryUsageBytes, limit, memPercent, current.NetRxBytes, current.NetTxBytes,
            cg.BlockReadBytes, cg.BlockWriteBytes, cg.Pids);
    }

    /// <summary>
    /// Bytes received and sent by a container's interfaces from its /proc/PID/net/dev, loopback
    /// excluded (Docker counts only the endpoints' interfaces: `--network none` shows 0B / 0B).
    /// </summary>
    public static (ulong Rx, ulong Tx) ParseNetDev(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        ulong rx = 0, tx = 0;
        foreach (var raw in text.Split('\n'))
        {
            int colon = raw.IndexOf(':', StringComparison.Ordinal);
            if (colon < 0)
                continue;
            var name = raw[..colon].Trim();
            if (name == "lo" || name.Length == 0)
                continue;
            var fields = raw[(colon + 1)..].Split(' ', StringSplitOptions.RemoveEmptyEntries);
            // Receive: bytes packets errs drop fifo frame compressed multicast; transmit: bytes ...
            if (fields.Length < 9
                || !ulong.TryParse(fields[0], System.Globalization.CultureInfo.InvariantCulture, out var r)
                || !ulong.TryParse(fields[8], System.Globalization.CultureInfo.InvariantCulture, out var t))
                continue;
            rx += r;
            tx += t;
        }
        return (rx, tx);
    }

    /// <summary>MemTotal of /proc/meminfo in bytes (0 when unreadable).</summary>
    public static ulong ParseMemTotal(string meminfo)
    {
        ArgumentNullException.ThrowIfNull(meminfo);
        foreach (var line in meminfo.Split('\n'))
        {
            if (!line.StartsWith("MemTotal:", StringComparison.Ordinal))
                continue;
            var parts = line["MemTotal:".Length..].Trim().Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (parts.Length > 0 && ulong.TryParse(parts[0], System.Globalization.CultureInfo.InvariantCulture, out var kb))
                return kb * 1024;
        }
        return 0;
    }
}
