namespace Hivelet.Runtime.Cgroups;

/// <summary>How the host mounts cgroups: this decides where a container's groups live.</summary>
public enum CgroupLayout
{
    /// <summary>One hierarchy per controller under /sys/fs/cgroup/&lt;controller&gt;.</summary>
    V1,

    /// <summary>The unified hierarchy at /sys/fs/cgroup (Raspberry Pi OS, current distributions).</summary>
    V2,

    /// <summary>v1 controllers plus a cgroup2 mount at /sys/fs/cgroup/unified (systemd's hybrid mode).</summary>
    Hybrid,
}

/// <summary>Creates and finds the cgroups of containers, through the file system only.</summary>
public interface ICgroupManager
{
    CgroupLayout Layout { get; }

    /// <summary>
    /// Creates the container's group(s) and applies <paramref name="resources"/>. A limit whose controller
    /// the kernel lacks is an error that says how to enable it, never a silent no-op.
    /// </summary>
    ICgroup Create(string containerId, CgroupResources resources);

    /// <summary>The existing group(s) of a container, or null when there are none.</summary>
    ICgroup? Open(string containerId);
}

/// <summary>The group(s) of one container.</summary>
public interface ICgroup
{
    string ContainerId { get; }

    /// <summary>Every cgroup.procs file the container's first process must join (one per v1 hierarchy).</summary>
    IReadOnlyList<string> ProcsFiles { get; }

    /// <summary>Where the kernel counts OOM kills (file, key), or null when memory is not controlled.</summary>
    (string File, string Key)? OomCounter { get; }

    CgroupStats ReadStats();

    /// <summary>Host pids of every process in the group.</summary>
    IReadOnlyList<int> ReadPids();

    /// <summary>SIGKILLs every process in the group and waits (bounded) until it is empty.</summary>
    void KillAll();

    /// <summary>Removes the group(s); missing ones are fine.</summary>
    void Remove();

    /// <summary>
    /// What <see cref="ICgroupManager.Create"/> did to make this group, in order, so that a run template
    /// can do the same for another container (CONTRACT.md "Run templates"); null when not recorded.
    /// </summary>
    IReadOnlyList<CgroupStep>? CreationSteps => null;
}

/// <summary>
/// One step of making a group: <c>need</c> (a parent directory that must exist), <c>cgdir</c> (mkdir, an
/// empty leftover recreated), <c>cgwrite</c> (Value written to the control file Path) or <c>cgbpf</c>
/// (a device program attached to the directory Path: Value is the license, Program the instructions).
/// </summary>
public sealed record CgroupStep(string Kind, string Path, string Value = "", byte[]? Program = null);
