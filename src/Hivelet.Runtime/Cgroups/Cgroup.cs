using System.Diagnostics;
using Hivelet.Errors;
using Hivelet.Interop;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Hivelet.Runtime.Cgroups;

/// <summary>
/// The group(s) of one container: on v1 one directory per mounted hierarchy
/// (<c>&lt;root&gt;/&lt;controller&gt;/&lt;parent&gt;/&lt;id&gt;</c>), on v2 one directory
/// (<c>&lt;root&gt;/&lt;parent&gt;/&lt;id&gt;</c>).
/// </summary>
public sealed class Cgroup : ICgroup
{
    private static readonly TimeSpan KillWait = TimeSpan.FromSeconds(2);
    private static readonly TimeSpan RemoveWait = TimeSpan.FromSeconds(1);

    private readonly CgroupHost _host;
    private readonly ILogger _log;
    private readonly List<CgroupStep> _steps = [];

    internal Cgroup(CgroupHost host, string parent, string containerId, ILogger? logger)
    {
        _host = host;
        _log = logger ?? NullLogger.Instance;
        ContainerId = containerId;
        if (host.Layout == CgroupLayout.V2)
        {
            UnifiedDirectory = Path.Join(host.UnifiedPath, parent, containerId);
            Directories = [UnifiedDirectory];
        }
        else
        {
            Directories = host.Hierarchies
                .Where(h => h.Controllers.Any(c => CgroupHost.V1Controllers.Contains(c)))
                .Select(h => Path.Join(h.Path, parent, containerId))
                .ToList();
        }
        ProcsFiles = Directories.Select(d => Path.Join(d, "cgroup.procs")).ToList();
    }

    public string ContainerId { get; }

    /// <summary>Every directory of the group: one per v1 hierarchy, or the single v2 one.</summary>
    public IReadOnlyList<string> Directories { get; }

    /// <summary>The v2 directory; null on V1 and Hybrid.</summary>
    public string? UnifiedDirectory { get; }

    public IReadOnlyList<string> ProcsFiles { get; }

    public CgroupLayout Layout => _host.Layout;

    public IReadOnlyList<CgroupStep> CreationSteps => _steps;

    public (string File, string Key)? OomCounter =>
        Dir("memory") is { } d
            ? (Path.Join(d, _host.Layout == CgroupLayout.V2 ? "memory.events" : "memory.oom_control"), "oom_kill")
            : null;

    /// <summary>The group directory that carries <paramref name="controller"/> (v1 name), or null when it is not mounted.</summary>
    public string? Dir(string controller)
    {
        if (_host.StateOf(controller) != ControllerState.Present)
            return null;
        if (UnifiedDirectory is not null)
            return UnifiedDirectory;
        var h = _host.HierarchyOf(controller);
        return h is null ? null : Directories.FirstOrDefault(d => d.StartsWith(h.Path + "/", StringComparison.Ordinal));
    }

