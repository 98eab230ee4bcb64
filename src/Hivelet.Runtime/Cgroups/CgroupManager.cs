using Hivelet.Errors;
using Hivelet.Interop;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Hivelet.Runtime.Cgroups;

/// <summary>
/// The cgroupfs driver: creates container groups under a parent ("hivelet") directly through the
/// cgroup file systems, on v1, v2 and the hybrid layout (where, like Docker's cgroupfs driver, every
/// controller is used through its v1 hierarchy and the cgroup2 mount is left alone).
/// </summary>
public sealed class CgroupManager : ICgroupManager
{
    public const string DefaultParent = "hivelet";

    private readonly ILogger _log;

    /// <param name="root">Where cgroups are mounted; mountinfo's mount points under /sys/fs/cgroup are mapped onto it.</param>
    /// <param name="mountInfo">The text of /proc/self/mountinfo.</param>
    /// <param name="procCgroups">The text of /proc/cgroups (may be empty).</param>
    /// <param name="parent">The directory under each hierarchy that holds the container groups.</param>
    /// <param name="cmdline">The text of /proc/cmdline, to explain a controller switched off there.</param>
    public CgroupManager(string root, string mountInfo, string procCgroups, string parent = DefaultParent, string cmdline = "", ILogger? logger = null)
    {
        ValidateName(parent, "cgroup parent");
        _log = logger ?? NullLogger.Instance;
        Host = new CgroupHost(root, mountInfo, procCgroups, cmdline);
        Parent = parent;
        CgroupsLog.Detected(_log, Host.Layout, Host.Root);
    }

    /// <summary>The manager of this machine: /sys/fs/cgroup as /proc describes it.</summary>
    public static CgroupManager ForHost(ILogger? logger = null, string parent = DefaultParent) =>
        new(CgroupHost.DefaultRoot, ReadProc("/proc/self/mountinfo"), ReadProc("/proc/cgroups"), parent, ReadProc("/proc/cmdline"), logger);

    public CgroupHost Host { get; }

    public string Parent { get; }

    public CgroupLayout Layout => Host.Layout;

    /// <summary>Whether memory+swap can be limited (v1 memory.memsw.*, v2 memory.swap.max).</summary>
    public bool SwapAccounted
    {
        get
        {
            if (Host.StateOf("memory") != ControllerState.Present)
                return false;
            if (Layout != CgroupLayout.V2)
                return File.Exists(Path.Join(Host.HierarchyOf("memory")!.Path, "memory.memsw.limit_in_bytes"));
            if (Host.Cmdline.Contains("swapaccount=0", StringComparison.Ordinal) || Host.Cmdline.Contains("cgroup.memory=noswap", StringComparison.Ordinal))
                return false;
            // The root group has no memory.* files; any child with memory enabled shows whether swap is accounted.
            foreach (var child in SafeSubdirectories(Host.UnifiedPath!))
            {
                if (File.Exists(Path.Join(child, "memory.max")))
                    return File.Exists(Path.Join(child, "memory.swap.max"));
            }
            return true;
        }
    }

    public ICgroup Create(string containerId, CgroupResources resources)
    {
        ValidateName(containerId, "container id");
        var devices = resources.Devices.Count == 0 ? DeviceRules.DockerDefault : resources.Devices;
        CheckValues(resources, devices);
        RequireControllers(resources, devices);

        var group = new Cgroup(Host, Parent, containerId, _log);
        if (Layout == CgroupLayout.V2)
            EnableControllers();
        group.CreateDirectories();
        try
        {
            if (Layout == CgroupLayout.V2)
                ApplyV2(group, resources, devices);
            else
                ApplyV1(group, resources, devices);
        }
        catch
        {
            try
            {
                group.Remove();
            }
            catch (HiveletException e)
            {
                CgroupsLog.RollbackFailed(_log, containerId, e.Message);
            }
            throw;
        }
        return group;
    }

    public ICgroup? Open(string containerId)
    {
        ValidateName(containerId, "container id");
        var group = new Cgroup(Host, Parent, containerId, _log);
        return group.Directories.Any(Directory.Exists) ? group : null;
    }

    /// <summary>How old an abandoned group must be before <see cref="CleanupStale(IReadOnlySet{string}, TimeSpan, bool)"/> takes it.</summary>
    public static readonly TimeSpan StaleGrace = TimeSpan.FromMinutes(2);

