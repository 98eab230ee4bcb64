using Hivelet.Images.Snapshots;
using Hivelet.Interop;

namespace Hivelet.Images.Tests.Snapshots;

/// <summary>A temp directory that is unmounted and deleted after the test, even when it failed.</summary>
public sealed class SnapshotTestRoot : IDisposable
{
    public SnapshotTestRoot()
    {
        Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "hivelet-snapshots-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Path);
    }

    public string Path { get; }

    /// <summary>Mount points under the root in the mount table of any thread of this process.</summary>
    public IReadOnlyList<string> MountsEverywhere()
    {
        var found = new List<string>();
        foreach (var task in Directory.EnumerateDirectories("/proc/self/task"))
        {
            try
            {
                found.AddRange(MountTable.MountPointsUnder(Path, System.IO.Path.Combine(task, "mountinfo")));
            }
            catch (IOException)
            {
                // The thread exited while we looked.
            }
        }
        return found.Distinct().ToList();
    }

    public void Dispose()
    {
        foreach (var mount in MountTable.MountPointsUnder(Path))
            Sys.TryUnmount(mount, Sys.MNT_DETACH);
        if (Directory.Exists(Path))
        {
            foreach (var dir in Directory.EnumerateDirectories(Path, "*", SearchOption.AllDirectories))
                Sys.Chmod(dir, 0x1c0);
            Directory.Delete(Path, recursive: true);
        }
    }
}
