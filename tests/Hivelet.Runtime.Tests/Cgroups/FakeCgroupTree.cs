using Hivelet.Runtime.Cgroups;
using Microsoft.Extensions.Logging;

namespace Hivelet.Runtime.Tests.Cgroups;

/// <summary>A cgroup mount root in a temp directory whose control files the test pre-creates.</summary>
internal sealed class FakeCgroupTree : IDisposable
{
    public const string V1MountInfo = """
        24 30 0:22 / /sys rw,nosuid,nodev,noexec,relatime shared:7 - sysfs sysfs rw
        30 24 0:27 / /sys/fs/cgroup ro,nosuid,nodev,noexec shared:9 - tmpfs tmpfs ro,mode=755
        32 30 0:29 / /sys/fs/cgroup/systemd rw,nosuid,nodev,noexec,relatime shared:11 - cgroup cgroup rw,xattr,name=systemd
        35 30 0:32 / /sys/fs/cgroup/cpu,cpuacct rw,nosuid,nodev,noexec,relatime shared:16 - cgroup cgroup rw,cpu,cpuacct
        36 30 0:33 / /sys/fs/cgroup/cpuset rw,nosuid,nodev,noexec,relatime shared:17 - cgroup cgroup rw,cpuset
        37 30 0:34 / /sys/fs/cgroup/memory rw,nosuid,nodev,noexec,relatime shared:18 - cgroup cgroup rw,memory
        38 30 0:35 / /sys/fs/cgroup/devices rw,nosuid,nodev,noexec,relatime shared:19 - cgroup cgroup rw,devices
        39 30 0:36 / /sys/fs/cgroup/freezer rw,nosuid,nodev,noexec,relatime shared:20 - cgroup cgroup rw,freezer
        40 30 0:37 / /sys/fs/cgroup/net_cls,net_prio rw,nosuid,nodev,noexec,relatime shared:21 - cgroup cgroup rw,net_cls,net_prio
        41 30 0:38 / /sys/fs/cgroup/blkio rw,nosuid,nodev,noexec,relatime shared:22 - cgroup cgroup rw,blkio
        42 30 0:39 / /sys/fs/cgroup/pids rw,nosuid,nodev,noexec,relatime shared:23 - cgroup cgroup rw,pids
        """;

    /// <summary>This build machine's text: v1 controllers each on its own, cgroup2 at unified/.</summary>
    public const string HybridMountInfo = """
        30 22 0:27 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
        31 30 0:28 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu
        32 30 0:29 / /sys/fs/cgroup/cpuacct rw,relatime - cgroup cgroup rw,cpuacct
        33 30 0:30 / /sys/fs/cgroup/cpuset rw,relatime - cgroup cgroup rw,cpuset
        34 30 0:31 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
        35 30 0:32 / /sys/fs/cgroup/devices rw,relatime - cgroup cgroup rw,devices
        36 30 0:33 / /sys/fs/cgroup/freezer rw,relatime - cgroup cgroup rw,freezer
        37 30 0:34 / /sys/fs/cgroup/blkio rw,relatime - cgroup cgroup rw,blkio
        38 30 0:35 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids
        39 30 0:36 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,name=systemd
        40 30 0:37 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw
        """;

    /// <summary>Raspberry Pi OS bookworm: pure cgroup v2.</summary>
    public const string V2MountInfo = """
        22 27 0:21 / /sys rw,nosuid,nodev,noexec,relatime shared:7 - sysfs sysfs rw
        26 22 0:24 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:4 - cgroup2 cgroup2 rw,nsdelegate,memory_recursiveprot
        """;

    public const string ProcCgroups = """
        #subsys_name	hierarchy	num_cgroups	enabled
        cpuset	3	1	1
        cpu	1	1	1
        cpuacct	2	1	1
        blkio	7	1	1
        memory	4	43	1
        devices	5	1	1
        freezer	6	1	1
        net_cls	0	1	1
        perf_event	0	1	1
        net_prio	0	1	1
        hugetlb	0	1	1
        pids	8	1	1
        """;

    /// <summary>A Pi kernel booted with memory switched off.</summary>
    public const string PiProcCgroups = """
        #subsys_name	hierarchy	num_cgroups	enabled
        cpuset	0	62	1
        cpu	0	62	1
        cpuacct	0	62	1
        blkio	0	62	1
        memory	0	62	0
        devices	0	62	1
        freezer	0	62	1
        net_cls	0	1	1
        perf_event	0	62	1
        net_prio	0	1	1
        pids	0	62	1
        """;

    public const string PiCmdline = "coherent_pool=1M 8250.nr_uarts=0 snd_bcm2835.enable_headphones=0 cgroup_disable=memory numa_policy=interleave smsc95xx.macaddr=D8:3A:DD:00:00:00 vc_mem.mem_base=0x3ec00000 console=ttyS0,115200 console=tty1 root=PARTUUID=0-02 rootfstype=ext4 fsck.repair=yes rootwait\n";

    public FakeCgroupTree()
    {
        Root = Path.Join(Path.GetTempPath(), "hivelet-cgtest-" + Guid.NewGuid().ToString("N")[..12]);
        Directory.CreateDirectory(Root);
    }

    public string Root { get; }

    public List<string> Writes { get; } = [];

    /// <summary>Creates files (and their directories), empty unless a content is given.</summary>
    public FakeCgroupTree Touch(string relative, string content = "")
    {
        var path = Path.Join(Root, relative);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, content);
        return this;
    }

    public FakeCgroupTree TouchAll(string dir, params string[] files)
    {
        foreach (var f in files)
            Touch(Path.Join(dir, f));
        return this;
    }

    public string Read(string relative) => File.ReadAllText(Path.Join(Root, relative));

    public CgroupManager Manager(string mountInfo, string procCgroups = ProcCgroups, string cmdline = "", string parent = "hivelet") =>
        new(Root, mountInfo, procCgroups, parent, cmdline, new WriteRecorder(Writes));

    public void Dispose() => Directory.Delete(Root, recursive: true);

    /// <summary>Records the "wrote VALUE to FILE" debug events in order: a fake file only keeps the last write.</summary>
    private sealed class WriteRecorder(List<string> writes) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (eventId.Id == 3102 && state is IReadOnlyList<KeyValuePair<string, object?>> kv)
            {
                var value = kv.First(p => p.Key == "Value").Value;
                var file = (string)kv.First(p => p.Key == "File").Value!;
                lock (writes)
                    writes.Add($"{Path.GetFileName(file)}={value}");
            }
        }
    }
}
