using System.Text;
using Hivelet.Errors;

namespace Hivelet.Runtime.Cgroups;

/// <summary>Whether a controller can be used, and if not, why.</summary>
public enum ControllerState
{
    Present,

    /// <summary>Built in, but switched off (cgroup_disable=, or the Pi kernel's default for memory).</summary>
    Disabled,

    /// <summary>Enabled in the kernel but no usable hierarchy: not mounted (v1) or bound to a v1 hierarchy (v2).</summary>
    NotMounted,

    /// <summary>The kernel was built without it.</summary>
    Missing,
}

/// <summary>One mounted cgroup v1 hierarchy: its mount point and the controllers it carries.</summary>
public sealed record CgroupHierarchy(string Path, IReadOnlyList<string> Controllers);

/// <summary>
/// What the host's cgroup mounts look like, read from the texts of /proc/self/mountinfo,
/// /proc/cgroups and /proc/cmdline, with mount points under /sys/fs/cgroup mapped onto
/// <see cref="Root"/> (so tests can point it at a fake tree in a temp directory).
/// </summary>
public sealed class CgroupHost
{
    public const string DefaultRoot = "/sys/fs/cgroup";

    /// <summary>The v1 controllers that get a group per container (name=systemd and the network ones do not).</summary>
    public static readonly IReadOnlyList<string> V1Controllers = ["cpu", "cpuacct", "cpuset", "memory", "devices", "freezer", "blkio", "pids"];

    /// <summary>The v2 controllers hivelet enables for its groups, in cgroup.subtree_control order.</summary>
    public static readonly IReadOnlyList<string> V2Controllers = ["cpuset", "cpu", "io", "memory", "pids"];

    private readonly Dictionary<string, (int Hierarchy, bool Enabled)> _procCgroups;
    private readonly HashSet<string> _v2Available;

    public CgroupHost(string root, string mountInfo, string procCgroups, string cmdline)
    {
        Root = root.TrimEnd('/') is { Length: > 0 } r ? r : "/";
        Cmdline = cmdline;
        _procCgroups = ParseProcCgroups(procCgroups);

        var hierarchies = new List<CgroupHierarchy>();
        string? unified = null;
        var seenPaths = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (mountPoint, fsType, superOptions) in ParseMountInfo(mountInfo))
        {
            var path = MapMountPoint(mountPoint);
            if (path is null || !seenPaths.Add(path))
                continue;
            if (fsType == "cgroup2")
            {
                // The first cgroup2 mount wins; on V2 that is the root itself.
                if (unified is null || path == Root)
                    unified = path;
            }
            else if (fsType == "cgroup")
            {
                var controllers = superOptions.Split(',')
                    .Where(o => o is not ("rw" or "ro") && !o.Contains('=', StringComparison.Ordinal) && IsKnownV1Controller(o))
                    .ToList();
                // A hierarchy mounted twice (a bind mount) counts once: the first mount point is used.
                if (controllers.Count > 0 && !hierarchies.Any(h => h.Controllers.SequenceEqual(controllers)))
                    hierarchies.Add(new CgroupHierarchy(path, controllers));
            }
        }

