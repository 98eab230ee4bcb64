using Hivelet.Runtime.Cgroups;
using Hivelet.Runtime.Containers;
using Hivelet.Runtime.Spec;
using Hivelet.Runtime.Volumes;

namespace Hivelet.Runtime.Tests.Spec;

public sealed class ExecPlanBuilderTests : IDisposable
{
    private readonly TempDir _dir = new();
    private readonly ContainerRecord _record;
    private readonly string _rootfs;
    private readonly string _bundle;

    public ExecPlanBuilderTests()
    {
        _rootfs = _dir.Sub("rootfs");
        _bundle = _dir.Sub("bundle");
        Directory.CreateDirectory(_bundle);
        _dir.WriteFile("rootfs/etc/passwd", "root:x:0:0::/root:/bin/sh\napp:x:100:101::/home/app:/bin/sh\n");
        _dir.WriteFile("rootfs/etc/group", "root:x:0:\napp:x:101:\n");
        var o = new RunOptions
        {
            Image = "busybox",
            Command = ["sleep", "1d"],
            Env = ["A=1"],
            Workdir = "/srv",
            CapDrop = ["ALL"],
            CapAdd = ["KILL"],
            SecurityOpt = ["no-new-privileges"],
        };
        _record = ContainerFactory.Create(o, Images.Make(), "sha256:" + Images.Id, null, Images.Id, "c", new VolumeStore(_dir.Path));
    }

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void Exec_joins_the_container_and_applies_its_overrides()
    {
        File.WriteAllBytes(Path.Combine(_bundle, BundleWriter.SeccompFile), new byte[8]);
        var opts = new ExecOptions { Command = ["sh"], User = "app", Env = ["A=2", "B=3"], Workdir = "/tmp", Tty = true };
        var p = Images.Decode(ExecPlanBuilder.Build(_record, _bundle, 4242, opts, _rootfs, ["/sys/fs/cgroup/pids/x/cgroup.procs"], CgroupLayout.V2).ToBytes());
        Assert.Equal(["4242"], p["pid"]);
        Assert.Equal(["mnt", "uts", "ipc", "pid", "net", "cgroup"], p["ns"]);
        Assert.Equal(["/sys/fs/cgroup/pids/x/cgroup.procs"], p["cgroup_procs"]);
        Assert.Equal(["100"], p["uid"]);
        Assert.Equal(["101"], p["gid"]);
        Assert.Equal(["20"], p["cap_effective"]);
        Assert.Equal(["1"], p["no_new_privs"]);
        Assert.Equal([Path.Combine(_bundle, "seccomp.bpf")], p["seccomp"]);
        Assert.Equal(["/tmp"], p["cwd"]);
        Assert.Equal(["sh"], p["arg"]);
        Assert.Equal(["PATH=" + ContainerFactory.DefaultPath, "HOSTNAME=" + Images.Id[..12], "TERM=xterm", "A=2", "HOME=/home/app", "B=3"], p["env"]);
        Assert.Equal(["1"], p["delete_plan"]);
        Assert.Equal(["1"], p["tty"]);
        // Without -i the caller's stdin is not relayed to the exec's pty.
        Assert.Equal(["0"], p["stdin"]);
    }

    [Fact]
    public void Exec_defaults_to_the_containers_user_and_workdir_and_privileged_drops_seccomp()
    {
        File.WriteAllBytes(Path.Combine(_bundle, BundleWriter.SeccompFile), new byte[8]);
        var p = Images.Decode(ExecPlanBuilder.Build(_record, _bundle, 1, new ExecOptions { Command = ["id"], Privileged = true }, _rootfs, [], CgroupLayout.Hybrid).ToBytes());
        Assert.Equal(["0"], p["uid"]);
        Assert.Equal(["/srv"], p["cwd"]);
        Assert.False(p.ContainsKey("seccomp"));
        Assert.DoesNotContain("cgroup", p["ns"]);
        Assert.Equal([Hivelet.Runtime.Security.Capabilities.AllKnown.ToString("x", System.Globalization.CultureInfo.InvariantCulture)], p["cap_effective"]);
    }

    [Fact]
    public void Write_names_a_fresh_plan_in_the_bundle_and_reads_the_callers_cgroups()
    {
        var path = ExecPlanBuilder.Write(_record, Images.Make(), _bundle, Environment.ProcessId, new ExecOptions { Command = ["true"] }, _rootfs);
        Assert.StartsWith(Path.Combine(_bundle, "exec-"), path, StringComparison.Ordinal);
        var p = Images.Decode(File.ReadAllBytes(path));
        Assert.NotEmpty(p["cgroup_procs"]);
        Assert.All(p["cgroup_procs"], f => Assert.True(File.Exists(f), f));
        var other = ExecPlanBuilder.Write(_record, Images.Make(), _bundle, Environment.ProcessId, new ExecOptions { Command = ["true"] }, _rootfs);
        Assert.NotEqual(path, other);
    }

    [Fact]
    public void Exec_without_a_command_or_with_an_unknown_user_fails()
    {
        Assert.Throws<Hivelet.Errors.InvalidInputException>(() =>
            ExecPlanBuilder.Build(_record, _bundle, 1, new ExecOptions(), _rootfs, [], CgroupLayout.V2));
        var e = Assert.Throws<Hivelet.Errors.HiveletException>(() =>
            ExecPlanBuilder.Build(_record, _bundle, 1, new ExecOptions { Command = ["id"], User = "zed" }, _rootfs, [], CgroupLayout.V2));
        Assert.Equal("unable to find user zed: no matching entries in passwd file", e.Message);
    }
}
