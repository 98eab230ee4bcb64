using System.Text.Json;
using Hivelet.Images.Oci;
using Hivelet.Runtime.Cgroups;
using Hivelet.Runtime.Containers;
using Hivelet.Runtime.Security;
using Hivelet.Runtime.Spec;
using Hivelet.Runtime.Volumes;

namespace Hivelet.Runtime.Tests.Spec;

public sealed class BundleWriterTests : IDisposable
{
    private const char US = '\x1f';
    private readonly TempDir _dir = new();
    private readonly VolumeStore _volumes;
    private readonly string _rootfs;

    public BundleWriterTests()
    {
        _volumes = new VolumeStore(_dir.Sub("store"));
        _rootfs = _dir.Sub("merged");
        _dir.WriteFile("merged/etc/passwd", "root:x:0:0:root:/root:/bin/sh\nwww:x:33:33::/var/www:/bin/sh\n");
        _dir.WriteFile("merged/etc/group", "root:x:0:\nwww:x:33:\n");
    }

    public void Dispose() => _dir.Dispose();

    private BundleRequest Request(RunOptions o, ImageConfig? image = null, CgroupLayout layout = CgroupLayout.Hybrid, bool attach = false)
    {
        image ??= Images.Make(cmd: ["sh"]);
        var rec = ContainerFactory.Create(o, image, "sha256:" + Images.Id, null, Images.Id, "web", _volumes);
        var cg = layout == CgroupLayout.V2
            ? new PathsOnlyCgroup(Images.Id, $"/sys/fs/cgroup/hivelet/{Images.Id}/cgroup.procs")
            : new PathsOnlyCgroup(Images.Id,
                $"/sys/fs/cgroup/memory/hivelet/{Images.Id}/cgroup.procs",
                $"/sys/fs/cgroup/cpu,cpuacct/hivelet/{Images.Id}/cgroup.procs",
                $"/sys/fs/cgroup/pids/hivelet/{Images.Id}/cgroup.procs");
        return new BundleRequest(rec, image, _dir.Sub("bundle"), _rootfs, cg, layout, "/usr/bin/hivelet",
            "/var/lib/hivelet", "/run/hivelet", attach);
    }

    private static Dictionary<string, List<string>> Plan(BundleWriter.Content c) => Images.Decode(c.Plan.ToBytes());