        if (unified == Root)
        {
            Layout = CgroupLayout.V2;
            UnifiedPath = unified;
        }
        else if (hierarchies.Count > 0)
        {
            Layout = unified is null ? CgroupLayout.V1 : CgroupLayout.Hybrid;
            UnifiedPath = unified;
        }
        else if (unified is not null)
        {
            // cgroup2 mounted somewhere else than the root with no v1 hierarchy: use it as the unified tree.
            Layout = CgroupLayout.V2;
            UnifiedPath = unified;
        }
        else
        {
            throw new HiveletException($"detect cgroups: no cgroup or cgroup2 file system is mounted under {Root}");
        }
        Hierarchies = Layout == CgroupLayout.V2 ? [] : hierarchies;
        _v2Available = Layout == CgroupLayout.V2 ? ReadV2Controllers(UnifiedPath!) : [];
    }

    public string Root { get; }

    public string Cmdline { get; }

    public CgroupLayout Layout { get; }

    /// <summary>The cgroup2 mount: the root on V2, /sys/fs/cgroup/unified on Hybrid, null on V1.</summary>
    public string? UnifiedPath { get; }

    /// <summary>The mounted v1 hierarchies (empty on V2).</summary>
    public IReadOnlyList<CgroupHierarchy> Hierarchies { get; }

    /// <summary>The hierarchy carrying a v1 controller, or null.</summary>
    public CgroupHierarchy? HierarchyOf(string controller) =>
        Hierarchies.FirstOrDefault(h => h.Controllers.Contains(controller, StringComparer.Ordinal));

    /// <summary>
    /// The state of a controller by its v1 name (cpu, cpuacct, cpuset, memory, devices, freezer, blkio,
    /// pids, hugetlb); on V2 "blkio" means io, and devices/freezer are built into cgroup2 itself.
    /// </summary>
    public ControllerState StateOf(string controller)
    {
        if (Layout == CgroupLayout.V2)
        {
            string v2 = controller switch { "blkio" => "io", "cpuacct" => "cpu", _ => controller };
            if (controller is "devices" or "freezer")
                return ControllerState.Present;
            if (_v2Available.Contains(v2))
                return ControllerState.Present;
        }
        else if (HierarchyOf(controller) is not null)
        {
            return ControllerState.Present;
        }
        if (IsDisabledOnCmdline(controller))
            return ControllerState.Disabled;
        if (!_procCgroups.TryGetValue(controller, out var entry))
            return _procCgroups.Count == 0 ? ControllerState.NotMounted : ControllerState.Missing;
        return entry.Enabled ? ControllerState.NotMounted : ControllerState.Disabled;
    }

    /// <summary>True when the kernel command line switches <paramref name="controller"/> off.</summary>
    public bool IsDisabledOnCmdline(string controller)
    {
        // The last of cgroup_disable=/cgroup_enable= decides on current kernels; "cgroup_disable=memory"
        // is what Raspberry Pi kernels ship with.
        bool disabled = false;
        foreach (var word in Cmdline.Split([' ', '\n', '\t'], StringSplitOptions.RemoveEmptyEntries))
        {
            if (word == "--")
                break;
            if (word.StartsWith("cgroup_disable=", StringComparison.Ordinal) && word["cgroup_disable=".Length..].Split(',').Contains(controller))
                disabled = true;
            else if (word.StartsWith("cgroup_enable=", StringComparison.Ordinal) && word["cgroup_enable=".Length..].Split(',').Contains(controller))
                disabled = false;
        }
        return disabled;
    }

    /// <summary>
    /// Why a controller cannot be used and how to enable it; one clause, e.g. "the memory cgroup
    /// controller is not enabled: add `...` to /boot/firmware/cmdline.txt ... and reboot".
    /// </summary>
    public string Explain(string controller)
    {
        string name = Layout == CgroupLayout.V2 && controller == "blkio" ? "io" : controller;
        var state = StateOf(controller);
        bool onCmdline = Cmdline.Split([' ', '\n', '\t'], StringSplitOptions.RemoveEmptyEntries)
            .Any(w => w.StartsWith("cgroup_disable=", StringComparison.Ordinal) && w["cgroup_disable=".Length..].Split(',').Contains(controller));
        string cmdlineNote = onCmdline
            ? $" (the kernel command line in /proc/cmdline has `cgroup_disable={controller}`: the enable option must come after it)"
            : "";
        return state switch
        {
            ControllerState.Present => $"the {name} cgroup controller is available",
            ControllerState.Disabled when controller == "memory" =>
                $"the memory cgroup controller is not enabled: add `cgroup_enable=memory cgroup_memory=1` to /boot/firmware/cmdline.txt (older images: /boot/cmdline.txt){cmdlineNote} and reboot",
            ControllerState.Disabled =>
                $"the {name} cgroup controller is not enabled: add `cgroup_enable={controller}` to the kernel command line (/boot/firmware/cmdline.txt on a Raspberry Pi){cmdlineNote} and reboot",
            ControllerState.NotMounted when Layout == CgroupLayout.V2 =>
                $"the {name} cgroup controller is not in {UnifiedPath}/cgroup.controllers: it is bound to a cgroup v1 hierarchy or not delegated to this system",
            ControllerState.NotMounted =>
                $"the {name} cgroup controller is not mounted: mount it with `mount -t cgroup -o {controller} cgroup {DefaultRoot}/{controller}`",
            _ => $"the {name} cgroup controller is missing: the kernel was built without {KernelOption(controller)}",
        };
    }

    private static string KernelOption(string controller) => controller switch
    {
        "cpu" => "CONFIG_CGROUP_SCHED",
        "cpuacct" => "CONFIG_CGROUP_CPUACCT",
        "cpuset" => "CONFIG_CPUSETS",
        "memory" => "CONFIG_MEMCG",
        "devices" => "CONFIG_CGROUP_DEVICE",
        "freezer" => "CONFIG_CGROUP_FREEZER",
        "blkio" or "io" => "CONFIG_BLK_CGROUP",
        "pids" => "CONFIG_CGROUP_PIDS",
        "hugetlb" => "CONFIG_CGROUP_HUGETLB",
        _ => $"the {controller} controller",
    };

    private static bool IsKnownV1Controller(string name) =>
        name is "cpu" or "cpuacct" or "cpuset" or "memory" or "devices" or "freezer" or "blkio" or "pids"
            or "hugetlb" or "net_cls" or "net_prio" or "perf_event" or "rdma" or "misc";

    private string? MapMountPoint(string mountPoint)
    {
        if (mountPoint == DefaultRoot)
            return Root;
        if (mountPoint.StartsWith(DefaultRoot + "/", StringComparison.Ordinal))
            return Root == "/" ? mountPoint[DefaultRoot.Length..] : Root + mountPoint[DefaultRoot.Length..];
        // A cgroup mounted elsewhere is only meaningful for the real host.
        return Root == DefaultRoot ? mountPoint : null;
    }

    private static HashSet<string> ReadV2Controllers(string unified)
    {
        try
        {
            return File.ReadAllText(Path.Join(unified, "cgroup.controllers"))
                .Split([' ', '\n'], StringSplitOptions.RemoveEmptyEntries).ToHashSet(StringComparer.Ordinal);
        }
        catch (IOException)
        {
            return [];
        }
    }

    /// <summary>(mount point, fs type, super options) of every cgroup/cgroup2 line.</summary>
    internal static IEnumerable<(string MountPoint, string FsType, string SuperOptions)> ParseMountInfo(string text)
    {
        foreach (var line in text.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            // "36 25 0:31 / /sys/fs/cgroup/memory rw,relatime shared:15 - cgroup cgroup rw,memory"
            int dash = line.IndexOf(" - ", StringComparison.Ordinal);
            if (dash < 0)
                continue;
            var head = line[..dash].Split(' ');
            var tail = line[(dash + 3)..].Split(' ');
            if (head.Length < 5 || tail.Length < 3 || tail[0] is not ("cgroup" or "cgroup2"))
                continue;
            yield return (Unescape(head[4]), tail[0], tail[2]);
        }
    }

    /// <summary>Octal escapes of mountinfo (\040 for a space).</summary>
    private static string Unescape(string s)
    {
        if (!s.Contains('\\', StringComparison.Ordinal))
            return s;
        var sb = new StringBuilder(s.Length);
        for (int i = 0; i < s.Length; i++)
        {
            if (s[i] == '\\' && IsOctal(s, i + 1))
            {
                sb.Append((char)Convert.ToInt32(s.Substring(i + 1, 3), 8));
                i += 3;
            }
            else
            {
                sb.Append(s[i]);
            }
        }
        return sb.ToString();
    }

    private static bool IsOctal(string s, int at) =>
        at + 3 <= s.Length && s[at] is >= '0' and <= '7' && s[at + 1] is >= '0' and <= '7' && s[at + 2] is >= '0' and <= '7';

    private static Dictionary<string, (int, bool)> ParseProcCgroups(string text)
    {
        var result = new Dictionary<string, (int, bool)>(StringComparer.Ordinal);
        foreach (var line in text.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            if (line.StartsWith('#'))
                continue;
            var f = line.Split(['\t', ' '], StringSplitOptions.RemoveEmptyEntries);
            if (f.Length >= 4 && int.TryParse(f[1], out int hierarchy))
                result[f[0]] = (hierarchy, f[3] == "1");
        }
        return result;
    }
}
