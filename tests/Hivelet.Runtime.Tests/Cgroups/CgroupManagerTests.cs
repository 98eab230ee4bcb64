using Hivelet.Errors;
using Hivelet.Runtime.Cgroups;

namespace Hivelet.Runtime.Tests.Cgroups;

/// <summary>The manager on fake trees: which files get which values, in which order.</summary>
public sealed class CgroupManagerTests : IDisposable
{
    private const string Id = "0123abcd";
    private readonly FakeCgroupTree _tree = new();

    public void Dispose() => _tree.Dispose();

    private void V1Tree(bool swap = true, string blkioWeightFile = "blkio.bfq.weight")
    {
        string g = $"hivelet/{Id}";
        _tree.Touch("cpuset/cpuset.cpus", "0-3\n").Touch("cpuset/cpuset.mems", "0\n")
            .TouchAll("cpuset/hivelet", "cpuset.cpus", "cpuset.mems")
            .TouchAll($"cpuset/{g}", "cpuset.cpus", "cpuset.mems", "cgroup.procs")
            .TouchAll($"memory/{g}", "memory.limit_in_bytes", "cgroup.procs")
            .TouchAll($"cpu,cpuacct/{g}", "cpu.shares", "cpu.cfs_period_us", "cpu.cfs_quota_us", "cgroup.procs")
            .TouchAll($"pids/{g}", "pids.max", "cgroup.procs")
            .TouchAll($"blkio/{g}", blkioWeightFile, "cgroup.procs")
            .TouchAll($"devices/{g}", "devices.allow", "devices.deny", "cgroup.procs")
            .TouchAll($"freezer/{g}", "cgroup.procs");
        if (swap)
            _tree.Touch("memory/memory.memsw.limit_in_bytes").Touch($"memory/{g}/memory.memsw.limit_in_bytes");
    }

    private void V2Tree(string controllers = "cpuset cpu io memory hugetlb pids rdma misc", bool swap = true)
    {
        string g = $"hivelet/{Id}";
        _tree.Touch("cgroup.controllers", controllers + "\n").Touch("cgroup.subtree_control").Touch("hivelet/cgroup.subtree_control")
            .TouchAll(g, "cpuset.cpus", "cpuset.mems", "memory.max", "cpu.weight", "cpu.max", "pids.max", "io.weight", "cgroup.procs");
        if (swap)
            _tree.Touch($"{g}/memory.swap.max");
    }

    private static readonly CgroupResources Everything = new()
    {
        MemoryBytes = 100 << 20,
        MemorySwapBytes = 300 << 20,
        NanoCpus = 1_500_000_000,
        CpuShares = 512,
        CpusetCpus = "1",
        CpusetMems = "0",
        PidsLimit = 64,
        BlkioWeight = 300,
        Devices = [new(false, 'a', -1, -1, "rwm"), new(true, 'c', 1, 3, "rwm"), new(false, 'c', 10, 229, "rwm")],
    };

    [Fact]
    public void V1WritesEveryLimitInOrder()
    {
        V1Tree();
        var g = _tree.Manager(FakeCgroupTree.V1MountInfo).Create(Id, Everything);
        Assert.Equal(
        [
            // cpuset inherited from the root into hivelet/ and the group: an empty cpuset refuses tasks.
            "cpuset.cpus=0-3", "cpuset.mems=0", "cpuset.cpus=0-3", "cpuset.mems=0",
            "cpuset.cpus=1", "cpuset.mems=0",
            // memory+swap after memory: the kernel refuses memsw below the memory limit.
            "memory.limit_in_bytes=104857600", "memory.memsw.limit_in_bytes=314572800",
            "cpu.shares=512", "cpu.cfs_period_us=100000", "cpu.cfs_quota_us=150000",
            "pids.max=64",
            "blkio.bfq.weight=300",
            "devices.deny=a", "devices.deny=a", "devices.allow=c 1:3 rwm", "devices.deny=c 10:229 rwm",
        ], _tree.Writes);
        Assert.Equal("0-3", _tree.Read("cpuset/hivelet/cpuset.cpus"));
        Assert.Equal(7, g.ProcsFiles.Count);
        Assert.Contains(Path.Join(_tree.Root, $"cpu,cpuacct/hivelet/{Id}/cgroup.procs"), g.ProcsFiles);
        Assert.DoesNotContain(g.ProcsFiles, p => p.Contains("net_cls", StringComparison.Ordinal));
        Assert.Equal((Path.Join(_tree.Root, $"memory/hivelet/{Id}/memory.oom_control"), "oom_kill"), g.OomCounter);
    }

