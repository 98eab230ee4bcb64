using System.Globalization;
using System.Text.Json.Serialization;
using Hivelet.Runtime.Cgroups;

namespace Hivelet.Runtime.Stats;

/// <summary>Takes samples of running containers: their cgroup counters and their network namespace's counters.</summary>
public static class StatsCollector
{
    /// <param name="pid">The container's pid 1 on the host (0 when not running: no network numbers).</param>
    /// <param name="sharesHostNetwork">`--network host`: Docker shows 0B / 0B, the host's counters are not the container's.</param>
    public static StatsSample Sample(ICgroup cgroup, int pid, bool sharesHostNetwork, DateTimeOffset at)
    {
        ArgumentNullException.ThrowIfNull(cgroup);
        var cg = cgroup.ReadStats();
        ulong rx = 0, tx = 0;
        if (pid > 0 && !sharesHostNetwork)
        {
            try
            {
                (rx, tx) = StatsCalculator.ParseNetDev(File.ReadAllText(
                    "/proc/" + pid.ToString(CultureInfo.InvariantCulture) + "/net/dev"));
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // Exited between the listing and the read: no traffic to show.
            }
        }
        return new StatsSample(at, cg, rx, tx);
    }

    public static ulong HostMemoryBytes()
    {
        try
        {
            return StatsCalculator.ParseMemTotal(File.ReadAllText("/proc/meminfo"));
        }
        catch (IOException)
        {
            return 0;
        }
    }
}

/// <summary>One line of `stats --format json`, Docker's field names and string values.</summary>
public sealed record StatsJson(
    [property: JsonPropertyName("BlockIO")] string BlockIO,
    [property: JsonPropertyName("CPUPerc")] string CPUPerc,
    [property: JsonPropertyName("Container")] string Container,
    [property: JsonPropertyName("ID")] string ID,
    [property: JsonPropertyName("MemPerc")] string MemPerc,
    [property: JsonPropertyName("MemUsage")] string MemUsage,
    [property: JsonPropertyName("Name")] string Name,
    [property: JsonPropertyName("NetIO")] string NetIO,
    [property: JsonPropertyName("PIDs")] string PIDs)
{
    public static StatsJson From(string id, string name, StatsRow row)
    {
        var c = StatsFormat.Cells(id, name, row);
        return new StatsJson(c[6], c[2], c[0], c[0], c[4], c[3], c[1], c[5], c[7]);
    }
}

[JsonSerializable(typeof(StatsJson))]
public sealed partial class StatsJsonContext : JsonSerializerContext;
