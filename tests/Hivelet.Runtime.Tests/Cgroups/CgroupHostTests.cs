using Hivelet.Errors;
using Hivelet.Runtime.Cgroups;

namespace Hivelet.Runtime.Tests.Cgroups;

public sealed class CgroupHostTests : IDisposable
{
    private readonly FakeCgroupTree _tree = new();

    public void Dispose() => _tree.Dispose();

    [Fact]
    public void V1WithCoMountedControllers()
    {
        var host = new CgroupHost(_tree.Root, FakeCgroupTree.V1MountInfo, FakeCgroupTree.ProcCgroups, "");
        Assert.Equal(CgroupLayout.V1, host.Layout);
        Assert.Null(host.UnifiedPath);
        Assert.Equal(Path.Join(_tree.Root, "cpu,cpuacct"), host.HierarchyOf("cpu")!.Path);
        Assert.Same(host.HierarchyOf("cpu"), host.HierarchyOf("cpuacct"));
        Assert.Equal(ControllerState.Present, host.StateOf("pids"));
        // name=systemd is not a controller; hugetlb is enabled but not mounted.
        Assert.DoesNotContain(host.Hierarchies, h => h.Controllers.Any(c => c.Contains("systemd", StringComparison.Ordinal)));
        Assert.Equal(ControllerState.NotMounted, host.StateOf("hugetlb"));
        Assert.Contains("mount -t cgroup -o hugetlb", host.Explain("hugetlb"));
    }

    [Fact]
    public void HybridAsOnThisBuildMachine()
    {
        var host = new CgroupHost(_tree.Root, FakeCgroupTree.HybridMountInfo, FakeCgroupTree.ProcCgroups, "");
        Assert.Equal(CgroupLayout.Hybrid, host.Layout);
        Assert.Equal(Path.Join(_tree.Root, "unified"), host.UnifiedPath);
        Assert.Equal(8, host.Hierarchies.Count);
        Assert.Equal(Path.Join(_tree.Root, "cpuacct"), host.HierarchyOf("cpuacct")!.Path);
        var group = new CgroupManager(_tree.Root, FakeCgroupTree.HybridMountInfo, FakeCgroupTree.ProcCgroups, "hivelet");
        Assert.Null(group.Open("abc"));
    }

    [Fact]
    public void PiOsV2WithMemoryDisabled()
    {
        _tree.Touch("cgroup.controllers", "cpuset cpu io pids\n");
        var host = new CgroupHost(_tree.Root, FakeCgroupTree.V2MountInfo, FakeCgroupTree.PiProcCgroups, FakeCgroupTree.PiCmdline);
        Assert.Equal(CgroupLayout.V2, host.Layout);
        Assert.Equal(_tree.Root, host.UnifiedPath);
        Assert.Empty(host.Hierarchies);
        Assert.Equal(ControllerState.Present, host.StateOf("cpu"));
        Assert.Equal(ControllerState.Present, host.StateOf("blkio"));
        Assert.Equal(ControllerState.Present, host.StateOf("devices"));
        Assert.Equal(ControllerState.Disabled, host.StateOf("memory"));
        Assert.Equal(
            "the memory cgroup controller is not enabled: add `cgroup_enable=memory cgroup_memory=1` to /boot/firmware/cmdline.txt (older images: /boot/cmdline.txt) " +
            "(the kernel command line in /proc/cmdline has `cgroup_disable=memory`: the enable option must come after it) and reboot",
            host.Explain("memory"));
    }

    [Fact]
    public void ACgroupEnableAfterTheDisableWins()
    {
        var host = new CgroupHost(_tree.Root, FakeCgroupTree.V2MountInfo, "", "cgroup_disable=memory cgroup_enable=memory");
        Assert.False(host.IsDisabledOnCmdline("memory"));
        Assert.True(new CgroupHost(_tree.Root, FakeCgroupTree.V2MountInfo, "", "cgroup_disable=cpuset,memory").IsDisabledOnCmdline("memory"));
    }

    [Fact]
    public void AControllerTheKernelLacksNamesItsConfigOption()
    {
        var procCgroups = string.Join('\n', FakeCgroupTree.ProcCgroups.Split('\n').Where(l => !l.StartsWith("pids", StringComparison.Ordinal)));
        var mountInfo = string.Join('\n', FakeCgroupTree.V1MountInfo.Split('\n').Where(l => !l.Contains("pids", StringComparison.Ordinal)));
        var host = new CgroupHost(_tree.Root, mountInfo, procCgroups, "");
        Assert.Equal(ControllerState.Missing, host.StateOf("pids"));
        Assert.Equal("the pids cgroup controller is missing: the kernel was built without CONFIG_CGROUP_PIDS", host.Explain("pids"));
    }

    [Fact]
    public void EscapedMountPointsAndOtherRoots()
    {
        var text = "31 30 0:28 / /sys/fs/cgroup/my\\040cpu rw - cgroup cgroup rw,cpu\n50 20 0:40 / /other/place rw - cgroup cgroup rw,memory\n";
        var host = new CgroupHost(_tree.Root, text, "", "");
        Assert.Equal(Path.Join(_tree.Root, "my cpu"), host.HierarchyOf("cpu")!.Path);
        // Outside /sys/fs/cgroup, a mount only counts for the real host.
        Assert.Null(host.HierarchyOf("memory"));
    }

    [Fact]
    public void NoCgroupMountIsAnError()
    {
        var e = Assert.Throws<HiveletException>(() => new CgroupHost(_tree.Root, "22 1 0:5 / /proc rw - proc proc rw\n", "", ""));
        Assert.Contains("no cgroup or cgroup2 file system is mounted", e.Message);
    }

    [Fact]
    public void TheProbeListsMissingControllersWithHints()
    {
        _tree.Touch("cgroup.controllers", "cpuset cpu io pids\n");
        var manager = _tree.Manager(FakeCgroupTree.V2MountInfo, FakeCgroupTree.PiProcCgroups, FakeCgroupTree.PiCmdline);
        var probe = CgroupProbe.Read(manager, Path.Join(_tree.Root, "no-such-ns"));
        Assert.Equal(2, probe.Version);
        Assert.Equal("cgroupfs", probe.Driver);
        Assert.False(probe.SwapAccounting);
        Assert.False(probe.CgroupNamespaces);
        var memory = Assert.Single(probe.Controllers, c => c.Name == "memory");
        Assert.False(memory.Present);
        Assert.Contains("cgroup_enable=memory", memory.Hint);
        Assert.Contains(probe.Controllers, c => c.Name == "io" && c.Present);
        Assert.Contains(probe.Controllers, c => c.Name == "hugetlb" && !c.Present);
    }
}
