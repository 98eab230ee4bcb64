using System.Globalization;
using Hivelet.Images.Snapshots;
using Hivelet.Interop;
using Hivelet.Runtime.Containers;
using Hivelet.Runtime.Spec;
using Microsoft.Extensions.Logging;

namespace Hivelet.Runtime.Volumes;

/// <summary>
/// Docker copies what the image has at a volume's mount point into the volume when the volume is
/// still empty (moby's copyExistingContents; `-v name:/path:nocopy` opts out), so `-v data:/var/lib/app`
/// starts from the image's files instead of hiding them.
/// </summary>
public static class VolumeSeeder
{
    public static void SeedEmptyVolumes(ContainerRecord record, string rootfs, ILogger logger)
    {
        SafeDirectoryHandle? root = null;
        try
        {
            foreach (var m in record.Mounts)
            {
                if (m.Type != "volume" || m.Mode.Contains("nocopy", StringComparison.Ordinal) || !IsEmptyDirectory(m.Source))
                    continue;
                root ??= Sys.OpenDirectory(rootfs);
                // The image's directory is opened inside the root (symlinks in the image cannot lead out of
                // it) and copied through its descriptor; TreeCopier never follows the symlinks it copies.
                int err = Sys.TryOpenDirectoryInRoot(root, m.Destination.TrimStart('/'), out var dir);
                if (err is Errnos.ENOSYS or Errnos.EPERM)
                    continue; // no openat2: skip the copy rather than risk following a symlink out
                if (err != 0)
                    continue; // nothing there in the image (ENOENT, ENOTDIR, ...): nothing to copy
                using (dir)
                {
                    // "/." makes lstat look through the descriptor's magic link at the directory itself.
                    var source = "/proc/self/fd/" + dir!.Fd.ToString(CultureInfo.InvariantCulture) + "/.";
                    var copier = TreeCopier.Copy(source, m.Source);
                    SpecLog.VolumeSeeded(logger, m.Name ?? m.Source, m.Destination, copier.Files);
                }
            }
        }
        finally
        {
            root?.Dispose();
        }
    }

    private static bool IsEmptyDirectory(string path)
    {
        try
        {
            return !Directory.EnumerateFileSystemEntries(path).Any();
        }
        catch (DirectoryNotFoundException)
        {
            return false;
        }
    }
}
