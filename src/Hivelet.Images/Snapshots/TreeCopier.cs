using Hivelet.Errors;
using Hivelet.Interop;
using Microsoft.Win32.SafeHandles;

namespace Hivelet.Images.Snapshots;

/// <summary>
/// Copies a directory tree exactly: file types (regular, directory, symlink, char/block device, fifo,
/// socket), permission bits including setuid/setgid/sticky, owners, extended attributes (raw bytes,
/// trusted.* and security.capability included), hard links (by inode) and timestamps. File data is
/// reflinked (FICLONE) where the file system can, else copied in the kernel (copy_file_range), else
/// through streams. Needs root to copy other users' files, devices and trusted.* attributes.
/// </summary>
public sealed class TreeCopier
{
    private const long ChunkSize = 1L << 30;

    // (device, inode) of each multiply-linked source file -> its first copy.
    private readonly Dictionary<(uint, uint, ulong), string> _links = [];
    private bool _cloneFailed;
    private bool _copyRangeFailed;

    public long Files { get; private set; }
    public long Bytes { get; private set; }

    /// <summary>Copies the contents of <paramref name="source"/> into the existing or new directory <paramref name="destination"/>.</summary>
    public static TreeCopier Copy(string source, string destination)
    {
        var copier = new TreeCopier();
        try
        {
            var root = Sys.LStat(source);
            if (!root.IsDirectory)
                throw new InvalidInputException($"copy tree `{source}`: not a directory");
            if (!Directory.Exists(destination))
                Sys.MakeDirectory(destination, 0700);
            copier.CopyDirectory(source, destination);
            ApplyMetadata(source, destination, root);
        }
        catch (Exception e) when (e is not HiveletException)
        {
            throw new HiveletException($"copy tree `{source}` to `{destination}`", e);
        }
        return copier;
    }

    private void CopyDirectory(string source, string destination)
    {
        foreach (var from in Directory.EnumerateFileSystemEntries(source))
        {
            var to = Path.Combine(destination, Path.GetFileName(from));
            var st = Sys.LStat(from);
            switch (st.Type)
            {
                case FileStatus.S_IFDIR:
                    Sys.MakeDirectory(to, 0700);
                    CopyDirectory(from, to);
                    break;
                case FileStatus.S_IFREG:
                    if (st.LinkCount > 1 && _links.TryGetValue((st.DeviceMajor, st.DeviceMinor, st.Inode), out var first))
                    {
                        Sys.Link(first, to);
                        continue;
                    }
                    CopyFile(from, to, st);
                    if (st.LinkCount > 1)
                        _links[(st.DeviceMajor, st.DeviceMinor, st.Inode)] = to;
                    break;
                case FileStatus.S_IFLNK:
                    Sys.Symlink(Sys.ReadLink(from), to);
                    break;
                case FileStatus.S_IFCHR or FileStatus.S_IFBLK or FileStatus.S_IFIFO or FileStatus.S_IFSOCK:
                    Sys.MakeNode(to, st.Type | 0600, st.RDevMajor, st.RDevMinor);
                    break;
                default:
                    throw new HiveletException($"copy `{from}`: unknown file type {st.Type:x}");
            }
            ApplyMetadata(from, to, st);
        }
    }

    private void CopyFile(string from, string to, FileStatus st)
    {
        using var src = File.OpenHandle(from, FileMode.Open, FileAccess.Read);
        using var dst = File.OpenHandle(to, FileMode.CreateNew, FileAccess.Write, FileShare.None, FileOptions.None, 0600);
        Files++;
        Bytes += (long)st.Size;
        if (st.Size == 0)
            return;
        if (!_cloneFailed)
        {
            if (Sys.TryClone(dst, src) == 0)
                return;
            // EOPNOTSUPP/EXDEV/EINVAL: this file system cannot share extents; stop asking.
            _cloneFailed = true;
        }
        if (!_copyRangeFailed && CopyRange(src, dst, from))
            return;
        using var input = new FileStream(src, FileAccess.Read, 0);
        using var output = new FileStream(dst, FileAccess.Write, 0);
        input.Position = 0;
        output.Position = 0;
        output.SetLength(0);
        input.CopyTo(output, 1 << 17);
    }

    private bool CopyRange(SafeFileHandle src, SafeFileHandle dst, string from)
    {
        while (true)
        {
            long n = Sys.TryCopyFileRange(src, dst, ChunkSize);
            if (n == 0)
                return true;
            if (n > 0)
                continue;
            int errno = (int)-n;
            if (errno is Errnos.EXDEV or Errnos.ENOSYS or Errnos.EINVAL or Errnos.EOPNOTSUPP)
            {
                _copyRangeFailed = true;
                return false;
            }
            throw new ErrnoException("copy_file_range", from, errno);
        }
    }

    /// <summary>Owner first (chown clears setuid and security.capability), then mode, xattrs, times.</summary>
    private static void ApplyMetadata(string from, string to, FileStatus st)
    {
        Sys.LChown(to, st.Uid, st.Gid);
        if (!st.IsSymlink)
            Sys.Chmod(to, st.Permissions);
        foreach (var name in Sys.LListXattr(from))
        {
            if (Sys.LGetXattr(from, name) is { } value)
                Sys.LSetXattr(to, name, value);
        }
        Sys.SetTimesNoFollow(to, st.AccessSeconds, st.AccessNanoseconds, st.ModifySeconds, st.ModifyNanoseconds);
    }
}
