using System.Runtime.InteropServices;
using System.Text;
using Microsoft.Win32.SafeHandles;

namespace Hivelet.Interop;

public static partial class Sys
{
    public const uint RENAME_NOREPLACE = Libc.Tree.RENAME_NOREPLACE;

    /// <summary>lstat through statx; fixed layout on every architecture.</summary>
    public static FileStatus LStat(string path)
    {
        int errno = TryLStat(path, out var status);
        if (errno != 0)
            throw new ErrnoException("statx", path, errno);
        return status;
    }

    /// <summary>lstat that returns the errno (0 on success), for "does it exist" checks.</summary>
    public static int TryLStat(string path, out FileStatus status) => TryStatx(path, Libc.Tree.AT_SYMLINK_NOFOLLOW, out status);

    /// <summary>stat (a final symlink followed) that returns the errno (0 on success).</summary>
    public static int TryStat(string path, out FileStatus status) => TryStatx(path, 0, out status);

    private static unsafe int TryStatx(string path, int flags, out FileStatus status)
    {
        Libc.statx_buf b;
        if (Libc.statx(Libc.AT_FDCWD, path, flags, Libc.Tree.STATX_BASIC_STATS, &b) == -1)
        {
            status = default;
            return Marshal.GetLastPInvokeError();
        }
        status = new FileStatus(
            b.stx_mode, b.stx_uid, b.stx_gid, b.stx_nlink, b.stx_ino, b.stx_dev_major, b.stx_dev_minor, b.stx_size,
            b.stx_atime.tv_sec, b.stx_atime.tv_nsec, b.stx_mtime.tv_sec, b.stx_mtime.tv_nsec,
            b.stx_rdev_major, b.stx_rdev_minor);
        return 0;
    }

    /// <summary>syncfs(2) on the file system holding <paramref name="path"/>: flushes everything written there.</summary>
    public static void SyncFileSystem(string path)
    {
        int fd = Check(Libc.open(path, Libc.O_RDONLY | Libc.O_CLOEXEC, 0), "open", path);
        try
        {
            Check(Libc.syncfs(fd), "syncfs", path);
        }
        finally
        {
            Libc.close(fd);
        }
    }

    /// <summary>mkdir(2); the mode is filtered by the umask, callers chmod afterwards for exact bits.</summary>
    public static void MakeDirectory(string path, uint mode) => Check(Libc.Tree.mkdir(path, mode), "mkdir", path);

    /// <summary>mknod(2) for devices, fifos and whiteouts; <paramref name="mode"/> includes the S_IF type.</summary>
    public static void MakeNode(string path, uint mode, uint major, uint minor) =>
        Check(Libc.Tree.mknodat(Libc.Tree.AT_FDCWD, path, mode, MakeDev(major, minor)), "mknod", path);

    /// <summary>glibc's makedev: 12 bits of major and 20 of minor in the low word, the rest above.</summary>
    public static ulong MakeDev(uint major, uint minor) =>
        ((ulong)(major & 0xfffff000) << 32) | ((ulong)(major & 0xfff) << 8) |
        ((ulong)(minor & 0xffffff00) << 12) | (minor & 0xff);

    /// <summary>lchown(2): never follows a symlink. Clears setuid/setgid, so chmod comes after it.</summary>
    public static void LChown(string path, uint uid, uint gid) => Check(Libc.Tree.lchown(path, uid, gid), "lchown", path);

    public static void Chmod(string path, uint mode) => Check(Libc.Tree.chmod(path, mode), "chmod", path);

    public static void Link(string existing, string newPath) =>
        Check(Libc.Tree.link(existing, newPath), "link", newPath);

    public static void Symlink(string target, string linkPath) =>
        Check(Libc.Tree.symlink(target, linkPath), "symlink", linkPath);

    /// <summary>symlink(2) that returns the errno (0 on success).</summary>
    public static int TrySymlink(string target, string linkPath) =>
        Libc.Tree.symlink(target, linkPath) == 0 ? 0 : Marshal.GetLastPInvokeError();