    public CgroupStats ReadStats()
    {
        ulong cpu = 0, memUsage = 0, memLimit = 0, pids = 0, pidsLimit = 0, read = 0, write = 0;
        bool v2 = UnifiedDirectory is not null;
        if (v2)
        {
            var d = UnifiedDirectory!;
            if (Read(d, "cpu.stat") is { } cpuStat)
                cpu = (CgroupValues.ParseKeyed(cpuStat, "usage_usec") ?? 0) * 1000;
            if (Read(d, "memory.current") is { } current)
            {
                ulong inactive = Read(d, "memory.stat") is { } stat ? CgroupValues.ParseKeyed(stat, "inactive_file") ?? 0 : 0;
                ulong usage = CgroupValues.ParseNumber(current);
                memUsage = usage > inactive ? usage - inactive : 0;
            }
            if (Read(d, "memory.max") is { } max)
                memLimit = CgroupValues.ParseV2Value(max);
            if (Read(d, "io.stat") is { } io)
                (read, write) = CgroupValues.ParseIoStatV2(io);
        }
        else
        {
            if (Dir("cpuacct") is { } acct && Read(acct, "cpuacct.usage") is { } usage)
                cpu = CgroupValues.ParseNumber(usage);
            if (Dir("memory") is { } mem)
            {
                if (Read(mem, "memory.usage_in_bytes") is { } u)
                {
                    ulong inactive = Read(mem, "memory.stat") is { } stat ? CgroupValues.ParseKeyed(stat, "total_inactive_file") ?? 0 : 0;
                    ulong used = CgroupValues.ParseNumber(u);
                    memUsage = used > inactive ? used - inactive : 0;
                }
                if (Read(mem, "memory.limit_in_bytes") is { } l)
                    memLimit = CgroupValues.ParseV1Limit(l);
            }
            if (Dir("blkio") is { } blkio && Read(blkio, "blkio.throttle.io_service_bytes") is { } io)
                (read, write) = CgroupValues.ParseBlkioV1(io);
        }
        if (Dir("pids") is { } p)
        {
            if (Read(p, "pids.current") is { } cur)
                pids = CgroupValues.ParseNumber(cur);
            if (Read(p, "pids.max") is { } pmax)
                pidsLimit = CgroupValues.ParseV2Value(pmax);
        }
        return new CgroupStats(cpu, memUsage, memLimit, pids, pidsLimit, read, write);
    }

    public IReadOnlyList<int> ReadPids()
    {
        // On v1 every hierarchy holds the same processes; pids and freezer are the ones that matter for killing.
        string? dir = UnifiedDirectory ?? Dir("pids") ?? Dir("freezer") ?? Directories.FirstOrDefault(Directory.Exists);
        if (dir is null)
            return [];
        return Read(dir, "cgroup.procs") is { } text ? CgroupValues.ParsePids(text) : [];
    }

    public void KillAll()
    {
        var clock = Stopwatch.StartNew();
        int killed = 0;
        string? killFile = UnifiedDirectory is null ? null : Path.Join(UnifiedDirectory, "cgroup.kill");
        if (killFile is not null && File.Exists(killFile))
        {
            // Linux 5.14+: the kernel kills every process of the group, forks racing with it included.
            Write(killFile, "1", "kill the processes of the cgroup");
        }
        else
        {
            // Without cgroup.kill a process could fork between our read of cgroup.procs and the kill;
            // frozen, it cannot, and SIGKILL takes effect as soon as the group thaws.
            bool frozen = Freeze(true);
            try
            {
                foreach (int pid in ReadPids())
                {
                    if (Sys.KillProcessForCgroup(pid))
                        killed++;
                }
            }
            finally
            {
                if (frozen)
                    Freeze(false);
            }
        }
        while (ReadPids() is { Count: > 0 } left)
        {
            if (clock.Elapsed > KillWait)
            {
                CgroupsLog.KillTimedOut(_log, ContainerId, clock.ElapsedMilliseconds);
                throw new HiveletException($"kill the processes of container {ContainerId}: {left.Count} still in its cgroup after {KillWait.TotalSeconds:0} s (pids {string.Join(' ', left.Take(10))})");
            }
            // Children forked while we were killing (no freezer): kill them too.
            foreach (int pid in left)
                Sys.KillProcessForCgroup(pid);
            Thread.Sleep(10);
        }
        CgroupsLog.Killed(_log, killed, ContainerId);
    }

    public void Remove()
    {
        HiveletException? first = null;
        // Reverse order: nothing depends on it on Linux, but it undoes creation symmetrically.
        foreach (var dir in Directories.Reverse())
        {
            var clock = Stopwatch.StartNew();
            int attempts = 0;
            while (true)
            {
                attempts++;
                int errno = Sys.TryRemoveCgroupDirectory(dir);
                if (errno == 0)
                {
                    CgroupsLog.Removed(_log, dir);
                    break;
                }
                if (errno is Errnos.ENOENT)
                    break;
                // EBUSY while the last processes are still exiting; give them a moment.
                if (errno == Errnos.EBUSY && clock.Elapsed < RemoveWait)
                {
                    Thread.Sleep(20);
                    continue;
                }
                if (errno == Errnos.EBUSY)
                    CgroupsLog.StillBusy(_log, dir, attempts);
                first ??= new HiveletException($"remove the cgroup of container {ContainerId}: {new ErrnoException("rmdir", dir, errno).Message}");
                break;
            }
        }
        if (first is not null)
            throw first;
    }

