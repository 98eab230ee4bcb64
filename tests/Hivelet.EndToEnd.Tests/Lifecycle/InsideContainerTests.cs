using System.Globalization;
using Hivelet.EndToEnd.Tests.Containers;
using Hivelet.EndToEnd.Tests.Harness;

namespace Hivelet.EndToEnd.Tests.Lifecycle;

/// <summary>What a process started by `hivelet run` sees from inside: ids, security defaults, mounts, flags.</summary>
[Collection(LifecycleCollection.Name)]
public sealed class InsideContainerTests
{
    private const string DefaultsScript = """
        grep -E '^(CapEff|CapBnd|Seccomp|NoNewPrivs):' /proc/self/status | sed 's/:[[:space:]]*/=/'
        echo "pid=$$"
        echo "hostname=$(hostname)"
        echo "etc-hostname=$(cat /etc/hostname)"
        echo "hosts-localhost=$(grep -c -E '^127\.0\.0\.1[[:space:]]+localhost' /etc/hosts)"
        echo "hosts-self=$(grep -c -E "[[:space:]]$(hostname)\$" /etc/hosts)"
        echo "resolv-nameservers=$(grep -c '^nameserver ' /etc/resolv.conf)"
        echo "keys-bytes=$(head -c 64 /proc/keys | wc -c)"
        echo "keys-mounted=$(grep -c ' /proc/keys ' /proc/self/mountinfo)"
        if [ -e /proc/kcore ]; then echo "kcore-bytes=$(head -c 64 /proc/kcore | wc -c)"; fi
        echo "firmware-entries=$(ls -A /sys/firmware | wc -l)"
        if (echo x > /proc/sys/kernel/hostname) 2>/dev/null; then echo procsys=writable; else echo procsys=readonly; fi
        echo "procsys-mount=$(grep ' /proc/sys ' /proc/self/mountinfo | awk '{print $6}' | head -n 1)"
        echo "pids=$(ls /proc | grep -E '^[0-9]+$' | tr '\n' ' ')"
        echo "ps-lines=$(ps -o pid | grep -c -E '[0-9]')"
        """;

    [Fact]
    public async Task Defaults_pid1_short_id_hostname_docker_caps_seccomp_masks_and_own_processes_only()
    {
        if (!ContainerCli.Privileged)
        {
            Console.WriteLine("skipped: containers need root");
            return;
        }
        using var c = new ContainerCli();
        c.LoadBusybox();
        var id = (await c.Cli.RunOkAsync("run", "-d", ContainerCli.Busybox, "sh", "-c", DefaultsScript)).Stdout.Trim();
        Assert.Equal("0", (await c.Cli.RunOkAsync("wait", id)).Stdout.Trim());
        var logs = await c.Cli.RunOkAsync("logs", id);
        var output = logs.Stdout + logs.Stderr;
        var f = Facts.Parse(logs.Stdout);

        Assert.Equal("1", f.Get("pid", output));
        Assert.Equal(id[..12], f.Get("hostname", output));
        Assert.Equal(id[..12], f.Get("etc-hostname", output));
        Assert.Equal("1", f.Get("hosts-localhost", output));
        Assert.Equal("1", f.Get("hosts-self", output));
        Assert.NotEqual("0", f.Get("resolv-nameservers", output));
        Assert.Equal("00000000a80425fb", f.Get("CapEff", output));
        Assert.Equal("00000000a80425fb", f.Get("CapBnd", output));
        Assert.Equal("2", f.Get("Seccomp", output));
        // Docker leaves no_new_privs off unless --security-opt no-new-privileges.
        Assert.Equal("0", f.Get("NoNewPrivs", output));
        Assert.Equal("0", f.Get("keys-bytes", output));
        Assert.NotEqual("0", f.Get("keys-mounted", output));
        if (f.TryGetValue("kcore-bytes", out var kcore))
            Assert.Equal("0", kcore);
        Assert.Equal("0", f.Get("firmware-entries", output));
        Assert.Equal("readonly", f.Get("procsys", output));
        Assert.StartsWith("ro", f.Get("procsys-mount", output), StringComparison.Ordinal);

        // A new pid namespace: only the script and its own short-lived children, all with tiny pids.
        var pids = f.Get("pids", output).Split(' ', StringSplitOptions.RemoveEmptyEntries)
            .Select(p => int.Parse(p, CultureInfo.InvariantCulture)).ToList();
        Assert.Contains(1, pids);
        Assert.All(pids, p => Assert.True(p < 50, $"pid {p} looks like a host process: {output}"));
        Assert.InRange(int.Parse(f.Get("ps-lines", output), CultureInfo.InvariantCulture), 1, 6);
    }

