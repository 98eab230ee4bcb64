using System.Numerics;
using Hivelet.Errors;
using Hivelet.Runtime.Security;

namespace Hivelet.Runtime.Tests.Security;

public class CapabilitiesTests
{
    private static readonly ulong All = Capabilities.MaskUpTo(40);

    [Fact]
    public void Default_is_dockers_fourteen()
    {
        Assert.Equal(0xa80425fbUL, Capabilities.Resolve(null, null, false, All));
        Assert.Equal(14, BitOperations.PopCount(Capabilities.DockerDefault));
        var names = Capabilities.ToNames(Capabilities.DockerDefault);
        Assert.Equal(
            ["CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FOWNER", "CAP_FSETID", "CAP_KILL", "CAP_SETGID", "CAP_SETUID",
             "CAP_SETPCAP", "CAP_NET_BIND_SERVICE", "CAP_NET_RAW", "CAP_SYS_CHROOT", "CAP_MKNOD", "CAP_AUDIT_WRITE",
             "CAP_SETFCAP"],
            names);
    }

    [Theory]
    [InlineData("NET_ADMIN")]
    [InlineData("CAP_NET_ADMIN")]
    [InlineData("net_admin")]
    [InlineData("cap_Net_Admin")]
    public void Add_accepts_names_with_or_without_prefix_in_any_case(string name)
    {
        Assert.Equal(Capabilities.DockerDefault | (1UL << 12), Capabilities.Resolve([name], null, false, All));
    }

    [Fact]
    public void Drop_removes_from_the_defaults()
    {
        Assert.Equal(Capabilities.DockerDefault & ~1UL, Capabilities.Resolve(null, ["CHOWN"], false, All));
    }

    [Fact]
    public void Drop_all_keeps_only_the_adds()
    {
        Assert.Equal(1UL << 5, Capabilities.Resolve(["KILL"], ["ALL"], false, All));
        Assert.Equal(0UL, Capabilities.Resolve(null, ["all"], false, All));
    }

    [Fact]
    public void Add_all_keeps_everything_but_the_drops()
    {
        Assert.Equal(All & ~(1UL << 21), Capabilities.Resolve(["ALL"], ["SYS_ADMIN"], false, All));
    }

    [Fact]
    public void Privileged_gets_every_known_capability_whatever_the_drops()
    {
        Assert.Equal(All, Capabilities.Resolve(null, ["ALL"], true, All));
    }

    [Fact]
    public void Unknown_name_is_an_error_naming_it()
    {
        var e = Assert.Throws<InvalidInputException>(() => Capabilities.Resolve(["NET_WIZARD"], null, false));
        Assert.Contains("--cap-add", e.Message, StringComparison.Ordinal);
        Assert.Contains("unknown capability: \"NET_WIZARD\"", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AllKnown_follows_the_running_kernel()
    {
        Assert.Equal(Capabilities.DockerDefault, Capabilities.AllKnown & Capabilities.DockerDefault);
        var last = int.Parse(File.ReadAllText("/proc/sys/kernel/cap_last_cap").Trim(), System.Globalization.CultureInfo.InvariantCulture);
        Assert.Equal(Capabilities.MaskUpTo(last) & Capabilities.ReadOwnBounding(), Capabilities.AllKnown);
        Assert.NotEqual(ulong.MaxValue, Capabilities.ReadOwnBounding());
    }

    [Fact]
    public void Own_bounding_set_is_read_from_proc_status()
    {
        using var dir = new Hivelet.Runtime.Tests.Spec.TempDir();
        var f = dir.WriteFile("status", "Name:\tx\nCapInh:\t0000000000000000\nCapBnd:\t000001fffeffffff\n");
        Assert.Equal(0x1fffeffffffUL, Capabilities.ReadOwnBounding(f));
        Assert.Equal(ulong.MaxValue, Capabilities.ReadOwnBounding(dir.Sub("absent")));
    }

    [Fact]
    public void Names_round_trip()
    {
        Assert.Equal("CAP_NET_ADMIN", Capabilities.Name(12));
        Assert.Equal("CAP_CHECKPOINT_RESTORE", Capabilities.Name(40));
        Assert.Equal("CAP_45", Capabilities.Name(45));
        for (int bit = 0; bit <= 40; bit++)
            Assert.Equal(bit, Capabilities.Bit(Capabilities.Name(bit)));
    }
}
