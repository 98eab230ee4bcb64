using System.Buffers.Binary;
using System.Diagnostics;
using Hivelet.EndToEnd.Tests.Harness;

namespace Hivelet.EndToEnd.Tests.Native;

/// <summary>
/// A throw-away container root for the native child path: a temp directory with a rootfs made
/// of Debian's static busybox, a bundle whose `rootfs` is the mount point, and a plan with
/// Docker's defaults (namespaces, /proc, /dev, /sys, masked and read-only paths, capabilities).
/// Dispose kills what it started, detaches any mount left under the directory and removes it.
/// </summary>
public sealed class NativeSandbox : IDisposable
{
    /// <summary>Docker's 14 default capabilities (moby oci/caps/defaults.go).</summary>
    public const string DockerCaps = "a80425fb";

    // MS_* flags in hex, as the plan carries them.
    private const string ProcFlags = "e"; // nosuid|nodev|noexec
    private const string DevFlags = "1000002"; // nosuid|strictatime
    private const string SysFlags = "f"; // ro|nosuid|nodev|noexec
    private const string PtsFlags = "a"; // nosuid|noexec

    private readonly TempDirectory _dir = new("hivelet-native");
    private readonly List<Process> _started = [];

    /// <param name="binary">The hivelet binary to run (default: the published x64 one).</param>
    public NativeSandbox(string? binary = null)
    {
        Binary = binary ?? RepoPaths.HiveletBinary;
        if (!File.Exists(Binary))
        {
            _dir.Dispose();
            throw new FileNotFoundException(
                $"hivelet binary not found at {Binary}: run ./build.sh (or set HIVELET_BIN to a published binary)");
        }
        Busybox = FindStaticBusybox();
        var bin = Path.Combine(RootfsSource, "bin");
        Directory.CreateDirectory(bin);
        File.Copy(Busybox, Path.Combine(bin, "busybox"));
        foreach (var applet in new[] { "sh", "cat", "ls", "id", "ps", "hostname", "sleep", "touch", "grep", "wc", "kill", "true" })
            File.CreateSymbolicLink(Path.Combine(bin, applet), "busybox");
        Directory.CreateDirectory(Path.Combine(RootfsSource, "etc"));
        Directory.CreateDirectory(Rootfs);
    }

    public string Binary { get; }

    public string Busybox { get; }

    public string Dir => _dir.Path;

    /// <summary>The container's files on the host (the "snapshot", bind-mounted as the root).</summary>
    public string RootfsSource => _dir.Combine("rootfs");

    public string Bundle => _dir.Combine("bundle");

    public string Rootfs => _dir.Combine("bundle", "rootfs");

    public string Combine(params string[] parts) => _dir.Combine(parts);

    /// <summary>A plan with Docker's defaults, running <paramref name="argv"/>.</summary>
    public PlanFile DefaultPlan(params string[] argv)
    {
        var plan = new PlanFile()
            .Add("id", new string('a', 64))
            .Add("bundle", Bundle)
            .Add("rootfs", Rootfs)
            .Add("rootfs_mount", "bind", RootfsSource, "");
        foreach (var ns in new[] { "mnt", "uts", "ipc", "net", "pid", "cgroup" })
            plan.Add("ns", ns);
        plan.Add("hostname", "nativebox")
            .Add("net_lo", "1")
            .Add("mount", "proc", "proc", "/proc", ProcFlags, "", "dir")
            .Add("mount", "tmpfs", "tmpfs", "/dev", DevFlags, "mode=755,size=65536k", "dir")
            .Add("mount", "devpts", "devpts", "/dev/pts", PtsFlags, "newinstance,ptmxmode=0666,mode=0620", "dir")
            .Add("mount", "sysfs", "sysfs", "/sys", SysFlags, "", "dir")
            .Add("device", "/dev/null", "c", "1", "3", "666", "0", "0")
            .Add("device", "/dev/zero", "c", "1", "5", "666", "0", "0")
            .Add("device", "/dev/urandom", "c", "1", "9", "666", "0", "0")
            .Add("symlink", "/proc/self/fd", "/dev/fd")
            .Add("symlink", "pts/ptmx", "/dev/ptmx");
        foreach (var masked in new[] { "/proc/acpi", "/proc/kcore", "/proc/keys", "/proc/timer_list", "/sys/firmware" })
            plan.Add("masked", masked);
        foreach (var ro in new[] { "/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger" })
            plan.Add("readonly", ro);
        plan.Add("cap_bounding", DockerCaps)
            .Add("cap_effective", DockerCaps)
            .Add("cap_permitted", DockerCaps)
            .Add("cap_inheritable", "0")
            .Add("cap_ambient", "0")
            .Add("env", "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin")
            .Add("cwd", "/");
        return plan.Command(argv);
    }