    [Fact]
    public async Task Run_flags_hostname_nnp_env_workdir_volumes_readonly_tmpfs_caps_ulimit_sysctl_shm()
    {
        if (!ContainerCli.Privileged)
        {
            Console.WriteLine("skipped: containers need root");
            return;
        }
        using var c = new ContainerCli();
        c.LoadBusybox();
        using var dir = new TempDirectory("hivelet-e2e-flags");
        var rw = Directory.CreateDirectory(dir.Combine("rw")).FullName;
        var ro = Directory.CreateDirectory(dir.Combine("ro")).FullName;
        await File.WriteAllTextAsync(Path.Combine(ro, "seed"), "seeded\n");
        var envFile = dir.Combine("env.list");
        await File.WriteAllTextAsync(envFile, "# a comment\nFROM_FILE=file value\n\nSECOND=2\n");

        const string script = """
            grep -E '^(CapEff|NoNewPrivs):' /proc/self/status | sed 's/:[[:space:]]*/=/'
            echo "hostname=$(hostname)"
            echo "etc-hostname=$(cat /etc/hostname)"
            echo "hosts-self=$(grep -c -E '[[:space:]]web1$' /etc/hosts)"
            echo "FOO=$FOO"
            echo "FROM_FILE=$FROM_FILE"
            echo "SECOND=$SECOND"
            echo "PATH=$PATH"
            echo "cwd=$(pwd)"
            echo rw > /data/written && echo rw-write=ok
            if (touch /ro/new) 2>/dev/null; then echo ro-write=ok; else echo ro-write=denied; fi
            echo "ro-read=$(cat /ro/seed)"
            if (touch /rootfs-file) 2>/dev/null; then echo root-write=ok; else echo root-write=denied; fi
            touch /scratch/f && echo tmpfs-write=ok
            echo "tmpfs-fs=$(grep ' /scratch ' /proc/self/mountinfo | awk '{print $(NF-2)}')"
            echo "nofile=$(ulimit -n)"
            echo "nofile-hard=$(ulimit -Hn)"
            echo "ip_forward=$(cat /proc/sys/net/ipv4/ip_forward)"
            echo "shm=$(grep ' /dev/shm ' /proc/self/mountinfo | grep -o 'size=[0-9]*k')"
            """;
        var run = await c.Cli.RunAsync("run", "--rm", "--hostname", "web1", "--security-opt", "no-new-privileges",
            "-e", "FOO=bar baz", "--env-file", envFile, "-w", "/data", "-v", $"{rw}:/data", "-v", $"{ro}:/ro:ro",
            "--read-only", "--tmpfs", "/scratch", "--cap-add", "NET_ADMIN", "--cap-drop", "CHOWN",
            "--ulimit", "nofile=1024:2048", "--sysctl", "net.ipv4.ip_forward=1", "--shm-size", "16m",
            ContainerCli.Busybox, "sh", "-c", script);
        Assert.True(run.ExitCode == 0, run.ToString());
        var output = run.ToString();
        var f = Facts.Parse(run.Stdout);

        Assert.Equal("web1", f.Get("hostname", output));
        Assert.Equal("web1", f.Get("etc-hostname", output));
        Assert.Equal("1", f.Get("hosts-self", output));
        Assert.Equal("1", f.Get("NoNewPrivs", output));
        // Docker's default set plus NET_ADMIN (bit 12), minus CHOWN (bit 0).
        Assert.Equal("00000000a80435fa", f.Get("CapEff", output));
        Assert.Equal("bar baz", f.Get("FOO", output));
        Assert.Equal("file value", f.Get("FROM_FILE", output));
        Assert.Equal("2", f.Get("SECOND", output));
        Assert.Equal("/bin", f.Get("PATH", output));
        Assert.Equal("/data", f.Get("cwd", output));
        Assert.Equal("ok", f.Get("rw-write", output));
        Assert.Equal("rw\n", await File.ReadAllTextAsync(Path.Combine(rw, "written")));
        Assert.Equal("denied", f.Get("ro-write", output));
        Assert.False(File.Exists(Path.Combine(ro, "new")));
        Assert.Equal("seeded", f.Get("ro-read", output));
        Assert.Equal("denied", f.Get("root-write", output));
        Assert.Equal("ok", f.Get("tmpfs-write", output));
        Assert.Equal("tmpfs", f.Get("tmpfs-fs", output));
        Assert.Equal("1024", f.Get("nofile", output));
        Assert.Equal("2048", f.Get("nofile-hard", output));
        Assert.Equal("1", f.Get("ip_forward", output));
        Assert.Equal("size=16384k", f.Get("shm", output));
    }