    [Fact]
    public void Typical_run_plan()
    {
        var o = new RunOptions { Image = "busybox", Command = ["sh", "-c", "echo hi"], Tty = true, Interactive = true };
        var p = Plan(new BundleWriter().Build(Request(o, attach: true)));
        string bundle = _dir.Sub("bundle");

        Assert.Equal(["1"], p["version"]);
        Assert.Equal([Images.Id], p["id"]);
        Assert.Equal([$"bind{US}{_rootfs}{US}"], p["rootfs_mount"]);
        Assert.Equal([Path.Combine(bundle, "rootfs")], p["rootfs"]);
        Assert.Equal(["mnt", "uts", "ipc", "pid", "net"], p["ns"]);
        Assert.Equal(["1"], p["net_lo"]);
        Assert.Equal([Images.Id[..12]], p["hostname"]);
        Assert.Equal(["sh", "-c", "echo hi"], p["arg"]);
        Assert.Equal(["/"], p["cwd"]);
        Assert.Equal(["0"], p["uid"]);
        Assert.Equal(["0"], p["gid"]);
        Assert.Equal([""], p["groups"]);
        Assert.Equal(["a80425fb"], p["cap_effective"]);
        Assert.Equal(["a80425fb"], p["cap_bounding"]);
        Assert.Equal(["a80425fb"], p["cap_permitted"]);
        Assert.Equal(["0"], p["cap_ambient"]);
        Assert.Equal(["0"], p["no_new_privs"]);
        Assert.Equal([Path.Combine(bundle, "seccomp.bpf")], p["seccomp"]);
        Assert.Equal(["1"], p["tty"]);
        Assert.Equal(["1"], p["stdin"]);
        Assert.Equal(["1"], p["attach"]);
        Assert.Equal(["15"], p["stop_signal"]);
        Assert.Equal(["no"], p["restart"]);
        Assert.Equal([(10L << 20).ToString(System.Globalization.CultureInfo.InvariantCulture)], p["log_max_size"]);
        Assert.Equal(["3"], p["log_max_files"]);
        Assert.Equal([Path.Combine(bundle, Images.Id + "-json.log")], p["log_path"]);
        Assert.Equal(["0"], p["oom_score_adj"]);
        Assert.Equal(["PATH=" + ContainerFactory.DefaultPath, "HOSTNAME=" + Images.Id[..12], "TERM=xterm", "HOME=/root"], p["env"]);
        Assert.Equal([$"net.ipv4.ping_group_range{US}0 2147483647", $"net.ipv4.ip_unprivileged_port_start{US}0"], p["sysctl"]);
        Assert.Equal(3, p["cgroup_procs"].Count);
        Assert.Equal([$"/sys/fs/cgroup/memory/hivelet/{Images.Id}/memory.oom_control{US}oom_kill"], p["oom_counter"]);
        Assert.False(p.ContainsKey("health_interval_ns"));

        var mounts = p["mount"].Select(m => m.Split(US)).ToList();
        Assert.All(mounts, m => Assert.Equal(6, m.Length));
        Assert.Equal(
            ["/proc", "/dev", "/dev/pts", "/dev/shm", "/dev/mqueue", "/sys", "/sys/fs/cgroup",
             "/sys/fs/cgroup/memory", "/sys/fs/cgroup/cpu,cpuacct", "/sys/fs/cgroup/pids",
             "/etc/resolv.conf", "/etc/hostname", "/etc/hosts"],
            mounts.Select(m => m[2]));
        Assert.Equal(["proc", "proc", "/proc", "e", "", "dir"], mounts[0]);
        Assert.Equal(["tmpfs", "tmpfs", "/dev", "1000002", "mode=755,size=65536k", "dir"], mounts[1]);
        Assert.Equal(["devpts", "devpts", "/dev/pts", "a", "newinstance,ptmxmode=0666,mode=0620,gid=5", "dir"], mounts[2]);
        Assert.Equal(["tmpfs", "shm", "/dev/shm", "e", "mode=1777,size=67108864", "dir"], mounts[3]);
        Assert.Equal(["sysfs", "sysfs", "/sys", "f", "", "dir"], mounts[5]);
        Assert.Equal(["bind", $"/sys/fs/cgroup/memory/hivelet/{Images.Id}", "/sys/fs/cgroup/memory", "100f", "", "dir"], mounts[7]);
        Assert.Equal(["bind", Path.Combine(bundle, "hosts"), "/etc/hosts", "1000", "", "file"], mounts[^1]);

        Assert.Contains($"cpu,cpuacct{US}/sys/fs/cgroup/cpu", p["symlink"]);
        Assert.Contains($"cpu,cpuacct{US}/sys/fs/cgroup/cpuacct", p["symlink"]);
        Assert.Contains($"/proc/self/fd{US}/dev/fd", p["symlink"]);
        Assert.Contains($"pts/ptmx{US}/dev/ptmx", p["symlink"]);
        Assert.Equal(
            ["/dev/null", "/dev/zero", "/dev/full", "/dev/random", "/dev/urandom", "/dev/tty"],
            p["device"].Select(d => d.Split(US)[0]));
        Assert.Equal($"/dev/null{US}c{US}1{US}3{US}666{US}0{US}0", p["device"][0]);
    }