    public static unsafe string ReadLink(string path)
    {
        var buffer = new byte[256];
        while (true)
        {
            nint n;
            fixed (byte* p = buffer)
                n = Libc.Tree.readlink(path, p, (nuint)buffer.Length);
            if (n == -1)
                throw new ErrnoException("readlink", path, Marshal.GetLastPInvokeError());
            if (n < buffer.Length)
                return Encoding.UTF8.GetString(buffer, 0, (int)n);
            buffer = new byte[buffer.Length * 4];
        }
    }

    /// <summary>renameat2(2); returns the errno (0 on success). RENAME_NOREPLACE fails with EEXIST if taken.</summary>
    public static int TryRename(string from, string to, uint flags) =>
        Libc.Tree.renameat2(Libc.Tree.AT_FDCWD, from, Libc.Tree.AT_FDCWD, to, flags) == 0
            ? 0 : Marshal.GetLastPInvokeError();

    /// <summary>Sets atime and mtime without following a final symlink.</summary>
    public static unsafe void SetTimesNoFollow(string path, long atimeSec, uint atimeNsec, long mtimeSec, uint mtimeNsec)
    {
        var times = stackalloc Libc.Tree.timespec_t[2];
        times[0] = new Libc.Tree.timespec_t { tv_sec = ClampTime(atimeSec), tv_nsec = (nint)atimeNsec };
        times[1] = new Libc.Tree.timespec_t { tv_sec = ClampTime(mtimeSec), tv_nsec = (nint)mtimeNsec };
        Check(Libc.Tree.utimensat(Libc.Tree.AT_FDCWD, path, times, Libc.Tree.AT_SYMLINK_NOFOLLOW), "utimensat", path);
    }

    // A 32-bit time_t ends in 2038; out-of-range times are clamped to the epoch as containerd does.
    private static nint ClampTime(long seconds) =>
        IntPtr.Size == 4 && (seconds > int.MaxValue || seconds < int.MinValue) ? 0 : (nint)seconds;

    /// <summary>Names of the extended attributes of <paramref name="path"/> (not following symlinks).</summary>
    public static unsafe IReadOnlyList<string> LListXattr(string path)
    {
        while (true)
        {
            nint size = Libc.Tree.llistxattr(path, null, 0);
            if (size == -1)
                throw new ErrnoException("llistxattr", path, Marshal.GetLastPInvokeError());
            if (size == 0)
                return [];
            var buffer = new byte[size];
            fixed (byte* p = buffer)
                size = Libc.Tree.llistxattr(path, p, (nuint)buffer.Length);
            if (size == -1)
            {
                int errno = Marshal.GetLastPInvokeError();
                if (errno == Errnos.ERANGE)
                    continue;
                throw new ErrnoException("llistxattr", path, errno);
            }
            var names = new List<string>();
            int start = 0;
            for (int i = 0; i < size; i++)
            {
                if (buffer[i] != 0)
                    continue;
                if (i > start)
                    names.Add(Encoding.UTF8.GetString(buffer, start, i - start));
                start = i + 1;
            }
            return names;
        }
    }

    /// <summary>The raw value of one extended attribute, or null when it is absent (ENODATA).</summary>
    public static unsafe byte[]? LGetXattr(string path, string name)
    {
        while (true)
        {
            nint size = Libc.Tree.lgetxattr(path, name, null, 0);
            if (size == -1)
            {
                int errno = Marshal.GetLastPInvokeError();
                if (errno == Errnos.ENODATA)
                    return null;
                throw new ErrnoException("lgetxattr", $"{path}` `{name}", errno);
            }
            var buffer = new byte[size];
            fixed (byte* p = buffer)
                size = Libc.Tree.lgetxattr(path, name, p, (nuint)buffer.Length);
            if (size == -1)
            {
                int errno = Marshal.GetLastPInvokeError();
                if (errno == Errnos.ERANGE)
                    continue;
                throw new ErrnoException("lgetxattr", $"{path}` `{name}", errno);
            }
            return size == buffer.Length ? buffer : buffer[..(int)size];
        }
    }

    public static unsafe void LSetXattr(string path, string name, ReadOnlySpan<byte> value)
    {
        fixed (byte* p = value)
            Check(Libc.Tree.lsetxattr(path, name, p, (nuint)value.Length, 0), "lsetxattr", $"{path}` `{name}");
    }