    [Fact]
    public async Task A_command_that_is_not_executable_exits_126_and_a_missing_one_127()
    {
        if (!ContainerCli.Privileged)
        {
            Console.WriteLine("skipped: containers need root");
            return;
        }
        using var c = new ContainerCli();
        c.LoadBusybox();
        var notExecutable = await c.Cli.RunAsync("run", "--rm", ContainerCli.Busybox, "/etc/passwd");
        Assert.True(notExecutable.ExitCode == 126, notExecutable.ToString());
        Assert.Contains("permission denied", notExecutable.Stderr, StringComparison.OrdinalIgnoreCase);
        var missing = await c.Cli.RunAsync("run", "--rm", ContainerCli.Busybox, "no-such-command");
        Assert.True(missing.ExitCode == 127, missing.ToString());
        Assert.Contains("no-such-command", missing.Stderr, StringComparison.Ordinal);
        Assert.Empty(Directory.GetDirectories(c.ContainersDir));
    }

    [Fact]
    public async Task User_switch_by_name_with_group_and_numeric_and_privileged_caps()
    {
        if (!ContainerCli.Privileged)
        {
            Console.WriteLine("skipped: containers need root");
            return;
        }
        using var c = new ContainerCli();
        c.LoadBusybox();
        const string script = """
            echo "uid=$(id -u) gid=$(id -g) groups=$(id -G)"
            grep -E '^CapEff:' /proc/self/status | sed 's/:[[:space:]]*/=/'
            """;

        var named = await c.Cli.RunAsync("run", "--rm", "-u", "hivelet:nogroup", ContainerCli.Busybox, "sh", "-c", script);
        Assert.True(named.ExitCode == 0, named.ToString());
        Assert.Contains("uid=1000 gid=65534 groups=65534", named.Stdout, StringComparison.Ordinal);
        // A non-root user keeps no effective capabilities, as with Docker.
        Assert.Contains("CapEff=0000000000000000", named.Stdout, StringComparison.Ordinal);

        var nameOnly = await c.Cli.RunAsync("run", "--rm", "-u", "hivelet", ContainerCli.Busybox, "sh", "-c", script);
        Assert.True(nameOnly.ExitCode == 0, nameOnly.ToString());
        Assert.Contains("uid=1000 gid=1000 groups=1000", nameOnly.Stdout, StringComparison.Ordinal);

        var numeric = await c.Cli.RunAsync("run", "--rm", "-u", "4321:1000", ContainerCli.Busybox, "sh", "-c", script);
        Assert.True(numeric.ExitCode == 0, numeric.ToString());
        Assert.Contains("uid=4321 gid=1000 groups=1000", numeric.Stdout, StringComparison.Ordinal);

        // --privileged gives every capability the caller's bounding set still holds (all of them on a normal host).
        var all = (await File.ReadAllLinesAsync("/proc/self/status")).First(l => l.StartsWith("CapBnd:", StringComparison.Ordinal))[7..].Trim();
        var privileged = await c.Cli.RunAsync("run", "--rm", "--privileged", ContainerCli.Busybox, "sh", "-c",
            script + "\necho \"seccomp=$(grep -E '^Seccomp:' /proc/self/status | awk '{print $2}')\"");
        Assert.True(privileged.ExitCode == 0, privileged.ToString());
        Assert.Contains($"CapEff={all}", privileged.Stdout, StringComparison.Ordinal);
        Assert.Contains("seccomp=0", privileged.Stdout, StringComparison.Ordinal);
    }
}
