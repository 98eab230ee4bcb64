using Microsoft.Extensions.Logging;

namespace Hivelet.Runtime.Cgroups;

/// <summary>One controller as `system info` shows it: present, or missing with how to enable it.</summary>
public sealed record ControllerInfo(string Name, bool Present, string? Hint);

/// <summary>The cgroup facts `hivelet system info` prints.</summary>
public sealed record CgroupProbe(
    CgroupLayout Layout,
    string Driver,
    int Version,
    IReadOnlyList<ControllerInfo> Controllers,
    bool SwapAccounting,
    bool CgroupNamespaces)
{
    /// <summary>Controllers by their v1 names; on v2 blkio is shown as io.</summary>
    private static readonly string[] Shown = ["cpu", "cpuset", "memory", "pids", "blkio", "devices", "freezer", "hugetlb"];

    /// <summary>Probes this machine.</summary>
    public static CgroupProbe ForHost(ILogger? logger = null) => Read(CgroupManager.ForHost(logger));

    public static CgroupProbe Read(CgroupManager manager, string cgroupNamespaceFile = "/proc/self/ns/cgroup")
    {
        var host = manager.Host;
        var controllers = Shown.Select(c =>
        {
            bool present = host.StateOf(c) == ControllerState.Present;
            string name = host.Layout == CgroupLayout.V2 && c == "blkio" ? "io" : c;
            return new ControllerInfo(name, present, present ? null : host.Explain(c));
        }).ToList();
        return new CgroupProbe(
            host.Layout,
            "cgroupfs",
            host.Layout == CgroupLayout.V2 ? 2 : 1,
            controllers,
            manager.SwapAccounted,
            File.Exists(cgroupNamespaceFile) || Directory.Exists(Path.GetDirectoryName(cgroupNamespaceFile)) && LinkExists(cgroupNamespaceFile));
    }

    private static bool LinkExists(string path)
    {
        try
        {
            return new FileInfo(path).LinkTarget is not null;
        }
        catch (IOException)
        {
            return false;
        }
    }
}