    /// <summary>FS_TOPDIR_FL (chattr +T), for <see cref="TryAddInodeFlags"/>.</summary>
    public const int FS_TOPDIR_FL = Libc.Tree.FS_TOPDIR_FL;

    /// <summary>FS_IOC_GETFLAGS of a directory; returns the errno (0 on success; ENOTTY or EOPNOTSUPP where unsupported).</summary>
    public static unsafe int TryGetInodeFlags(string directory, out int flags)
    {
        flags = 0;
        int fd = Libc.open(directory, Libc.O_RDONLY | Libc.O_DIRECTORY | Libc.O_NOFOLLOW | Libc.O_CLOEXEC, 0);
        if (fd < 0)
            return Marshal.GetLastPInvokeError();
        try
        {
            int value;
            if (Libc.Tree.ioctl_flags(fd, Libc.Tree.FS_IOC_GETFLAGS, &value) != 0)
                return Marshal.GetLastPInvokeError();
            flags = value;
            return 0;
        }
        finally
        {
            Libc.close(fd);
        }
    }

    /// <summary>
    /// Sets <paramref name="add"/> in a directory's inode flags (FS_IOC_GETFLAGS, then FS_IOC_SETFLAGS
    /// only when a bit is missing). Returns the errno (0 on success): file systems without the flag
    /// answer ENOTTY, EOPNOTSUPP or EINVAL.
    /// </summary>
    public static unsafe int TryAddInodeFlags(string directory, int add)
    {
        int fd = Libc.open(directory, Libc.O_RDONLY | Libc.O_DIRECTORY | Libc.O_NOFOLLOW | Libc.O_CLOEXEC, 0);
        if (fd < 0)
            return Marshal.GetLastPInvokeError();
        try
        {
            int flags;
            if (Libc.Tree.ioctl_flags(fd, Libc.Tree.FS_IOC_GETFLAGS, &flags) != 0)
                return Marshal.GetLastPInvokeError();
            if ((flags & add) == add)
                return 0;
            flags |= add;
            return Libc.Tree.ioctl_flags(fd, Libc.Tree.FS_IOC_SETFLAGS, &flags) == 0 ? 0 : Marshal.GetLastPInvokeError();
        }
        finally
        {
            Libc.close(fd);
        }
    }

    /// <summary>FICLONE: shares the extents of <paramref name="source"/> (btrfs, xfs); returns the errno (0 on success).</summary>
    public static int TryClone(SafeFileHandle destination, SafeFileHandle source)
    {
        bool addedDest = false, addedSrc = false;
        try
        {
            destination.DangerousAddRef(ref addedDest);
            source.DangerousAddRef(ref addedSrc);
            int rc = Libc.Tree.ioctl((int)destination.DangerousGetHandle(), Libc.Tree.FICLONE, (int)source.DangerousGetHandle());
            return rc == 0 ? 0 : Marshal.GetLastPInvokeError();
        }
        finally
        {
            if (addedDest)
                destination.DangerousRelease();
            if (addedSrc)
                source.DangerousRelease();
        }
    }

    /// <summary>
    /// copy_file_range(2) from the current offsets; returns the bytes copied (0 at end of input) or
    /// -errno, so callers can fall back to a stream copy on EXDEV, ENOSYS, EINVAL or EOPNOTSUPP.
    /// </summary>
    public static unsafe long TryCopyFileRange(SafeFileHandle source, SafeFileHandle destination, long length)
    {
        bool addedDest = false, addedSrc = false;
        try
        {
            destination.DangerousAddRef(ref addedDest);
            source.DangerousAddRef(ref addedSrc);
            nint n = Libc.Tree.copy_file_range(
                (int)source.DangerousGetHandle(), null, (int)destination.DangerousGetHandle(), null, (nuint)length, 0);
            return n >= 0 ? n : -Marshal.GetLastPInvokeError();
        }
        finally
        {
            if (addedDest)
                destination.DangerousRelease();
            if (addedSrc)
                source.DangerousRelease();
        }
    }
}
