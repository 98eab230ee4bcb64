using Hivelet.EndToEnd.Tests.Harness;

namespace Hivelet.EndToEnd.Tests.Native;

/// <summary>
/// The native child path seen from inside a container: `hivelet __run PLAN` with the published
/// binary, a busybox rootfs and Docker's defaults. Needs root; every test checks that no mount
/// is left behind under its directory (the container's mount namespace dies with it).
/// </summary>
[Collection("native-root")]
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class NativeRunTests
{
    private static bool Root()
    {
        if (Environment.IsPrivilegedProcess)
            return true;
        Console.WriteLine("skipped: the native container tests need root (CI runs them as root)");
        return false;
    }

    private static async Task<ProcessResult> RunAsync(NativeSandbox box, PlanFile plan)
    {
        var result = await box.RunAsync(plan);
        Assert.Empty(box.LeftoverMounts());
        return result;
    }

    private static string Field(string status, string key) =>
        status.Split('\n').Single(l => l.StartsWith(key + ":", StringComparison.Ordinal))[(key.Length + 1)..].Trim();

    [Fact]
    public async Task Pid1HostnameAndDockerCapabilities()
    {
        if (!Root())
            return;
        using var box = new NativeSandbox();
        var r = await RunAsync(box, box.DefaultPlan("sh", "-c", "echo pid=$$; hostname; cat /proc/self/status"));
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Contains("pid=1\n", r.Stdout);
        Assert.Contains("\nnativebox\n", r.Stdout);
        Assert.Equal("00000000" + NativeSandbox.DockerCaps, Field(r.Stdout, "CapEff"));
        Assert.Equal("00000000" + NativeSandbox.DockerCaps, Field(r.Stdout, "CapBnd"));
        Assert.Equal("0", Field(r.Stdout, "NoNewPrivs"));
        Assert.Equal("0", Field(r.Stdout, "Seccomp"));
    }

    /// <summary>
    /// Pid 1 is forked by the caller itself: no fd of the caller's may reach the container. A host
    /// directory left open there would be a way out of the root (openat(fd, "..")).
    /// </summary>
    [Fact]
    public async Task NoFdOfTheCallerReachesTheContainer()
    {
        if (!Root())
            return;
        using var wrapperDir = new TempDirectory("hivelet-fds");
        var wrapper = wrapperDir.Combine("hivelet");
        await File.WriteAllTextAsync(wrapper,
            $"#!/bin/sh\nexec 3</ 5</ 7</etc/hostname\nexec {RepoPaths.HiveletBinary} \"$@\"\n");
        File.SetUnixFileMode(wrapper, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        using var box = new NativeSandbox(wrapper);

        foreach (var init in new[] { "0", "1" })
        {
            var run = await RunAsync(box, box.DefaultPlan("sh", "-c", "ls /proc/1/fd /proc/$$/fd; true")
                .Set("init", init));
            Assert.True(run.ExitCode == 0, run.ToString());
            // pid 1 and the shell: 0, 1 and 2 only (no pipeline: the shell would hold its pipe meanwhile;
            // not the last command: sh would exec ls, whose own directory fd would show).
            var fds = run.Stdout.Split([' ', '\n'], StringSplitOptions.RemoveEmptyEntries).Where(f => f.All(char.IsAsciiDigit)).ToList();
            Assert.True(fds.All(f => f is "0" or "1" or "2"), $"init={init}: {run.Stdout}");
        }
    }

    [Fact]
    public async Task NoNewPrivsAndSeccompFilter()
    {
        if (!Root())
            return;
        using var box = new NativeSandbox();
        var plan = box.DefaultPlan("cat", "/proc/self/status")
            .Add("no_new_privs", "1")
            .Add("seccomp", box.AllowAllSeccomp());
        var r = await RunAsync(box, plan);
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Equal("1", Field(r.Stdout, "NoNewPrivs"));
        Assert.Equal("2", Field(r.Stdout, "Seccomp"));
    }

    [Fact]
    public async Task SeccompWithoutNoNewPrivsIsLoadedWhileStillPrivileged()
    {
        if (!Root())
            return;
        using var box = new NativeSandbox();
        var plan = box.DefaultPlan("cat", "/proc/self/status")
            .Set("uid", "1000").Set("gid", "1000").Set("groups", "")
            .Add("seccomp", box.AllowAllSeccomp());
        var r = await RunAsync(box, plan);
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Equal("2", Field(r.Stdout, "Seccomp"));
        Assert.Equal("0", Field(r.Stdout, "NoNewPrivs"));
    }

    [Fact]
    public async Task MaskedAndReadOnlyPathsAndNoHostProcesses()
    {
        if (!Root())
            return;
        using var box = new NativeSandbox();
        const string script =
            "echo timer=$(cat /proc/timer_list | wc -c); " +
            "if [ -e /proc/kcore ]; then echo kcore=$(cat /proc/kcore | wc -c); else echo kcore=0; fi; " +
            "echo acpi=$(ls -A /proc/acpi | wc -l); " +
            "if echo x > /proc/sys/kernel/domainname; then echo sys=writable; else echo sys=readonly; fi; " +
            "if touch /sys/x 2>/dev/null; then echo sysfs=writable; else echo sysfs=readonly; fi; " +
            "echo pids=$(ls /proc | grep -E '^[0-9]+$' | tr '\\n' ' ')";
        var r = await RunAsync(box, box.DefaultPlan("sh", "-c", script));
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Contains("timer=0\n", r.Stdout);
        Assert.Contains("kcore=0\n", r.Stdout);
        Assert.Contains("acpi=0\n", r.Stdout);
        Assert.Contains("sys=readonly\n", r.Stdout);
        Assert.Contains("sysfs=readonly\n", r.Stdout);
        var pids = r.Stdout.Split('\n').Single(l => l.StartsWith("pids=", StringComparison.Ordinal))[5..]
            .Split(' ', StringSplitOptions.RemoveEmptyEntries).Select(int.Parse).ToList();
        Assert.Contains(1, pids);
        // Only the script's own processes (each $(...) forks a few): nothing like the host's list.
        Assert.True(pids.Count < 20, $"{pids.Count} processes visible: the host's leak in ({r.Stdout})");
        Assert.All(pids, p => Assert.True(p < 100, $"pid {p} visible: the host's processes leak in ({r.Stdout})"));
        Assert.DoesNotContain(Environment.ProcessId, pids);
    }

    [Fact]
    public async Task UserEnvAndMissingWorkdirIsCreated()
    {
        if (!Root())
            return;
        using var box = new NativeSandbox();
        var plan = box.DefaultPlan("sh", "-c", "id; echo FOO=$FOO; pwd; cat /proc/self/status")
            .Set("uid", "1000").Set("gid", "1001").Set("groups", "10,20")
            .Add("env", "FOO=bar baz")
            .Set("cwd", "/work/here");
        var r = await RunAsync(box, plan);
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Contains("uid=1000 gid=1001 groups=10,20\n", r.Stdout);
        Assert.Contains("FOO=bar baz\n", r.Stdout);
        Assert.Contains("/work/here\n", r.Stdout);
        // A non-root user keeps no capabilities across execve (no file or ambient caps).
        Assert.Equal("0000000000000000", Field(r.Stdout, "CapEff"));
        Assert.True(Directory.Exists(Path.Combine(box.RootfsSource, "work", "here")));
    }

    [Fact]
    public async Task BindMountsReadOnlyWhereAsked()
    {
        if (!Root())
            return;
        using var box = new NativeSandbox();
        var data = box.Combine("data");
        Directory.CreateDirectory(data);
        await File.WriteAllTextAsync(Path.Combine(data, "hello"), "hi\n");
        var plan = box.DefaultPlan("sh", "-c",
                "cat /ro/hello; if touch /ro/x; then echo ro=writable; else echo ro=readonly; fi; " +
                "touch /rw/y && echo rw=writable; cat /etc/hosts-file")
            .Add("mount", "bind", data, "/ro", "5001", "", "dir") // MS_BIND|MS_REC|MS_RDONLY
            .Add("mount", "bind", data, "/rw", "5000", "", "dir")
            .Add("mount", "bind", Path.Combine(data, "hello"), "/etc/hosts-file", "1001", "", "file");
        var r = await RunAsync(box, plan);
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Contains("hi\nro=readonly\nrw=writable\nhi\n", r.Stdout);
        Assert.True(File.Exists(Path.Combine(data, "y")));
        Assert.False(File.Exists(Path.Combine(data, "x")));
    }

    [Fact]
    public async Task ReadOnlyRootfs()
    {
        if (!Root())
            return;
        using var box = new NativeSandbox();
        var plan = box.DefaultPlan("sh", "-c", "if touch /x; then echo root=writable; else echo root=readonly; fi")
            .Add("readonly_rootfs", "1");
        var r = await RunAsync(box, plan);
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Contains("root=readonly", r.Stdout);
    }

    [Fact]
    public async Task SymlinksInTheImageCannotPointMountsOutsideTheRoot()
    {
        if (!Root())
            return;
        using var box = new NativeSandbox();
        var host = box.Combine("host-side");
        Directory.CreateDirectory(host);
        // A hostile image: /dev is an absolute link to a host path, /etc/evil a relative one
        // climbing out. Resolved inside the root, both lead nowhere: the start fails, the host
        // directory stays empty.
        File.CreateSymbolicLink(Path.Combine(box.RootfsSource, "dev"), host);
        var r = await RunAsync(box, box.DefaultPlan("true"));
        Assert.Equal(125, r.ExitCode);
        Assert.Contains("\"/dev\"", r.Stderr);
        Assert.Empty(Directory.EnumerateFileSystemEntries(host));

        File.Delete(Path.Combine(box.RootfsSource, "dev"));
        File.CreateSymbolicLink(Path.Combine(box.RootfsSource, "etc", "evil"),
            Path.GetRelativePath(Path.Combine(box.RootfsSource, "etc"), host));
        r = await RunAsync(box, box.DefaultPlan("true")
            .Add("mount", "tmpfs", "tmpfs", "/etc/evil/sub", "0", "", "dir")
            .Add("mount", "bind", box.Busybox, "/etc/evil/file", "1000", "", "file"));
        Assert.Equal(125, r.ExitCode);
        Assert.Empty(Directory.EnumerateFileSystemEntries(host));
    }

    [Fact]
    public async Task ExitCodesFollowDocker()
    {
        if (!Root())
            return;
        using var box = new NativeSandbox();
        await File.WriteAllBytesAsync(Path.Combine(box.RootfsSource, "garbage"), [0x00, 0x01, 0x02, 0x03, 0x04]);
        File.SetUnixFileMode(Path.Combine(box.RootfsSource, "garbage"), (UnixFileMode)0x1ed); // 0755
        await File.WriteAllTextAsync(Path.Combine(box.RootfsSource, "etc", "data"), "not a program\n");

        var own = await RunAsync(box, box.DefaultPlan("sh", "-c", "exit 3"));
        Assert.Equal(3, own.ExitCode);

        var notFound = await RunAsync(box, box.DefaultPlan("no-such-program"));
        Assert.Equal(127, notFound.ExitCode);
        Assert.Contains("exec: \"no-such-program\": executable file not found in $PATH", notFound.Stderr);

        var noFile = await RunAsync(box, box.DefaultPlan("/no/such/file"));
        Assert.Equal(127, noFile.ExitCode);
        Assert.Contains("no such file or directory", noFile.Stderr);

        var directory = await RunAsync(box, box.DefaultPlan("/etc"));
        Assert.Equal(126, directory.ExitCode);
        Assert.Contains("permission denied", directory.Stderr);

        var notExecutable = await RunAsync(box, box.DefaultPlan("/etc/data"));
        Assert.Equal(126, notExecutable.ExitCode);
        Assert.Contains("permission denied", notExecutable.Stderr);

        var format = await RunAsync(box, box.DefaultPlan("/garbage"));
        Assert.Equal(126, format.ExitCode);
        Assert.Contains("exec format error", format.Stderr);

        var startFailure = await RunAsync(box, box.DefaultPlan("true")
            .Add("mount", "no-such-fs", "none", "/x", "0", "", "dir"));
        Assert.Equal(125, startFailure.ExitCode);
        Assert.Contains("mount no-such-fs \"none\" on \"/x\"", startFailure.Stderr);
    }

    [Fact]
    public async Task SigkillFromTheHostGives137()
    {
        if (!Root())
            return;
        using var box = new NativeSandbox();
        var run = box.Start(box.DefaultPlan("sh", "-c", "echo ready; exec sleep 60"));
        var pid = await NativeSandbox.ContainerPidAsync(run);
        Assert.Equal(0, Libc.Kill(pid, 9));
        await run.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(15));
        Assert.Equal(137, run.ExitCode);
        Assert.Empty(box.LeftoverMounts());
    }

    [Fact]
    public async Task InitReapsZombiesAndForwardsSignals()
    {
        if (!Root())
            return;
        using var box = new NativeSandbox();
        // The orphaned sleep is re-parented to pid 1 (the init) and must be reaped there.
        var reap = await RunAsync(box, box.DefaultPlan("sh", "-c",
                "(sleep 0.1 &); sleep 0.6; echo self=$$; ps -o pid,stat,comm")
            .Add("init", "1"));
        Assert.True(reap.ExitCode == 0, reap.ToString());
        Assert.Contains("self=2\n", reap.Stdout);
        Assert.DoesNotMatch(@"\n\s*\d+\s+Z", reap.Stdout);

        var run = box.Start(box.DefaultPlan("sh", "-c",
                "trap 'echo got-term; exit 5' TERM; echo ready; while :; do sleep 0.1; done")
            .Add("init", "1"));
        await NativeSandbox.ContainerPidAsync(run);
        // __run forwards to the init, the init to the user process.
        Assert.Equal(0, Libc.Kill(run.Id, 15));
        await run.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(15));
        Assert.Equal(5, run.ExitCode);
        Assert.Contains("got-term", await run.StandardOutput.ReadToEndAsync());
    }

    [Fact]
    public async Task ExecJoinsTheRunningContainer()
    {
        if (!Root())
            return;
        using var box = new NativeSandbox();
        var run = box.Start(box.DefaultPlan("sh", "-c", "echo ready; exec sleep 60"));
        var pid = await NativeSandbox.ContainerPidAsync(run);

        var exec = new PlanFile()
            .Add("id", new string('a', 64))
            .Add("pid", "1"); // overridden by the PID argument
        foreach (var ns in new[] { "mnt", "uts", "ipc", "net", "pid", "cgroup" })
            exec.Add("ns", ns);
        exec.Add("env", "PATH=/bin")
            .Add("cwd", "/tmp/new")
            .Add("uid", "1000").Add("gid", "1000").Add("groups", "")
            .Add("delete_plan", "1")
            .Command("sh", "-c", "hostname; echo pid=$$; cat /proc/1/cmdline | tr '\\0' ' '; echo; pwd; id -u; exit 7");
        var r = await box.ExecAsync(exec, pid);
        Assert.Equal(7, r.ExitCode);
        var lines = r.Stdout.Split('\n');
        Assert.Equal("nativebox", lines[0]);
        Assert.True(int.Parse(lines[1][4..]) < 10, r.ToString());
        Assert.Equal("sleep 60 ", lines[2]);
        Assert.Equal("/tmp/new", lines[3]);
        Assert.Equal("1000", lines[4]);
        Assert.Empty(Directory.GetFiles(box.Dir, "exec-*.plan"));

        var missing = await box.ExecAsync(new PlanFile().Add("ns", "pid").Command("true"), 999_999_999);
        Assert.Equal(125, missing.ExitCode);
        Assert.Contains("/proc/999999999/ns/pid", missing.Stderr);

        // pid_start: the status file's start time of pid 1; another start time means the pid was reused.
        var stat = await File.ReadAllTextAsync($"/proc/{pid}/stat");
        var start = stat[(stat.LastIndexOf(')') + 2)..].Split(' ')[19];
        var same = await box.ExecAsync(new PlanFile().Add("id", new string('c', 64)).Add("pid_start", start)
            .Add("ns", "pid").Add("ns", "mnt").Add("env", "PATH=/bin").Command("true"), pid);
        Assert.True(same.ExitCode == 0, same.ToString());
        var reused = await box.ExecAsync(new PlanFile().Add("id", new string('c', 64)).Add("pid_start", start + "1")
            .Add("ns", "pid").Add("ns", "mnt").Add("env", "PATH=/bin").Command("true"), pid);
        Assert.Equal(125, reused.ExitCode);
        Assert.Contains($"hivelet: exec: container {new string('c', 64)} is not running", reused.Stderr);
    }

    /// <summary>
    /// The x64 binary under qemu-x86_64 takes the same path as the arm64 one on this host: qemu-user 7.2
    /// refuses PR_SET_CHILD_SUBREAPER and clone(CLONE_NEW*), so pid 1 must come from unshare(CLONE_NEWPID),
    /// fork and setns back, and be reaped by its parent directly.
    /// </summary>
    [Fact]
    public async Task UnderQemuUserPid1IsForkedIntoItsNamespaceAndReapedByItsParent()
    {
        const string Qemu = "/usr/bin/qemu-x86_64-static";
        if (!Root())
            return;
        if (!File.Exists(Qemu) || System.Runtime.InteropServices.RuntimeInformation.ProcessArchitecture != System.Runtime.InteropServices.Architecture.X64)
        {
            Console.WriteLine($"skipped: needs {Qemu} on x86_64 (build.sh installs qemu-user-static)");
            return;
        }
        using var wrapperDir = new TempDirectory("hivelet-qemu");
        var wrapper = wrapperDir.Combine("hivelet");
        await File.WriteAllTextAsync(wrapper, $"#!/bin/sh\nexec {Qemu} {RepoPaths.HiveletBinary} \"$@\"\n");
        File.SetUnixFileMode(wrapper, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        using var box = new NativeSandbox(wrapper);

        var run = await box.RunAsync(box.DefaultPlan("sh", "-c", "echo pid=$$; exit 3"), TimeSpan.FromMinutes(2));

        Assert.True(run.ExitCode == 3, run.ToString());
        Assert.Contains("pid=1", run.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RunStaysSmall()
    {
        if (!Root())
            return;
        using var box = new NativeSandbox();
        // The C path never starts the .NET runtime: __run's own peak RSS stays a few MB.
        var run = box.Start(box.DefaultPlan("sh", "-c", "echo ready; exec sleep 60"));
        await NativeSandbox.ContainerPidAsync(run);
        var hwm = File.ReadLines($"/proc/{run.Id}/status").Single(l => l.StartsWith("VmHWM:", StringComparison.Ordinal));
        var kb = long.Parse(hwm.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1]);
        Assert.True(kb < 8 * 1024, $"__run peak RSS {kb} kB: did the .NET runtime start?");
    }
}

internal static partial class Libc
{
    [System.Runtime.InteropServices.LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    internal static partial int Kill(int pid, int signal);
}