    /// <summary>
    /// Kills and removes the groups of containers not in <paramref name="liveIds"/> (left by a crash or
    /// a kill -9 between create and rm). Failures are logged, not thrown; returns how many were removed.
    /// </summary>
    public int CleanupStale(IReadOnlySet<string> liveIds) => CleanupStale(liveIds, TimeSpan.Zero, killProcesses: true);

    /// <summary>
    /// As <see cref="CleanupStale(IReadOnlySet{string})"/>, for a caller that knows only its own store's
    /// containers: every store root on a host shares the parent, so a group another root owns looks
    /// stale from here. With <paramref name="killProcesses"/> false a group that holds a process is left
    /// (it may be another root's running container), and a group younger than <paramref name="minAge"/>
    /// is left (another root may be between creating it and its container joining it).
    /// </summary>
    public int CleanupStale(IReadOnlySet<string> liveIds, TimeSpan minAge, bool killProcesses)
    {
        var ids = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var parentDir in ParentDirectories())
        {
            foreach (var child in SafeSubdirectories(parentDir))
                ids.Add(Path.GetFileName(child));
        }
        int removed = 0;
        var youngest = DateTime.UtcNow - minAge;
        foreach (var id in ids)
        {
            if (liveIds.Contains(id))
                continue;
            try
            {
                var group = new Cgroup(Host, Parent, id, _log);
                var existing = group.Directories.Where(Directory.Exists).ToList();
                if (!killProcesses && existing.Any(HoldsProcesses))
                {
                    CgroupsLog.StaleKept(_log, id, "it holds processes");
                    continue;
                }
                if (minAge > TimeSpan.Zero && existing.Any(d => Directory.GetLastWriteTimeUtc(d) > youngest))
                {
                    CgroupsLog.StaleKept(_log, id, "it is newer than the grace period");
                    continue;
                }
                if (killProcesses)
                    group.KillAll();
                group.Remove();
                CgroupsLog.StaleRemoved(_log, id);
                removed++;
            }
            catch (Exception e) when (e is HiveletException or IOException)
            {
                CgroupsLog.StaleFailed(_log, id, e.Message);
            }
        }
        return removed;
    }

    private static bool HoldsProcesses(string dir)
    {
        try
        {
            return File.ReadAllText(Path.Join(dir, "cgroup.procs")).Trim().Length > 0;
        }
        catch (FileNotFoundException)
        {
            return false;
        }
    }

    /// <summary>Removes the parent directories when no container group is left in them (tests, uninstall).</summary>
    public void RemoveParentIfEmpty()
    {
        foreach (var dir in ParentDirectories())
        {
            int errno = Sys.TryRemoveCgroupDirectory(dir);
            if (errno is not (0 or Errnos.ENOENT or Errnos.EBUSY or Errnos.ENOTEMPTY))
                throw new ErrnoException("rmdir", dir, errno);
        }
    }

    /// <summary>The parent directory in each hierarchy (one on v2).</summary>
    public IReadOnlyList<string> ParentDirectories() =>
        new Cgroup(Host, Parent, "x", _log).Directories.Select(d => Path.GetDirectoryName(d)!).ToList();

    private void CheckValues(CgroupResources r, IReadOnlyList<DeviceRule> devices)
    {
        if (r.NanoCpus is < 0)
            throw new InvalidInputException($"invalid --cpus {r.NanoCpus / 1e9}: must be positive");
        if (r.NanoCpus is > 0 and < 10_000_000)
            throw new InvalidInputException("invalid --cpus: the minimum is 0.01");
        if (r.CpuShares is < 0)
            throw new InvalidInputException($"invalid --cpu-shares {r.CpuShares}: must be positive");
        if (r.BlkioWeight is { } w && w != 0 && w is < 10 or > 1000)
            throw new InvalidInputException($"invalid --blkio-weight {w}: the range is 10 to 1000");
        CgroupValues.MemorySwapTotal(r.MemoryBytes, r.MemorySwapBytes, swapAccounted: false);
        foreach (var rule in devices)
            DeviceRules.Validate(rule);
    }

    /// <summary>Every controller a requested limit needs must be there before anything is created.</summary>
    private void RequireControllers(CgroupResources r, IReadOnlyList<DeviceRule> devices)
    {
        void Need(bool wanted, string controller, string what)
        {
            if (wanted && Host.StateOf(controller) != ControllerState.Present)
                throw new MissingControllerException(controller, $"{what}: {Host.Explain(controller)}");
        }
        Need(r.MemoryBytes is > 0, "memory", "set memory limit");
        Need(r.MemorySwapBytes is { } s && s != 0, "memory", "set memory+swap limit");
        Need(r.NanoCpus is > 0, "cpu", "set cpu quota");
        Need(r.CpuShares is > 0, "cpu", "set cpu shares");
        Need(!string.IsNullOrEmpty(r.CpusetCpus) || !string.IsNullOrEmpty(r.CpusetMems), "cpuset", "set cpuset");
        Need(r.PidsLimit is > 0, "pids", "set pids limit");
        Need(r.BlkioWeight is > 0, "blkio", "set blkio weight");
        Need(!DeviceRules.IsAllowAll(devices), "devices", "set device rules");
    }

    /// <summary>v2: a controller can only be used in a group when every ancestor delegates it in cgroup.subtree_control.</summary>
    private void EnableControllers()
    {
        string root = Host.UnifiedPath!;
        string parentDir = Path.Join(root, Parent);
        var wanted = CgroupHost.V2Controllers.Where(c => Host.StateOf(c == "io" ? "blkio" : c) == ControllerState.Present).ToList();
        Enable(root, wanted);
        Sys.MakeCgroupDirectory(parentDir);
        Enable(parentDir, wanted);

        void Enable(string dir, List<string> controllers)
        {
            string file = Path.Join(dir, "cgroup.subtree_control");
            var enabled = (Cgroup.Read(dir, "cgroup.subtree_control") ?? "").Split([' ', '\n'], StringSplitOptions.RemoveEmptyEntries);
            foreach (var c in controllers)
            {
                if (enabled.Contains(c))
                    continue;
                // One write per controller, so a refusal names the controller it is about.
                int errno = Sys.TryWriteCgroupFile(file, "+" + c);
                if (errno != 0)
                {
                    var cause = new ErrnoException($"write \"+{c}\" to", file, errno);
                    throw new HiveletException($"enable the {c} cgroup controller: {cause.Message}", cause);
                }
                CgroupsLog.Wrote(_log, "+" + c, file);
            }
        }
    }

    private void ApplyV1(Cgroup g, CgroupResources r, IReadOnlyList<DeviceRule> devices)
    {
        if (g.Dir("cpuset") is { } cpuset)
        {
            if (!string.IsNullOrEmpty(r.CpusetCpus))
                g.Write(Path.Join(cpuset, "cpuset.cpus"), r.CpusetCpus, "set cpuset cpus");
            if (!string.IsNullOrEmpty(r.CpusetMems))
                g.Write(Path.Join(cpuset, "cpuset.mems"), r.CpusetMems, "set cpuset mems");
        }
        if (g.Dir("memory") is { } mem)
        {
            if (r.MemoryBytes is > 0 and { } m)
                g.Write(Path.Join(mem, "memory.limit_in_bytes"), CgroupValues.Num(m), "set memory limit");
            string memsw = Path.Join(mem, "memory.memsw.limit_in_bytes");
            bool accounted = File.Exists(memsw);
            RequireSwapAccounting(r, accounted);
            // After the memory limit: the kernel refuses memsw below memory.limit_in_bytes.
            if (CgroupValues.MemorySwapTotal(r.MemoryBytes, r.MemorySwapBytes, accounted) is { } total && accounted)
                g.Write(memsw, CgroupValues.MemswV1(total), "set memory+swap limit");
        }
        if (g.Dir("cpu") is { } cpu)
        {
            if (r.CpuShares is > 0 and { } shares)
                g.Write(Path.Join(cpu, "cpu.shares"), CgroupValues.Num(shares), "set cpu shares");
            if (r.NanoCpus is > 0 and { } nano)
            {
                g.Write(Path.Join(cpu, "cpu.cfs_period_us"), CgroupValues.Num(CgroupValues.CfsPeriodMicroseconds), "set cpu period");
                g.Write(Path.Join(cpu, "cpu.cfs_quota_us"), CgroupValues.Num(CgroupValues.CpuQuota(nano)), "set cpu quota");
            }
        }
        if (r.PidsLimit is > 0 and { } pids && g.Dir("pids") is { } pidsDir)
            g.Write(Path.Join(pidsDir, "pids.max"), CgroupValues.PidsMax(pids), "set pids limit");
        if (r.BlkioWeight is > 0 and { } weight && g.Dir("blkio") is { } blkio)
        {
            string file = Path.Join(blkio, "blkio.weight");
            if (!File.Exists(file))
                file = Path.Join(blkio, "blkio.bfq.weight");
            if (!File.Exists(file))
                throw new HiveletException($"set blkio weight: neither blkio.weight nor blkio.bfq.weight exists in `{blkio}`: the block devices' I/O scheduler has no weights (use bfq)");
            g.Write(file, CgroupValues.Num(weight), "set blkio weight");
        }
        if (g.Dir("devices") is { } dev)
        {
            if (DeviceRules.IsAllowAll(devices))
            {
                g.Write(Path.Join(dev, "devices.allow"), "a", "set device rules");
            }
            else
            {
                g.Write(Path.Join(dev, "devices.deny"), "a", "set device rules");
                foreach (var rule in devices)
                    g.Write(Path.Join(dev, rule.Allow ? "devices.allow" : "devices.deny"), CgroupValues.DeviceRuleV1(rule), "set device rules");
            }
        }
    }

    private void ApplyV2(Cgroup g, CgroupResources r, IReadOnlyList<DeviceRule> devices)
    {
        string d = g.UnifiedDirectory!;
        if (!string.IsNullOrEmpty(r.CpusetCpus))
            g.Write(Path.Join(d, "cpuset.cpus"), r.CpusetCpus, "set cpuset cpus");
        if (!string.IsNullOrEmpty(r.CpusetMems))
            g.Write(Path.Join(d, "cpuset.mems"), r.CpusetMems, "set cpuset mems");
        if (r.MemoryBytes is > 0 and { } m)
            g.Write(Path.Join(d, "memory.max"), CgroupValues.Num(m), "set memory limit");
        if (Host.StateOf("memory") == ControllerState.Present)
        {
            string swapMax = Path.Join(d, "memory.swap.max");
            bool accounted = File.Exists(swapMax);
            RequireSwapAccounting(r, accounted);
            if (r.MemoryBytes is > 0 and { } mem && CgroupValues.MemorySwapTotal(mem, r.MemorySwapBytes, accounted) is { } total && accounted)
                g.Write(swapMax, CgroupValues.SwapMaxV2(mem, total), "set swap limit");
        }
        if (r.CpuShares is > 0 and { } shares)
            g.Write(Path.Join(d, "cpu.weight"), CgroupValues.Num(CgroupValues.CpuWeight(shares)), "set cpu weight");
        if (r.NanoCpus is > 0 and { } nano)
            g.Write(Path.Join(d, "cpu.max"), CgroupValues.CpuMax(nano), "set cpu quota");
        if (r.PidsLimit is > 0 and { } pids)
            g.Write(Path.Join(d, "pids.max"), CgroupValues.PidsMax(pids), "set pids limit");
        if (r.BlkioWeight is > 0 and { } weight)
        {
            string bfq = Path.Join(d, "io.bfq.weight");
            if (File.Exists(bfq))
                g.Write(bfq, CgroupValues.Num(weight), "set blkio weight");
            else
                g.Write(Path.Join(d, "io.weight"), CgroupValues.Num(CgroupValues.IoWeight(weight)), "set blkio weight");
        }
        if (!DeviceRules.IsAllowAll(devices))
        {
            var program = DeviceProgram.Compile(devices);
            try
            {
                g.AttachDeviceProgram(DeviceProgram.Encode(program), DeviceProgram.License);
            }
            catch (ErrnoException e)
            {
                throw new HiveletException($"set device rules: {e.Message}", e);
            }
            CgroupsLog.DeviceProgramAttached(_log, program.Count, d);
        }
    }

    private static void RequireSwapAccounting(CgroupResources r, bool accounted)
    {
        // -1 (unlimited swap) is what an unaccounted kernel does anyway.
        if (r.MemorySwapBytes is { } s && s != 0 && s != -1 && !accounted)
            throw new MissingControllerException("memory",
                "set memory+swap limit: Your kernel does not support swap limit capabilities or the cgroup is not mounted: " +
                "enable swap accounting (`swapaccount=1` on the kernel command line, /boot/firmware/cmdline.txt on a Raspberry Pi) and reboot");
    }

    private static void ValidateName(string name, string what)
    {
        if (string.IsNullOrEmpty(name) || name is "." or ".." || name.Contains('/', StringComparison.Ordinal) || name.Contains('\0', StringComparison.Ordinal) || name.Length > 200)
            throw new InvalidInputException($"invalid {what} \"{name}\": not usable as a cgroup name");
    }

    private static IEnumerable<string> SafeSubdirectories(string dir)
    {
        try
        {
            return Directory.GetDirectories(dir);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return [];
        }
    }

    private static string ReadProc(string path)
    {
        try
        {
            return File.ReadAllText(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return "";
        }
    }
}
