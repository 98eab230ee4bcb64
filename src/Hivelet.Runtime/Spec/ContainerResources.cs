using Hivelet.Errors;
using Hivelet.Interop;
using Hivelet.Runtime.Cgroups;
using Hivelet.Runtime.Containers;

namespace Hivelet.Runtime.Spec;

/// <summary>A device node on the host, as --device needs it.</summary>
public readonly record struct HostDevice(char Type, uint Major, uint Minor, uint Permissions, uint Uid, uint Gid)
{
    /// <summary>Stats <paramref name="path"/> (following symlinks such as /dev/serial0, as Docker does).</summary>
    public static HostDevice Stat(string path)
    {
        string resolved = path;
        try
        {
            var target = new FileInfo(path).ResolveLinkTarget(returnFinalTarget: true);
            if (target != null)
                resolved = target.FullName;
        }
        catch (IOException)
        {
            // A dangling or looping link: the stat below names the problem.
        }
        int errno = Sys.TryLStat(resolved, out var st);
        if (errno != 0)
            throw new InvalidInputException(
                $"error gathering device information while adding custom device \"{path}\": {Errnos.Describe(errno)}");
        char type = st.Type switch
        {
            FileStatus.S_IFCHR => 'c',
            FileStatus.S_IFBLK => 'b',
            _ => throw new InvalidInputException(
                $"error gathering device information while adding custom device \"{path}\": not a device node"),
        };
        return new HostDevice(type, st.RDevMajor, st.RDevMinor, st.Permissions, st.Uid, st.Gid);
    }

    // Directories of /dev that hold no nodes a container should copy (moby's HostDevices skips the same).
    private static readonly HashSet<string> SkippedDirs = new(StringComparer.Ordinal)
    {
        "pts", "shm", "fd", "mqueue", ".lxc", ".lxd-mounts", ".udev",
    };

    /// <summary>
    /// Every device node under <paramref name="root"/> (default /dev), as `--privileged` gives them to a
    /// container: symlinks, /dev/console and the pts/shm/mqueue trees are skipped. Paths are relative to
    /// /dev, so a test can point this at another tree.
    /// </summary>
    public static List<(string Path, HostDevice Device)> All(string root = "/dev")
    {
        var result = new List<(string, HostDevice)>();
        Walk(root, "/dev", result);
        result.Sort((a, b) => string.CompareOrdinal(a.Item1, b.Item1));
        return result;
    }

    private static void Walk(string dir, string containerDir, List<(string, HostDevice)> result)
    {
        IEnumerable<string> entries;
        try
        {
            entries = Directory.EnumerateFileSystemEntries(dir).ToList();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return;
        }
        foreach (var path in entries)
        {
            var name = Path.GetFileName(path);
            if (Sys.TryLStat(path, out var st) != 0)
                continue;
            var inContainer = containerDir + "/" + name;
            if (st.IsDirectory)
            {
                if (!SkippedDirs.Contains(name))
                    Walk(path, inContainer, result);
                continue;
            }
            if (inContainer == "/dev/console" || (st.Type != FileStatus.S_IFCHR && st.Type != FileStatus.S_IFBLK))
                continue;
            result.Add((inContainer, new HostDevice(st.Type == FileStatus.S_IFCHR ? 'c' : 'b',
                st.RDevMajor, st.RDevMinor, st.Permissions, st.Uid, st.Gid)));
        }
    }
}

/// <summary>From a container's HostConfig to the limits and device rules its cgroup gets.</summary>
public static class ContainerResources
{
    /// <summary>
    /// Docker's device allow-list (runtime.md C5): its own spec's rules plus what runc appends, in
    /// that order. The cgroup manager starts from "deny all", so Docker's leading deny-all and its deny of
    /// fuse (10:229, redundant after deny-all) are not repeated.
    /// </summary>
    public static readonly IReadOnlyList<DeviceRule> DefaultDeviceRules =
    [
        new(true, 'c', 1, 5, "rwm"), // zero
        new(true, 'c', 1, 3, "rwm"), // null
        new(true, 'c', 1, 9, "rwm"), // urandom
        new(true, 'c', 1, 8, "rwm"), // random
        new(true, 'c', 5, 0, "rwm"), // tty
        new(true, 'c', 5, 1, "rwm"), // console
        new(true, 'c', -1, -1, "m"), // mknod of any char device (runc)
        new(true, 'b', -1, -1, "m"), // mknod of any block device (runc)
        new(true, 'c', 1, 7, "rwm"), // full
        new(true, 'c', 136, -1, "rwm"), // /dev/pts/*
        new(true, 'c', 5, 2, "rwm"), // /dev/ptmx
        new(true, 'c', 10, 200, "rwm"), // /dev/net/tun (runc keeps it for compatibility, runc PR #3468)
    ];

    public static CgroupResources From(HostConfig host)
    {
        ArgumentNullException.ThrowIfNull(host);
        var rules = new List<DeviceRule>();
        if (host.Privileged)
        {
            rules.Add(new DeviceRule(true, 'a', -1, -1, "rwm"));
        }
        else
        {
            rules.AddRange(DefaultDeviceRules);
            foreach (var d in host.Devices ?? [])
            {
                var dev = HostDevice.Stat(d.PathOnHost);
                rules.Add(new DeviceRule(true, dev.Type, dev.Major, dev.Minor, d.CgroupPermissions));
            }
        }
        return new CgroupResources
        {
            MemoryBytes = host.Memory > 0 ? host.Memory : null,
            MemorySwapBytes = host.MemorySwap != 0 ? host.MemorySwap : null,
            NanoCpus = host.NanoCpus > 0 ? host.NanoCpus : null,
            CpuShares = host.CpuShares > 0 ? host.CpuShares : null,
            CpusetCpus = string.IsNullOrEmpty(host.CpusetCpus) ? null : host.CpusetCpus,
            CpusetMems = string.IsNullOrEmpty(host.CpusetMems) ? null : host.CpusetMems,
            PidsLimit = host.PidsLimit is > 0 ? host.PidsLimit : null,
            BlkioWeight = host.BlkioWeight > 0 ? host.BlkioWeight : null,
            Devices = rules,
        };
    }
}
