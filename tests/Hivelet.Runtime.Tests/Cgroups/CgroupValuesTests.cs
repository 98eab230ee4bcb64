using Hivelet.Errors;
using Hivelet.Runtime.Cgroups;
using static Hivelet.Runtime.Cgroups.CgroupValues;

namespace Hivelet.Runtime.Tests.Cgroups;

public sealed class CgroupValuesTests
{
    [Theory]
    [InlineData(2, 1)]
    [InlineData(1024, 39)]
    [InlineData(512, 20)]
    [InlineData(262144, 10000)]
    public void SharesBecomeV2Weights(long shares, long weight) => Assert.Equal(weight, CpuWeight(shares));

    [Fact]
    public void CpusBecomeAQuotaPer100Ms()
    {
        Assert.Equal(150_000, CpuQuota(1_500_000_000));
        Assert.Equal(1_000, CpuQuota(10_000_000));
        Assert.Equal("50000 100000", CpuMax(500_000_000));
    }

    [Theory]
    [InlineData(10, 1)]
    [InlineData(500, 4950)]
    [InlineData(1000, 10000)]
    public void BlkioWeightsBecomeIoWeights(int blkio, long io) => Assert.Equal(io, IoWeight(blkio));

    [Fact]
    public void PidsLimitZeroOrMinusOneIsUnlimited()
    {
        Assert.Equal("max", PidsMax(0));
        Assert.Equal("max", PidsMax(-1));
        Assert.Equal("100", PidsMax(100));
    }

    [Fact]
    public void MemorySwapFollowsDocker()
    {
        Assert.Equal(200, MemorySwapTotal(100, null, swapAccounted: true));
        Assert.Null(MemorySwapTotal(100, null, swapAccounted: false));
        Assert.Null(MemorySwapTotal(null, null, swapAccounted: true));
        Assert.Equal(-1, MemorySwapTotal(100, -1, swapAccounted: true));
        Assert.Equal(100, MemorySwapTotal(100, 100, swapAccounted: true));
        Assert.Contains("always set the memory limit", Assert.Throws<InvalidInputException>(() => MemorySwapTotal(null, 200, true)).Message);
        Assert.Contains("larger than memory limit", Assert.Throws<InvalidInputException>(() => MemorySwapTotal(200, 100, true)).Message);
        Assert.Equal("200", SwapMaxV2(100, 300));
        Assert.Equal("0", SwapMaxV2(100, 100));
        Assert.Equal("max", SwapMaxV2(100, -1));
        Assert.Equal("-1", MemswV1(-1));
        Assert.Equal("300", MemswV1(300));
    }

    [Fact]
    public void DeviceRulesInV1Syntax()
    {
        Assert.Equal("a", DeviceRuleV1(new(false, 'a', -1, -1, "rwm")));
        Assert.Equal("c 1:3 rwm", DeviceRuleV1(new(true, 'c', 1, 3, "rwm")));
        Assert.Equal("c *:* m", DeviceRuleV1(new(true, 'c', -1, -1, "m")));
        Assert.Equal("c 136:* rwm", DeviceRuleV1(new(true, 'c', 136, -1, "rwm")));
        Assert.Equal("b 8:0 r", DeviceRuleV1(new(true, 'b', 8, 0, "r")));
    }

    [Fact]
    public void LimitsAndCountersAreParsed()
    {
        Assert.Equal(0UL, ParseV1Limit("9223372036854771712\n"));
        Assert.Equal(104857600UL, ParseV1Limit("104857600\n"));
        Assert.Equal(0UL, ParseV2Value("max\n"));
        Assert.Equal(4096UL, ParseV2Value("4096\n"));
        Assert.Equal(7UL, ParseKeyed("oom_kill_disable 0\nunder_oom 0\noom_kill 7\n", "oom_kill"));
        Assert.Null(ParseKeyed("low 0\nhigh 0\n", "oom_kill"));
        Assert.Equal(123UL, ParseKeyed("usage_usec 123\nuser_usec 100\n", "usage_usec"));
        Assert.Equal([12, 34], ParsePids("12\n34\n"));
    }

    [Fact]
    public void BlockIoIsSummedOverDevices()
    {
        var v1 = "8:0 Read 4096\n8:0 Write 8192\n8:0 Sync 0\n8:0 Total 12288\n8:16 Read 100\n8:16 Write 1\nTotal 12389\n";
        Assert.Equal((4196UL, 8193UL), ParseBlkioV1(v1));
        var v2 = "8:0 rbytes=4096 wbytes=8192 rios=1 wios=2 dbytes=0 dios=0\n254:0 rbytes=10 wbytes=20 rios=1 wios=1 dbytes=0 dios=0\n";
        Assert.Equal((4106UL, 8212UL), ParseIoStatV2(v2));
    }
}