    [Fact]
    public void Dockers_masked_and_readonly_paths()
    {
        var p = Plan(new BundleWriter().Build(Request(new RunOptions { Image = "busybox" })));
        foreach (var m in DockerDefaults.MaskedPaths)
            Assert.Contains(m, p["masked"]);
        Assert.Contains("/proc/kcore", p["masked"]);
        Assert.Contains("/sys/firmware", p["masked"]);
        Assert.Contains("/proc/interrupts", p["masked"]);
        Assert.Equal(["/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger", "/sys/fs/cgroup"], p["readonly"]);
        foreach (var tt in DockerDefaults.HostThermalThrottlePaths())
            Assert.Contains(tt, p["masked"]);
    }

    [Fact]
    public void Privileged_clears_masks_and_gets_every_capability_and_no_seccomp()
    {
        var c = new BundleWriter().Build(Request(new RunOptions { Image = "busybox", Privileged = true }));
        var p = Plan(c);
        Assert.False(p.ContainsKey("masked"));
        Assert.False(p.ContainsKey("readonly"));
        Assert.False(p.ContainsKey("seccomp"));
        Assert.Null(c.Seccomp);
        Assert.Equal([Capabilities.AllKnown.ToString("x", System.Globalization.CultureInfo.InvariantCulture)], p["cap_effective"]);
        Assert.Equal("e", p["mount"].Single(m => m.Split(US)[2] == "/sys").Split(US)[3]);
        var devices = p["device"].Select(d => d.Split(US)[0]).ToList();
        Assert.Equal(devices.Distinct().Count(), devices.Count);
        foreach (var (path, _) in HostDevice.All())
            Assert.Contains(path, devices);
        Assert.DoesNotContain("/dev/console", devices);
        Assert.DoesNotContain(devices, d => d.StartsWith("/dev/pts/", StringComparison.Ordinal));
    }

    [Fact]
    public void Host_network_shares_the_hosts_net_and_binds_sys()
    {
        var c = new BundleWriter().Build(Request(new RunOptions { Image = "busybox", Network = "host" }));
        var p = Plan(c);
        Assert.DoesNotContain("net", p["ns"]);
        Assert.False(p.ContainsKey("net_lo"));
        Assert.False(p.ContainsKey("sysctl"));
        Assert.Equal(["bind", "/sys", "/sys", "500f", "", "dir"], p["mount"].Single(m => m.Split(US)[2] == "/sys").Split(US));
        Assert.Equal([Environment.MachineName], p["hostname"]);
        Assert.Equal(File.ReadAllText("/etc/hosts"), c.Hosts);
    }

    [Fact]
    public void Cgroup_v2_gets_its_own_namespace_and_a_cgroup2_mount()
    {
        var p = Plan(new BundleWriter().Build(Request(new RunOptions { Image = "busybox" }, layout: CgroupLayout.V2)));
        Assert.Contains("cgroup", p["ns"]);
        Assert.Equal(["cgroup2", "cgroup", "/sys/fs/cgroup", "f", "", "dir"], p["mount"].Single(m => m.Split(US)[2] == "/sys/fs/cgroup").Split(US));
        Assert.DoesNotContain("/sys/fs/cgroup", p["readonly"]);
    }

