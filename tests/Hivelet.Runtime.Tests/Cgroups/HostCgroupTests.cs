using Hivelet.Interop;
using Hivelet.Runtime.Cgroups;

namespace Hivelet.Runtime.Tests.Cgroups;

/// <summary>Root tests on this machine's real hybrid hierarchy (v1 controllers + cgroup2 at /sys/fs/cgroup/unified).</summary>
public sealed class HostCgroupTests : IDisposable
{
    private readonly HostCgroupFixture? _fx = HostCgroupFixture.HybridHostAvailable ? new HostCgroupFixture() : null;

    public void Dispose()
    {
        _fx?.Dispose();
        if (_fx is not null)
            Assert.Empty(_fx.Leftovers());
    }

    private bool Skip(string why)
    {
        if (_fx is not null)
            return false;
        Console.WriteLine($"skipped: {why} needs root on a host with the hybrid cgroup layout");
        return true;
    }

    [Fact]
    public void LimitsReachTheKernelFiles()
    {
        if (Skip("writing cgroup limits"))
            return;
        var fx = _fx!;
        Assert.Equal(CgroupLayout.Hybrid, fx.Manager.Layout);
        var g = fx.Create("limits", new CgroupResources
        {
            MemoryBytes = 64 << 20,
            MemorySwapBytes = 96 << 20,
            NanoCpus = 500_000_000,
            CpuShares = 512,
            CpusetCpus = "0",
            PidsLimit = 50,
        });
        string R(string controller, string file) => File.ReadAllText($"/sys/fs/cgroup/{controller}/{fx.Parent}/limits/{file}").Trim();
        Assert.Equal((64 << 20).ToString(), R("memory", "memory.limit_in_bytes"));
        Assert.Equal((96 << 20).ToString(), R("memory", "memory.memsw.limit_in_bytes"));
        Assert.Equal("100000", R("cpu", "cpu.cfs_period_us"));
        Assert.Equal("50000", R("cpu", "cpu.cfs_quota_us"));
        Assert.Equal("512", R("cpu", "cpu.shares"));
        Assert.Equal("0", R("cpuset", "cpuset.cpus"));
        Assert.NotEmpty(R("cpuset", "cpuset.mems"));
        Assert.Equal("50", R("pids", "pids.max"));
        var devices = R("devices", "devices.list").Split('\n');
        Assert.Contains("c 1:3 rwm", devices);
        Assert.Contains("c 136:* rwm", devices);
        Assert.DoesNotContain("a *:* rwm", devices);
        Assert.Equal(($"/sys/fs/cgroup/memory/{fx.Parent}/limits/memory.oom_control", "oom_kill"), g.OomCounter);

        var stats = g.ReadStats();
        Assert.Equal((ulong)(64 << 20), stats.MemoryLimitBytes);
        Assert.Equal(50UL, stats.PidsLimit);
    }

    [Fact]
    public void AJoinedProcessIsSeenCountedAndKilled()
    {
        if (Skip("moving a process into a cgroup"))
            return;
        var fx = _fx!;
        var g = fx.Create("kill", new CgroupResources { PidsLimit = 10 });
        Assert.Equal(8, g.ProcsFiles.Count);
        var sleep = fx.StartSleep();
        HostCgroupFixture.Join(g, sleep.Id);
        Assert.Equal([sleep.Id], g.ReadPids());
        Assert.Equal(1UL, g.ReadStats().Pids);

        g.KillAll();
        Assert.True(sleep.WaitForExit(2000));
        Assert.Empty(g.ReadPids());
        g.Remove();
        Assert.Null(fx.Manager.Open("kill"));
        g.Remove();
    }

    [Fact]
    public void DeviceRulesAreEnforcedByTheV1Controller()
    {
        if (Skip("device cgroup rules"))
            return;
        var fx = _fx!;
        var g = fx.Create("dev", new CgroupResources { Devices = [new(false, 'a', -1, -1, "rwm"), new(true, 'c', 1, 3, "rwm")] });
        var p = fx.Start("read x; if head -c 1 /dev/zero >/dev/null; then echo zero; fi; echo null >/dev/null && echo null");
        HostCgroupFixture.Join(g, p.Id);
        Assert.Equal("null", HostCgroupFixture.Release(p));
    }

    [Fact]
    public void AnOomKillIsCounted()
    {
        if (Skip("memory limits"))
            return;
        var fx = _fx!;
        var g = fx.Create("oom", new CgroupResources { MemoryBytes = 16 << 20, MemorySwapBytes = 16 << 20 });
        var (file, key) = g.OomCounter!.Value;
        Assert.Equal(0UL, CgroupValues.ParseKeyed(File.ReadAllText(file), key));
        // awk holds the whole 64 MiB line it builds: it cannot fit in 16.
        var p = fx.Start("read x; awk 'BEGIN { s = \"x\"; while (length(s) < 67108864) s = s s; print length(s) }'; echo done");
        HostCgroupFixture.Join(g, p.Id);
        Assert.Equal("done", HostCgroupFixture.Release(p));
        Assert.True(CgroupValues.ParseKeyed(File.ReadAllText(file), key) >= 1);
    }

