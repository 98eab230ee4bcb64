using System.Diagnostics;
using Hivelet.Runtime.Cgroups;

namespace Hivelet.Runtime.Tests.Cgroups;

/// <summary>
/// A real cgroup manager under a parent of its own ("hivelet-test-RANDOM") so tests never touch real
/// containers, and every group, process and parent directory it created removed on Dispose.
/// </summary>
internal sealed class HostCgroupFixture : IDisposable
{
    private readonly List<ICgroup> _groups = [];
    private readonly List<Process> _processes = [];

    public HostCgroupFixture(CgroupManager? manager = null)
    {
        Parent = "hivelet-test-" + Guid.NewGuid().ToString("N")[..12];
        Manager = manager ?? CgroupManager.ForHost(parent: Parent);
    }

    /// <summary>A manager whose cgroup2 tree is /sys/fs/cgroup/unified of this hybrid host, seen as a pure v2 root.</summary>
    public static HostCgroupFixture UnifiedAsV2()
    {
        string parent = "hivelet-test-" + Guid.NewGuid().ToString("N")[..12];
        var mountInfo = "40 30 0:37 / /sys/fs/cgroup rw,relatime - cgroup2 cgroup2 rw\n";
        return new HostCgroupFixture(new CgroupManager("/sys/fs/cgroup/unified", mountInfo, "", parent), parent);
    }

    private HostCgroupFixture(CgroupManager manager, string parent)
    {
        Parent = parent;
        Manager = manager;
    }

    public string Parent { get; }

    public CgroupManager Manager { get; }

    public static bool HybridHostAvailable =>
        Environment.IsPrivilegedProcess && Directory.Exists("/sys/fs/cgroup/memory") && File.Exists("/sys/fs/cgroup/unified/cgroup.procs");

    public ICgroup Create(string id, CgroupResources resources)
    {
        var g = Manager.Create(id, resources);
        _groups.Add(g);
        return g;
    }

    /// <summary>Starts `sh -c SCRIPT` with stdin and stdout piped; the script should block on `read` until <see cref="Release"/>.</summary>
    public Process Start(string script)
    {
        var psi = new ProcessStartInfo("/bin/sh") { RedirectStandardInput = true, RedirectStandardOutput = true, UseShellExecute = false };
        psi.ArgumentList.Add("-c");
        psi.ArgumentList.Add(script);
        var p = Process.Start(psi)!;
        _processes.Add(p);
        return p;
    }

    public Process StartSleep()
    {
        var p = Process.Start(new ProcessStartInfo("sleep", "30") { UseShellExecute = false })!;
        _processes.Add(p);
        return p;
    }

    public static void Join(ICgroup g, int pid)
    {
        foreach (var procs in g.ProcsFiles)
            File.WriteAllText(procs, pid.ToString(System.Globalization.CultureInfo.InvariantCulture));
    }

    public static string Release(Process p)
    {
        p.StandardInput.WriteLine("go");
        p.StandardInput.Close();
        string output = p.StandardOutput.ReadToEnd().Trim();
        Assert.True(p.WaitForExit(5000), "the test process did not exit");
        return output;
    }

    /// <summary>Every directory named like this fixture's parent anywhere under /sys/fs/cgroup.</summary>
    public IReadOnlyList<string> Leftovers() =>
        Directory.GetDirectories("/sys/fs/cgroup")
            .Select(h => Path.Join(h, Parent))
            .Where(Directory.Exists)
            .ToList();

    public void Dispose()
    {
        foreach (var p in _processes)
        {
            try
            {
                if (!p.HasExited)
                    p.Kill();
                p.WaitForExit(2000);
            }
            catch (InvalidOperationException)
            {
            }
            p.Dispose();
        }
        foreach (var g in _groups)
        {
            try
            {
                g.KillAll();
                g.Remove();
            }
            catch (Hivelet.Errors.HiveletException e)
            {
                Console.WriteLine($"cleanup of {g.ContainerId}: {e.Message}");
            }
        }
        Manager.RemoveParentIfEmpty();
    }
}