    [Fact]
    public void User_security_limits_mounts_and_health()
    {
        var bindDir = _dir.Sub("www");
        Directory.CreateDirectory(bindDir);
        var o = new RunOptions
        {
            Image = "busybox",
            User = "www",
            GroupAdd = ["44"],
            Workdir = "/var/www",
            ReadOnly = true,
            ShmSize = "1g",
            CapAdd = ["NET_ADMIN"],
            CapDrop = ["CHOWN"],
            SecurityOpt = ["no-new-privileges", "seccomp=unconfined"],
            Ulimits = ["nofile=1024:2048", "core=-1"],
            OomScoreAdj = "-500",
            Sysctls = ["net.ipv4.ping_group_range=1 1", "kernel.shmmax=4096"],
            Volumes = [bindDir + ":/var/www:ro", "data:/data", bindDir + ":/data/sub"],
            Tmpfs = ["/run:exec"],
            Devices = ["/dev/null:/dev/gpiomem"],
            StopSignal = "SIGQUIT",
            Restart = "on-failure:4",
            Init = true,
            AutoRemove = false,
            HealthCmd = "test -f /tmp/ok",
            HealthRetries = "5",
            LogOpts = ["max-size=1m", "max-file=2"],
        };
        var c = new BundleWriter().Build(Request(o));
        var p = Plan(c);
        Assert.Equal(["33"], p["uid"]);
        Assert.Equal(["33"], p["gid"]);
        Assert.Equal(["44"], p["groups"]);
        Assert.Equal(["/var/www"], p["cwd"]);
        Assert.Equal(["1"], p["readonly_rootfs"]);
        Assert.Equal(["1"], p["no_new_privs"]);
        Assert.False(p.ContainsKey("seccomp"));
        Assert.Null(c.Seccomp);
        Assert.Equal([((Capabilities.DockerDefault & ~1UL) | (1UL << 12)).ToString("x", System.Globalization.CultureInfo.InvariantCulture)], p["cap_effective"]);
        Assert.Equal([$"7{US}1024{US}2048", $"4{US}-1{US}-1"], p["rlimit"]);
        Assert.Equal(["-500"], p["oom_score_adj"]);
        Assert.Equal([$"net.ipv4.ip_unprivileged_port_start{US}0", $"net.ipv4.ping_group_range{US}1 1", $"kernel.shmmax{US}4096"], p["sysctl"]);
        Assert.Equal(["3"], p["stop_signal"]);
        Assert.Equal(["on-failure"], p["restart"]);
        Assert.Equal(["4"], p["restart_max"]);
        Assert.Equal(["1"], p["init"]);
        Assert.Equal(["1048576"], p["log_max_size"]);
        Assert.Equal(["2"], p["log_max_files"]);
        Assert.Equal(["30000000000"], p["health_interval_ns"]);
        Assert.Equal(["30000000000"], p["health_timeout_ns"]);
        Assert.Equal(["0"], p["health_start_period_ns"]);
        Assert.Equal(["5"], p["health_retries"]);
        Assert.Contains("HOME=/var/www", p["env"]);

        var mounts = p["mount"].Select(m => m.Split(US)).ToList();
        Assert.Equal(["tmpfs", "shm", "/dev/shm", "e", "mode=1777,size=1073741824", "dir"], mounts[3]);
        var user = mounts.SkipWhile(m => !m[2].StartsWith("/sys/fs/cgroup/pids", StringComparison.Ordinal)).Skip(1).ToList();
        // Shallowest first, so /data is in place before /data/sub.
        Assert.Equal(["/data", "/run", "/var/www", "/data/sub", "/etc/resolv.conf", "/etc/hostname", "/etc/hosts"], user.Select(m => m[2]));
        Assert.Equal(["bind", _volumes.DataPath("data"), "/data", "5000", "", "dir"], user[0]);
        Assert.Equal(["tmpfs", "tmpfs", "/run", "6", "", "dir"], user[1]);
        Assert.Equal(["bind", bindDir, "/var/www", "5001", "", "dir"], user[2]);
        Assert.Equal("1001", user[^1][3]);
        Assert.Contains($"/dev/gpiomem{US}c{US}1{US}3{US}", p["device"].Single(d => d.StartsWith("/dev/gpiomem", StringComparison.Ordinal)));

        var h = Images.Decode(c.HealthPlan!.ToBytes());
        Assert.Equal(["/bin/sh", "-c", "test -f /tmp/ok"], h["arg"]);
        Assert.Equal(["0"], h["pid"]);
        Assert.Equal(["33"], h["uid"]);
        Assert.Equal(p["ns"], h["ns"]);
        Assert.Equal(p["cgroup_procs"], h["cgroup_procs"]);
        Assert.Equal(p["cap_effective"], h["cap_effective"]);
        Assert.Equal(["/var/www"], h["cwd"]);
    }

    [Fact]
    public void Unknown_user_fails_like_docker()
    {
        var e = Assert.Throws<Hivelet.Errors.HiveletException>(() =>
            new BundleWriter().Build(Request(new RunOptions { Image = "busybox", User = "nobody" })));
        Assert.Equal("unable to find user nobody: no matching entries in passwd file", e.Message);
    }

