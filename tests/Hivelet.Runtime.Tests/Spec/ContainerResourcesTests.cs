using Hivelet.Errors;
using Hivelet.Runtime.Cgroups;
using Hivelet.Runtime.Containers;
using Hivelet.Runtime.Spec;

namespace Hivelet.Runtime.Tests.Spec;

public class ContainerResourcesTests
{
    [Fact]
    public void Dockers_device_rules_then_the_users_devices()
    {
        var host = new HostConfig
        {
            Memory = 64L << 20,
            MemorySwap = -1,
            NanoCpus = 1_500_000_000,
            CpuShares = 512,
            PidsLimit = 100,
            BlkioWeight = 300,
            CpusetCpus = "0",
            Devices = [new DeviceMapping { PathOnHost = "/dev/null", PathInContainer = "/dev/gpiomem", CgroupPermissions = "rw" }],
        };
        var r = ContainerResources.From(host);
        Assert.Equal((64L << 20, -1L, 1_500_000_000L, 512L, 100L, 300, "0"),
            (r.MemoryBytes!.Value, r.MemorySwapBytes!.Value, r.NanoCpus!.Value, r.CpuShares!.Value, r.PidsLimit!.Value, r.BlkioWeight!.Value, r.CpusetCpus));
        Assert.Null(r.CpusetMems);
        Assert.Equal(ContainerResources.DefaultDeviceRules, r.Devices.Take(ContainerResources.DefaultDeviceRules.Count));
        Assert.Equal(new DeviceRule(true, 'c', 1, 3, "rw"), r.Devices[^1]);
        Assert.Contains(new DeviceRule(true, 'c', 136, -1, "rwm"), r.Devices);
        Assert.All(r.Devices, d => Assert.True(d.Allow));
    }

    [Fact]
    public void Nothing_set_means_no_limits()
    {
        var r = ContainerResources.From(new HostConfig());
        Assert.Null(r.MemoryBytes);
        Assert.Null(r.MemorySwapBytes);
        Assert.Null(r.NanoCpus);
        Assert.Null(r.PidsLimit);
        Assert.Null(r.CpusetCpus);
    }

    [Fact]
    public void Host_devices_are_found_and_symlinks_skipped()
    {
        var all = HostDevice.All();
        Assert.Contains(all, d => d.Path == "/dev/null" && d.Device == new HostDevice('c', 1, 3, 0x1b6, 0, 0));
        Assert.DoesNotContain(all, d => d.Path == "/dev/fd" || d.Path == "/dev/stdin" || d.Path.StartsWith("/dev/pts/", StringComparison.Ordinal));
    }

    [Fact]
    public void Privileged_allows_every_device()
    {
        var r = ContainerResources.From(new HostConfig { Privileged = true });
        Assert.Equal([new DeviceRule(true, 'a', -1, -1, "rwm")], r.Devices);
    }

    [Fact]
    public void A_missing_or_non_device_host_path_is_an_error_naming_it()
    {
        var e = Assert.Throws<InvalidInputException>(() => ContainerResources.From(new HostConfig
        {
            Devices = [new DeviceMapping { PathOnHost = "/dev/i2c-hivelet-missing", PathInContainer = "/dev/i2c-1" }],
        }));
        Assert.Equal("error gathering device information while adding custom device \"/dev/i2c-hivelet-missing\": No such file or directory (ENOENT)", e.Message);
        e = Assert.Throws<InvalidInputException>(() => ContainerResources.From(new HostConfig
        {
            Devices = [new DeviceMapping { PathOnHost = "/etc/hostname", PathInContainer = "/dev/x" }],
        }));
        Assert.EndsWith("not a device node", e.Message, StringComparison.Ordinal);
    }
}
