using System.Globalization;
using Hivelet.Errors;

namespace Hivelet.Runtime.Cgroups;

/// <summary>Docker's units to cgroup file values and back: pure functions, unit-tested on their own.</summary>
public static class CgroupValues
{
    /// <summary>The CFS period Docker uses for --cpus (100 ms).</summary>
    public const long CfsPeriodMicroseconds = 100_000;

    /// <summary>v1 limits at or above this (PAGE_COUNTER_MAX rounded to pages, ~2^63) mean "unlimited".</summary>
    private const ulong V1Unlimited = 1UL << 62;

    /// <summary>--cpus as NanoCpus to a CFS quota in microseconds per 100 ms period.</summary>
    public static long CpuQuota(long nanoCpus) => nanoCpus * CfsPeriodMicroseconds / 1_000_000_000;

    /// <summary>v2 cpu.max: "QUOTA PERIOD".</summary>
    public static string CpuMax(long nanoCpus) => $"{Num(CpuQuota(nanoCpus))} {Num(CfsPeriodMicroseconds)}";

    /// <summary>--cpu-shares (2..262144) to v2 cpu.weight (1..10000), the conversion runc and crun use.</summary>
    public static long CpuWeight(long shares)
    {
        shares = Math.Clamp(shares, 2, 262_144);
        return 1 + ((shares - 2) * 9999) / 262_142;
    }

    /// <summary>--blkio-weight (10..1000) to v2 io.weight (1..10000); io.bfq.weight takes the value as is.</summary>
    public static long IoWeight(int blkioWeight) => 1 + ((long)blkioWeight - 10) * 9999 / 990;

    /// <summary>pids.max: a positive limit, or "max" for 0 / -1 (Docker: unlimited).</summary>
    public static string PidsMax(long limit) => limit > 0 ? Num(limit) : "max";

    /// <summary>
    /// Checks --memory/--memory-swap the way Docker does and returns the memory+swap total to apply:
    /// null = leave swap alone, -1 = unlimited. Docker's default when only --memory is set is twice the
    /// memory, applied only where swap is accounted (<paramref name="swapAccounted"/>).
    /// </summary>
    public static long? MemorySwapTotal(long? memory, long? memorySwap, bool swapAccounted)
    {
        if (memory is < 0)
            throw new InvalidInputException($"invalid memory limit {memory}: must be positive");
        if (memorySwap is { } swap && swap != 0)
        {
            if (memory is null or 0)
                throw new InvalidInputException("you should always set the memory limit when using the memory-swap limit, see usage");
            if (swap != -1 && swap < memory)
                throw new InvalidInputException("minimum memoryswap limit should be larger than memory limit, see usage");
            return swap;
        }
        if (memory is > 0 && swapAccounted)
            return memory * 2;
        return null;
    }

    /// <summary>v2 memory.swap.max holds swap alone: total minus memory; -1 = "max".</summary>
    public static string SwapMaxV2(long memory, long total) => total == -1 ? "max" : Num(total - memory);

    /// <summary>v1 memory.memsw.limit_in_bytes: the total; -1 = unlimited.</summary>
    public static string MemswV1(long total) => total == -1 ? "-1" : Num(total);

    /// <summary>A rule as v1 devices.allow/devices.deny take it: "c 1:3 rwm", "a", "c *:* m".</summary>
    public static string DeviceRuleV1(DeviceRule rule)
    {
        if (rule.Type == 'a')
            return "a";
        string major = rule.Major < 0 ? "*" : Num(rule.Major);
        string minor = rule.Minor < 0 ? "*" : Num(rule.Minor);
        return $"{rule.Type} {major}:{minor} {rule.Access}";
    }

    /// <summary>A byte count of a v1 limit file; "unlimited" (a value near 2^63) is 0.</summary>
    public static ulong ParseV1Limit(string text)
    {
        var t = text.Trim();
        if (t == "-1" || t == "max")
            return 0;
        return ulong.TryParse(t, NumberStyles.None, CultureInfo.InvariantCulture, out ulong v) && v < V1Unlimited ? v : 0;
    }

    /// <summary>A v2 single-value file: "max" = 0 (unlimited).</summary>
    public static ulong ParseV2Value(string text)
    {
        var t = text.Trim();
        return t == "max" ? 0 : ulong.TryParse(t, NumberStyles.None, CultureInfo.InvariantCulture, out ulong v) ? v : 0;
    }

    /// <summary>A plain number file ("12345\n"); 0 when not a number.</summary>
    public static ulong ParseNumber(string text) =>
        ulong.TryParse(text.Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out ulong v) ? v : 0;

    /// <summary>The value of "KEY VALUE" lines (memory.stat, memory.events, cpu.stat, memory.oom_control); null when absent.</summary>
    public static ulong? ParseKeyed(string text, string key)
    {
        foreach (var line in text.Split('\n'))
        {
            var f = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (f.Length == 2 && f[0] == key && ulong.TryParse(f[1], NumberStyles.None, CultureInfo.InvariantCulture, out ulong v))
                return v;
        }
        return null;
    }

    /// <summary>v1 blkio.throttle.io_service_bytes: sums of the per-device "MAJ:MIN Read N" and "Write" lines.</summary>
    public static (ulong Read, ulong Write) ParseBlkioV1(string text)
    {
        ulong read = 0, write = 0;
        foreach (var line in text.Split('\n'))
        {
            var f = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (f.Length != 3 || !ulong.TryParse(f[2], NumberStyles.None, CultureInfo.InvariantCulture, out ulong v))
                continue;
            if (f[1] == "Read")
                read += v;
            else if (f[1] == "Write")
                write += v;
        }
        return (read, write);
    }

    /// <summary>v2 io.stat: sums of rbytes= and wbytes= over the device lines.</summary>
    public static (ulong Read, ulong Write) ParseIoStatV2(string text)
    {
        ulong read = 0, write = 0;
        foreach (var line in text.Split('\n'))
        {
            foreach (var field in line.Split(' ', StringSplitOptions.RemoveEmptyEntries))
            {
                if (field.StartsWith("rbytes=", StringComparison.Ordinal) && ulong.TryParse(field.AsSpan(7), NumberStyles.None, CultureInfo.InvariantCulture, out ulong r))
                    read += r;
                else if (field.StartsWith("wbytes=", StringComparison.Ordinal) && ulong.TryParse(field.AsSpan(7), NumberStyles.None, CultureInfo.InvariantCulture, out ulong w))
                    write += w;
            }
        }
        return (read, write);
    }

    /// <summary>The pids of a cgroup.procs file.</summary>
    public static List<int> ParsePids(string text)
    {
        var pids = new List<int>();
        foreach (var line in text.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            if (int.TryParse(line.Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out int pid) && pid > 0)
                pids.Add(pid);
        }
        return pids;
    }

    internal static string Num(long v) => v.ToString(CultureInfo.InvariantCulture);
}