    [Fact]
    public void V1PrefersBlkioWeightAndDefaultsSwapToTwiceMemory()
    {
        V1Tree(blkioWeightFile: "blkio.weight");
        _tree.Manager(FakeCgroupTree.V1MountInfo).Create(Id, new CgroupResources { MemoryBytes = 1000, BlkioWeight = 10, Devices = DeviceRules.AllowAll });
        Assert.Equal(
            ["cpuset.cpus=0-3", "cpuset.mems=0", "cpuset.cpus=0-3", "cpuset.mems=0",
             "memory.limit_in_bytes=1000", "memory.memsw.limit_in_bytes=2000", "blkio.weight=10", "devices.allow=a"],
            _tree.Writes);
    }

    [Fact]
    public void V1SwapWithoutAccountingIsAnError()
    {
        V1Tree(swap: false);
        var m = _tree.Manager(FakeCgroupTree.V1MountInfo);
        Assert.False(m.SwapAccounted);
        var e = Assert.Throws<MissingControllerException>(() => m.Create(Id, new CgroupResources { MemoryBytes = 1000, MemorySwapBytes = 3000 }));
        Assert.StartsWith("set memory+swap limit: Your kernel does not support swap limit capabilities or the cgroup is not mounted", e.Message);
        // Memory alone is fine, and unlimited swap is what such a kernel does anyway.
        _tree.Writes.Clear();
        m.Create(Id, new CgroupResources { MemoryBytes = 1000, MemorySwapBytes = -1, Devices = DeviceRules.AllowAll });
        Assert.Contains("memory.limit_in_bytes=1000", _tree.Writes);
        Assert.DoesNotContain(_tree.Writes, w => w.StartsWith("memory.memsw", StringComparison.Ordinal));
    }

    [Fact]
    public void V2EnablesControllersAndConvertsValues()
    {
        V2Tree();
        var m = _tree.Manager(FakeCgroupTree.V2MountInfo);
        var g = m.Create(Id, Everything with { Devices = DeviceRules.AllowAll });
        string[] enable = ["cgroup.subtree_control=+cpuset", "cgroup.subtree_control=+cpu", "cgroup.subtree_control=+io", "cgroup.subtree_control=+memory", "cgroup.subtree_control=+pids"];
        Assert.Equal(
        [
            .. enable, .. enable,
            "cpuset.cpus=1", "cpuset.mems=0",
            "memory.max=104857600", "memory.swap.max=209715200",
            "cpu.weight=20", "cpu.max=150000 100000",
            "pids.max=64",
            "io.weight=2930",
        ], _tree.Writes);
        Assert.Equal([Path.Join(_tree.Root, $"hivelet/{Id}/cgroup.procs")], g.ProcsFiles);
        Assert.Equal((Path.Join(_tree.Root, $"hivelet/{Id}/memory.events"), "oom_kill"), g.OomCounter);
        Assert.True(m.SwapAccounted);
    }

    [Fact]
    public void V2UsesBfqWeightsAsIsAndSkipsEnabledControllers()
    {
        V2Tree(controllers: "cpu io memory pids");
        _tree.Touch("cgroup.subtree_control", "cpu io memory pids\n").Touch($"hivelet/{Id}/io.bfq.weight");
        _tree.Manager(FakeCgroupTree.V2MountInfo).Create(Id, new CgroupResources { BlkioWeight = 300, PidsLimit = -1, Devices = DeviceRules.AllowAll });
        Assert.Equal(
            ["cgroup.subtree_control=+cpu", "cgroup.subtree_control=+io", "cgroup.subtree_control=+memory", "cgroup.subtree_control=+pids", "io.bfq.weight=300"],
            _tree.Writes);
    }

