using System.Text;
using System.Text.Json;
using Hivelet.Runtime.Cgroups;
using Hivelet.Runtime.Stats;

namespace Hivelet.Runtime.Tests.Stats;

public class StatsTests
{
    private static readonly DateTimeOffset T0 = new(2026, 11, 25, 4, 0, 0, TimeSpan.Zero);

    private static StatsSample Sample(double seconds, ulong cpuNs, ulong mem = 0, ulong limit = 0) =>
        new(T0.AddSeconds(seconds), new CgroupStats(cpuNs, mem, limit, 3, 100, 4096, 8192), 1500, 0);

    [Fact]
    public void Cpu_percent_is_cpu_time_over_wall_time()
    {
        // Half a CPU for two seconds, then two full CPUs.
        Assert.Equal(50.0, StatsCalculator.Compute(Sample(0, 0), Sample(2, 1_000_000_000), 0).CpuPercent, 6);
        Assert.Equal(200.0, StatsCalculator.Compute(Sample(0, 0), Sample(1, 2_000_000_000), 0).CpuPercent, 6);
        Assert.Equal(0.0, StatsCalculator.Compute(null, Sample(1, 5), 0).CpuPercent);
        Assert.Equal(0.0, StatsCalculator.Compute(Sample(1, 9), Sample(1, 10), 0).CpuPercent);
        // A counter that went backwards (the container restarted in a new group) is not negative.
        Assert.Equal(0.0, StatsCalculator.Compute(Sample(0, 10), Sample(1, 5), 0).CpuPercent);
    }

    [Fact]
    public void Memory_percent_uses_the_limit_or_the_host_memory()
    {
        var limited = StatsCalculator.Compute(null, Sample(0, 0, mem: 25L << 20, limit: 100L << 20), 8L << 30);
        Assert.Equal(100UL << 20, limited.MemoryLimit);
        Assert.Equal(25.0, limited.MemoryPercent, 6);
        var unlimited = StatsCalculator.Compute(null, Sample(0, 0, mem: 1L << 30, limit: 0), 8L << 30);
        Assert.Equal(8UL << 30, unlimited.MemoryLimit);
        Assert.Equal(12.5, unlimited.MemoryPercent, 6);
    }

    [Theory]
    [InlineData(0, "0B")]
    [InlineData(512, "512B")]
    [InlineData(1536, "1.5KiB")]
    [InlineData(1556480, "1.484MiB")]
    [InlineData(104857600, "100MiB")]
    [InlineData(8178892800, "7.617GiB")]
    public void Memory_in_binary_units_with_four_digits(double bytes, string expected) =>
        Assert.Equal(expected, StatsFormat.BytesSize(bytes));

    [Theory]
    [InlineData(0, "0B")]
    [InlineData(999, "999B")]
    [InlineData(1234, "1.23kB")]
    [InlineData(45600, "45.6kB")]
    [InlineData(12_345_678, "12.3MB")]
    public void Io_in_decimal_units_with_three_digits(double bytes, string expected) =>
        Assert.Equal(expected, StatsFormat.HumanSize(bytes));

    [Fact]
    public void Row_cells_and_json_as_docker()
    {
        var row = StatsCalculator.Compute(Sample(0, 0), Sample(1, 5_000_000, mem: 1556480, limit: 104857600), 0);
        var cells = StatsFormat.Cells("0123456789abcdef0123", "/web", row);
        Assert.Equal(["0123456789ab", "web", "0.50%", "1.484MiB / 100MiB", "1.48%", "1.5kB / 0B", "4.1kB / 8.19kB", "3"], cells);
        var json = JsonSerializer.Serialize(StatsJson.From("0123456789abcdef0123", "/web", row), StatsJsonContext.Default.StatsJson);
        using var doc = JsonDocument.Parse(json);
        Assert.Equal("0.50%", doc.RootElement.GetProperty("CPUPerc").GetString());
        Assert.Equal("web", doc.RootElement.GetProperty("Name").GetString());
        Assert.Equal("3", doc.RootElement.GetProperty("PIDs").GetString());
    }

    [Fact]
    public void Net_dev_sums_interfaces_but_loopback()
    {
        const string text = """
            Inter-|   Receive                                                |  Transmit
             face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed
                lo:    9000      10    0    0    0     0          0         0     9000      10    0    0    0     0       0          0
              eth0:    1200       7    0    0    0     0          0         0      300       3    0    0    0     0       0          0
              eth1:      34       1    0    0    0     0          0         0        6       1    0    0    0     0       0          0
            """;
        Assert.Equal((1234UL, 306UL), StatsCalculator.ParseNetDev(text));
        Assert.Equal((0UL, 0UL), StatsCalculator.ParseNetDev(text.Split('\n')[0] + "\n" + text.Split('\n')[2]));
    }

    [Fact]
    public void Mem_total_from_meminfo() =>
        Assert.Equal(8000000UL * 1024, StatsCalculator.ParseMemTotal("MemTotal:        8000000 kB\nMemFree: 1 kB\n"));
}