    [Fact]
    public void ARefusedWriteNamesTheFileTheValueAndTheError()
    {
        if (Skip("memory limits"))
            return;
        var fx = _fx!;
        var g = (Cgroup)fx.Create("refused", new CgroupResources { MemoryBytes = 64 << 20, MemorySwapBytes = -1 });
        // The kernel refuses a memory+swap limit below the memory limit.
        string file = $"/sys/fs/cgroup/memory/{fx.Parent}/refused/memory.memsw.limit_in_bytes";
        var e = Assert.Throws<Hivelet.Errors.HiveletException>(() => g.Write(file, "4096", "set memory+swap limit"));
        Assert.Equal($"set memory+swap limit: write \"4096\" to `{file}`: Invalid argument (EINVAL)", e.Message);
    }

    [Fact]
    public void CleanupStaleRemovesGroupsOfContainersThatAreGone()
    {
        if (Skip("removing cgroups"))
            return;
        var fx = _fx!;
        fx.Create("alive", new CgroupResources());
        var dead = fx.Create("dead", new CgroupResources());
        var sleep = fx.StartSleep();
        HostCgroupFixture.Join(dead, sleep.Id);
        Assert.Equal(1, fx.Manager.CleanupStale(new HashSet<string> { "alive" }));
        Assert.True(sleep.WaitForExit(2000));
        Assert.Null(fx.Manager.Open("dead"));
        Assert.NotNull(fx.Manager.Open("alive"));
    }

    [Fact]
    public void TheProbeDescribesThisHost()
    {
        if (Skip("probing cgroups"))
            return;
        var probe = CgroupProbe.Read(_fx!.Manager);
        Assert.Equal(CgroupLayout.Hybrid, probe.Layout);
        Assert.Equal("cgroupfs", probe.Driver);
        Assert.Equal(1, probe.Version);
        Assert.True(probe.SwapAccounting);
        Assert.True(probe.CgroupNamespaces);
        Assert.All(probe.Controllers.Where(c => c.Name != "hugetlb"), c => Assert.True(c.Present, c.Name));
    }
}

/// <summary>
/// Root tests of the v2 code paths on this host: its cgroup2 mount (/sys/fs/cgroup/unified) treated as
/// a pure v2 root. It delegates no resource controller here, but the eBPF device program, cgroup.kill
/// and cgroup.freeze are all cgroup2 features and work on it.
/// </summary>
public sealed class UnifiedCgroupTests : IDisposable
{
    private readonly HostCgroupFixture? _fx = HostCgroupFixture.HybridHostAvailable ? HostCgroupFixture.UnifiedAsV2() : null;

    public void Dispose()
    {
        _fx?.Dispose();
        if (_fx is not null)
            Assert.Empty(_fx.Leftovers());
    }

    [Fact]
    public void TheDeviceProgramIsAttachedAndEnforced()
    {
        if (_fx is null)
        {
            Console.WriteLine("skipped: loading a BPF device program needs root and a cgroup2 mount");
            return;
        }
        Assert.Equal(CgroupLayout.V2, _fx.Manager.Layout);
        var g = _fx.Create("bpf", new CgroupResources { Devices = DeviceRules.DockerDefault.Where(r => !(r.Major == 1 && r.Minor == 5)).ToList() });
        string dir = $"/sys/fs/cgroup/unified/{_fx.Parent}/bpf";
        Assert.Equal(1, Sys.CountCgroupDevicePrograms(dir));
        var p = _fx.Start("read x; if head -c 1 /dev/zero >/dev/null; then echo zero; fi; head -c 1 /dev/urandom >/dev/null && echo urandom");
        HostCgroupFixture.Join(g, p.Id);
        Assert.Equal("urandom", HostCgroupFixture.Release(p));
    }

    [Fact]
    public void ALeftoverGroupIsRecreatedWithoutItsOldProgram()
    {
        if (_fx is null)
        {
            Console.WriteLine("skipped: loading a BPF device program needs root and a cgroup2 mount");
            return;
        }
        _fx.Create("again", new CgroupResources());
        _fx.Create("again", new CgroupResources());
        Assert.Equal(1, Sys.CountCgroupDevicePrograms($"/sys/fs/cgroup/unified/{_fx.Parent}/again"));
    }

    [Fact]
    public void KillAllUsesTheGroupsKillFile()
    {
        if (_fx is null)
        {
            Console.WriteLine("skipped: cgroup.kill needs root and a cgroup2 mount");
            return;
        }
        var g = _fx.Create("kill", new CgroupResources { Devices = DeviceRules.AllowAll });
        var sleep = _fx.StartSleep();
        HostCgroupFixture.Join(g, sleep.Id);
        Assert.Single(g.ProcsFiles);
        Assert.Equal([sleep.Id], g.ReadPids());
        g.KillAll();
        Assert.True(sleep.WaitForExit(2000));
        g.Remove();
        Assert.False(Directory.Exists($"/sys/fs/cgroup/unified/{_fx.Parent}/kill"));
    }
}