    [Fact]
    public void AMissingControllerIsAnErrorBeforeAnythingIsCreated()
    {
        _tree.Touch("cgroup.controllers", "cpuset cpu io pids\n").Touch("cgroup.subtree_control");
        var m = _tree.Manager(FakeCgroupTree.V2MountInfo, FakeCgroupTree.PiProcCgroups, FakeCgroupTree.PiCmdline);
        var e = Assert.Throws<MissingControllerException>(() => m.Create(Id, new CgroupResources { MemoryBytes = 64 << 20 }));
        Assert.Equal("memory", e.Controller);
        Assert.StartsWith("set memory limit: the memory cgroup controller is not enabled: add `cgroup_enable=memory cgroup_memory=1` to /boot/firmware/cmdline.txt", e.Message);
        Assert.Equal(125, e.ExitCode);
        Assert.False(Directory.Exists(Path.Join(_tree.Root, "hivelet")));

        // Without limits the same host runs containers, and they have no OOM counter.
        _tree.Touch("hivelet/cgroup.subtree_control").TouchAll($"hivelet/{Id}", "pids.max");
        var g = m.Create(Id, new CgroupResources { Devices = DeviceRules.AllowAll });
        Assert.Null(g.OomCounter);
        Assert.DoesNotContain("cgroup.subtree_control=+memory", _tree.Writes);
    }

    [Theory]
    [InlineData("cpu")]
    [InlineData("pids")]
    [InlineData("cpuset")]
    [InlineData("blkio")]
    [InlineData("devices")]
    public void EveryLimitNeedsItsController(string controller)
    {
        var mountInfo = string.Join('\n', FakeCgroupTree.V1MountInfo.Split('\n').Where(l => !l.Contains("rw," + controller, StringComparison.Ordinal)));
        var m = _tree.Manager(mountInfo);
        var r = controller switch
        {
            "cpu" => new CgroupResources { NanoCpus = 1_000_000_000 },
            "pids" => new CgroupResources { PidsLimit = 10 },
            "cpuset" => new CgroupResources { CpusetCpus = "0" },
            "blkio" => new CgroupResources { BlkioWeight = 100 },
            _ => new CgroupResources(),
        };
        var e = Assert.Throws<MissingControllerException>(() => m.Create(Id, r));
        Assert.Equal(controller, e.Controller);
        Assert.Contains($"the {controller} cgroup controller is not mounted", e.Message);
    }

    [Fact]
    public void BadValuesAreRefused()
    {
        V1Tree();
        var m = _tree.Manager(FakeCgroupTree.V1MountInfo);
        Assert.Throws<InvalidInputException>(() => m.Create("../x", new CgroupResources()));
        Assert.Throws<InvalidInputException>(() => m.Create(Id, new CgroupResources { BlkioWeight = 5 }));
        Assert.Throws<InvalidInputException>(() => m.Create(Id, new CgroupResources { MemorySwapBytes = 10 }));
        Assert.Throws<InvalidInputException>(() => m.Create(Id, new CgroupResources { NanoCpus = 1000 }));
        Assert.Empty(_tree.Writes);
    }

    [Fact]
    public void StatsOnV1()
    {
        V1Tree();
        string g = $"hivelet/{Id}";
        _tree.Touch($"cpu,cpuacct/{g}/cpuacct.usage", "123456789\n")
            .Touch($"memory/{g}/memory.usage_in_bytes", "10000\n")
            .Touch($"memory/{g}/memory.stat", "cache 0\ninactive_file 1\ntotal_inactive_file 1000\n")
            .Touch($"memory/{g}/memory.limit_in_bytes", "9223372036854771712\n")
            .Touch($"pids/{g}/pids.current", "3\n").Touch($"pids/{g}/pids.max", "max\n")
            .Touch($"blkio/{g}/blkio.throttle.io_service_bytes", "8:0 Read 10\n8:0 Write 20\n8:0 Total 30\nTotal 30\n")
            .Touch($"pids/{g}/cgroup.procs", "41\n42\n");
        var group = _tree.Manager(FakeCgroupTree.V1MountInfo).Open(Id)!;
        Assert.Equal(new CgroupStats(123456789, 9000, 0, 3, 0, 10, 20), group.ReadStats());
        Assert.Equal([41, 42], group.ReadPids());
    }