    [Fact]
    public void Missing_device_is_an_error_naming_it()
    {
        var o = new RunOptions { Image = "busybox", Devices = ["/dev/hivelet-no-such-device"] };
        var e = Assert.Throws<Hivelet.Errors.InvalidInputException>(() => new BundleWriter().Build(Request(o)));
        Assert.Contains("\"/dev/hivelet-no-such-device\"", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Write_puts_every_file_in_the_bundle_and_config_json_is_an_oci_spec()
    {
        var o = new RunOptions { Image = "busybox", Command = ["top"], HealthCmd = "true", Memory = "64m", Cpus = "0.5", PidsLimit = "50" };
        var req = Request(o);
        new BundleWriter().Write(req);
        var b = req.BundleDir;
        foreach (var f in new[] { "plan", "config.json", "hostname", "hosts", "resolv.conf", "seccomp.bpf", "exec.plan" })
            Assert.True(File.Exists(Path.Combine(b, f)), f);
        Assert.True(Directory.Exists(Path.Combine(b, "rootfs")));
        Assert.Empty(Directory.EnumerateFiles(b, "*.tmp-*"));
        var bpf = new FileInfo(Path.Combine(b, "seccomp.bpf")).Length;
        Assert.True(bpf > 0 && bpf % 8 == 0);
        Assert.Equal(Images.Id[..12] + "\n", File.ReadAllText(Path.Combine(b, "hostname")));
        Assert.Contains("127.0.0.1\tlocalhost", File.ReadAllText(Path.Combine(b, "hosts")), StringComparison.Ordinal);

        using var doc = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(b, "config.json")));
        var root = doc.RootElement;
        Assert.Equal("1.2.0", root.GetProperty("ociVersion").GetString());
        Assert.Equal("top", root.GetProperty("process").GetProperty("args")[0].GetString());
        Assert.Equal("/", root.GetProperty("process").GetProperty("cwd").GetString());
        Assert.Equal(14, root.GetProperty("process").GetProperty("capabilities").GetProperty("bounding").GetArrayLength());
        Assert.Equal("rootfs", root.GetProperty("root").GetProperty("path").GetString());
        Assert.Equal(Images.Id[..12], root.GetProperty("hostname").GetString());
        Assert.Equal("/proc", root.GetProperty("mounts")[0].GetProperty("destination").GetString());
        var linux = root.GetProperty("linux");
        Assert.Equal(["mount", "uts", "ipc", "pid", "network"], linux.GetProperty("namespaces").EnumerateArray().Select(n => n.GetProperty("type").GetString()));
        Assert.Contains("/proc/kcore", linux.GetProperty("maskedPaths").EnumerateArray().Select(x => x.GetString()));
        Assert.Contains("/proc/sys", linux.GetProperty("readonlyPaths").EnumerateArray().Select(x => x.GetString()));
        Assert.Equal("0", linux.GetProperty("sysctl").GetProperty("net.ipv4.ip_unprivileged_port_start").GetString());
        var res = linux.GetProperty("resources");
        Assert.Equal(64L << 20, res.GetProperty("memory").GetProperty("limit").GetInt64());
        Assert.Equal(50_000, res.GetProperty("cpu").GetProperty("quota").GetInt64());
        Assert.Equal(100_000, res.GetProperty("cpu").GetProperty("period").GetInt64());
        Assert.Equal(50, res.GetProperty("pids").GetProperty("limit").GetInt64());
        Assert.False(res.GetProperty("devices")[0].GetProperty("allow").GetBoolean());
        Assert.Equal(6, linux.GetProperty("devices").GetArrayLength());

        // A second start without a health check removes the stale probe plan.
        req.Record.Config.Healthcheck = null;
        new BundleWriter().Write(req);
        Assert.False(File.Exists(Path.Combine(b, "exec.plan")));
    }
}