    /// <summary>Creates the directories; v1 cpuset groups get their parent's cpus and mems (an empty cpuset refuses tasks).</summary>
    internal void CreateDirectories()
    {
        foreach (var dir in Directories)
        {
            string parentDir = Path.GetDirectoryName(dir)!;
            bool cpuset = UnifiedDirectory is null && Dir("cpuset") == dir;
            Sys.MakeCgroupDirectory(parentDir);
            _steps.Add(new CgroupStep("need", parentDir));
            if (cpuset)
                InheritCpuset(parentDir);
            // A group left by a crash carries stale limits and, on v2, a device program that would
            // still apply next to the new one: an empty one is recreated (one with processes stays).
            if (Directory.Exists(dir) && Sys.TryRemoveCgroupDirectory(dir) == 0)
                CgroupsLog.Removed(_log, dir);
            if (Sys.MakeCgroupDirectory(dir))
                CgroupsLog.Created(_log, dir);
            _steps.Add(new CgroupStep("cgdir", dir));
            if (cpuset)
                InheritCpuset(dir);
        }
    }

    private void InheritCpuset(string dir)
    {
        string from = Path.GetDirectoryName(dir)!;
        foreach (var file in (string[])["cpuset.cpus", "cpuset.mems"])
        {
            var current = Read(dir, file)?.Trim();
            if (!string.IsNullOrEmpty(current))
                continue;
            var inherited = Read(from, file)?.Trim();
            if (!string.IsNullOrEmpty(inherited))
                Write(Path.Join(dir, file), inherited, "set up cpuset");
        }
    }

    /// <summary>Writes one control file or throws "OPERATION: write "VALUE" to `FILE`: ERROR".</summary>
    internal void Write(string file, string value, string operation)
    {
        int errno = Sys.TryWriteCgroupFile(file, value);
        if (errno != 0)
        {
            var cause = new ErrnoException($"write \"{value}\" to", file, errno);
            throw new HiveletException($"{operation}: {cause.Message}", cause);
        }
        CgroupsLog.Wrote(_log, value, file);
        _steps.Add(new CgroupStep("cgwrite", file, value));
    }

    /// <summary>Attaches a v2 device program (encoded instructions) to the group's directory.</summary>
    internal void AttachDeviceProgram(byte[] instructions, string license)
    {
        Sys.AttachCgroupDeviceProgram(UnifiedDirectory!, instructions, license);
        _steps.Add(new CgroupStep("cgbpf", UnifiedDirectory!, license, instructions));
    }

    /// <summary>Freezes (or thaws) the group; false when there is no freezer.</summary>
    private bool Freeze(bool freeze)
    {
        string? file;
        string value;
        if (UnifiedDirectory is not null)
        {
            file = Path.Join(UnifiedDirectory, "cgroup.freeze");
            value = freeze ? "1" : "0";
        }
        else
        {
            file = Dir("freezer") is { } f ? Path.Join(f, "freezer.state") : null;
            value = freeze ? "FROZEN" : "THAWED";
        }
        if (file is null || !File.Exists(file))
            return false;
        if (Sys.TryWriteCgroupFile(file, value) != 0)
            return false;
        if (freeze && UnifiedDirectory is null)
        {
            // v1 passes through FREEZING; killing before FROZEN would race with the freeze.
            var clock = Stopwatch.StartNew();
            while (Read(Path.GetDirectoryName(file)!, "freezer.state")?.Trim() == "FREEZING" && clock.ElapsedMilliseconds < 500)
                Thread.Sleep(5);
        }
        return true;
    }

    internal static string? Read(string dir, string file)
    {
        try
        {
            return File.ReadAllText(Path.Join(dir, file));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }
}