    [Fact]
    public void StatsOnV2()
    {
        V2Tree();
        string g = $"hivelet/{Id}";
        _tree.Touch($"{g}/cpu.stat", "usage_usec 1500\nuser_usec 1000\nsystem_usec 500\n")
            .Touch($"{g}/memory.current", "8192\n").Touch($"{g}/memory.stat", "anon 4096\ninactive_file 4096\n")
            .Touch($"{g}/memory.max", "67108864\n")
            .Touch($"{g}/pids.current", "2\n").Touch($"{g}/pids.max", "100\n")
            .Touch($"{g}/io.stat", "8:0 rbytes=5 wbytes=6 rios=1 wios=1 dbytes=0 dios=0\n");
        var group = _tree.Manager(FakeCgroupTree.V2MountInfo).Open(Id)!;
        Assert.Equal(new CgroupStats(1_500_000, 4096, 67108864, 2, 100, 5, 6), group.ReadStats());
    }

    [Fact]
    public void StatsAreZeroWhereControllersAreAbsent()
    {
        _tree.Touch("cgroup.controllers", "cpu\n").Touch($"hivelet/{Id}/cpu.stat", "usage_usec 2\n");
        var group = _tree.Manager(FakeCgroupTree.V2MountInfo).Open(Id)!;
        Assert.Equal(new CgroupStats(2000, 0, 0, 0, 0, 0, 0), group.ReadStats());
    }

    [Fact]
    public void CleanupStaleRemovesOnlyGroupsOfGoneContainers()
    {
        foreach (var h in (string[])["cpu,cpuacct", "cpuset", "memory", "devices", "freezer", "blkio", "pids"])
        {
            Directory.CreateDirectory(Path.Join(_tree.Root, h, "hivelet", "live"));
            Directory.CreateDirectory(Path.Join(_tree.Root, h, "hivelet", "gone"));
        }
        var m = _tree.Manager(FakeCgroupTree.V1MountInfo);
        Assert.Equal(1, m.CleanupStale(new HashSet<string> { "live" }));
        Assert.Null(m.Open("gone"));
        Assert.NotNull(m.Open("live"));
        Assert.True(Directory.Exists(Path.Join(_tree.Root, "pids", "hivelet", "live")));
    }

    [Fact]
    public void CleanupStaleForOneStoreLeavesGroupsWithProcessesAndYoungGroups()
    {
        var hierarchies = (string[])["cpu,cpuacct", "cpuset", "memory", "devices", "freezer", "blkio", "pids"];
        foreach (var h in hierarchies)
        {
            foreach (var id in (string[])["live", "busy", "young", "old"])
                Directory.CreateDirectory(Path.Join(_tree.Root, h, "hivelet", id));
        }
        File.WriteAllText(Path.Join(_tree.Root, "memory", "hivelet", "busy", "cgroup.procs"), "4242\n");
        var hourAgo = DateTime.UtcNow.AddHours(-1);
        foreach (var h in hierarchies)
        {
            foreach (var id in (string[])["live", "busy", "old"])
                Directory.SetLastWriteTimeUtc(Path.Join(_tree.Root, h, "hivelet", id), hourAgo);
        }
        var m = _tree.Manager(FakeCgroupTree.V1MountInfo);

        Assert.Equal(1, m.CleanupStale(new HashSet<string> { "live" }, TimeSpan.FromMinutes(2), killProcesses: false));

        Assert.Null(m.Open("old"));
        Assert.NotNull(m.Open("live"));
        Assert.NotNull(m.Open("busy"));
        Assert.NotNull(m.Open("young"));
    }
}