    /// <summary>An allow-all seccomp program (one `ret ALLOW`) written as the raw BPF file.</summary>
    public string AllowAllSeccomp()
    {
        var insn = new byte[8];
        BinaryPrimitives.WriteUInt16LittleEndian(insn, 0x06); // BPF_RET | BPF_K
        BinaryPrimitives.WriteUInt32LittleEndian(insn.AsSpan(4), 0x7fff0000); // SECCOMP_RET_ALLOW
        if (!BitConverter.IsLittleEndian)
            throw new PlatformNotSupportedException("the test writes a little-endian BPF program");
        var path = Combine("seccomp.bpf");
        File.WriteAllBytes(path, insn);
        return path;
    }

    /// <summary>`hivelet __run PLAN` to completion.</summary>
    public Task<ProcessResult> RunAsync(PlanFile plan, TimeSpan? timeout = null) =>
        ProcessRunner.RunAsync(Binary, ["__run", plan.Write(Combine("plan"))], timeout ?? TimeSpan.FromSeconds(30));

    /// <summary>`hivelet __exec PLAN [PID]` to completion.</summary>
    public Task<ProcessResult> ExecAsync(PlanFile plan, int? pid = null)
    {
        var args = new List<string> { "__exec", plan.Write(Combine($"exec-{Guid.NewGuid():N}.plan")) };
        if (pid is int p)
            args.Add(p.ToString(System.Globalization.CultureInfo.InvariantCulture));
        return ProcessRunner.RunAsync(Binary, args, TimeSpan.FromSeconds(30));
    }

    /// <summary>Starts `hivelet __run PLAN` in the background; killed (with its tree) on Dispose.</summary>
    public Process Start(PlanFile plan)
    {
        var psi = new ProcessStartInfo(Binary)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        psi.ArgumentList.Add("__run");
        psi.ArgumentList.Add(plan.Write(Combine($"plan-{Guid.NewGuid():N}")));
        var process = Process.Start(psi) ?? throw new InvalidOperationException($"could not start {Binary}");
        process.StandardInput.Close();
        _started.Add(process);
        return process;
    }

    /// <summary>
    /// The container's pid 1 on the host (the only child of a background `__run`), once the
    /// container printed <paramref name="readyLine"/> (so it has exec'd and set itself up).
    /// </summary>
    public static async Task<int> ContainerPidAsync(Process run, string readyLine = "ready")
    {
        var line = await run.StandardOutput.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(15));
        if (line != readyLine)
            throw new InvalidOperationException(
                $"expected \"{readyLine}\" from the container, got \"{line}\"; stderr: " +
                (run.HasExited ? await run.StandardError.ReadToEndAsync() : "(running)"));
        var children = (await File.ReadAllTextAsync($"/proc/{run.Id}/task/{run.Id}/children"))
            .Split(' ', StringSplitOptions.RemoveEmptyEntries);
        Assert.Single(children);
        return int.Parse(children[0], System.Globalization.CultureInfo.InvariantCulture);
    }

    /// <summary>Mount points under the sandbox directory that are still in our mount namespace.</summary>
    public IReadOnlyList<string> LeftoverMounts() =>
        File.ReadLines("/proc/self/mountinfo")
            .Select(l => l.Split(' ')[4])
            .Where(m => m == Dir || m.StartsWith(Dir + "/", StringComparison.Ordinal))
            .ToList();

    public void Dispose()
    {
        foreach (var p in _started)
        {
            ProcessRunner.Kill(p);
            p.Dispose();
        }
        foreach (var m in LeftoverMounts().OrderByDescending(m => m.Length))
            ProcessRunner.RunAsync("umount", ["-l", m], TimeSpan.FromSeconds(10)).GetAwaiter().GetResult();
        _dir.Dispose();
    }

    /// <summary>Debian's busybox-static (an ELF without PT_INTERP, so it runs in an empty rootfs).</summary>
    private static string FindStaticBusybox()
    {
        const string path = "/bin/busybox";
        if (!File.Exists(path))
            throw new PeerMissingException("busybox", "busybox-static");
        var elf = File.ReadAllBytes(path);
        var phoff = (int)BinaryPrimitives.ReadUInt64LittleEndian(elf.AsSpan(0x20));
        var phentsize = BinaryPrimitives.ReadUInt16LittleEndian(elf.AsSpan(0x36));
        var phnum = BinaryPrimitives.ReadUInt16LittleEndian(elf.AsSpan(0x38));
        for (var i = 0; i < phnum; i++)
        {
            if (BinaryPrimitives.ReadUInt32LittleEndian(elf.AsSpan(phoff + i * phentsize)) == 3) // PT_INTERP
                throw new PeerMissingException("busybox (static)", "busybox-static");
        }
        return path;
    }
}
