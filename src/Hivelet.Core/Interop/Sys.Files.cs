using System.Runtime.InteropServices;
using System.Text;
using Microsoft.Win32.SafeHandles;

namespace Hivelet.Interop;

/// <summary>A directory entry as getdents64 reports it; <see cref="Type"/> is a DT_* value (0 = unknown).</summary>
public readonly record struct DirectoryEntry(string Name, byte Type)
{
    public const byte DT_DIR = 4;
    public const byte DT_LNK = 10;
    public const byte DT_UNKNOWN = 0;
}

// Wrappers for the *at calls. The Try* forms return 0 or an errno because their callers branch on
// expected failures (ENOENT, EEXIST) on the hot path of a layer unpack, where exceptions would cost.
public static partial class Sys
{
    // File type bits of st_mode (same on every Linux architecture).
    public const uint S_IFMT = Libc.S_IFMT;
    public const uint S_IFIFO = Libc.S_IFIFO;
    public const uint S_IFCHR = Libc.S_IFCHR;
    public const uint S_IFDIR = Libc.S_IFDIR;
    public const uint S_IFBLK = Libc.S_IFBLK;
    public const uint S_IFREG = Libc.S_IFREG;
    public const uint S_IFLNK = Libc.S_IFLNK;

    /// <summary>Opens a directory by absolute path (following symlinks: the caller chose it).</summary>
    public static SafeDirectoryHandle OpenDirectory(string path)
    {
        int fd = Libc.open(path, Libc.O_RDONLY | Libc.O_DIRECTORY | Libc.O_CLOEXEC, 0);
        Check(fd, "open", path);
        return new SafeDirectoryHandle(fd);
    }

    /// <summary>
    /// openat2(<paramref name="path"/>, O_DIRECTORY, RESOLVE_IN_ROOT|RESOLVE_NO_MAGICLINKS) below
    /// <paramref name="root"/>: symlinks and ".." are resolved as if root were "/". ENOSYS on
    /// kernels before 5.6 and under some emulators.
    /// </summary>
    public static unsafe int TryOpenDirectoryInRoot(SafeDirectoryHandle root, string path, out SafeDirectoryHandle? dir)
    {
        var how = new Libc.open_how
        {
            flags = (ulong)(Libc.O_RDONLY | Libc.O_DIRECTORY | Libc.O_CLOEXEC),
            resolve = Libc.RESOLVE_IN_ROOT | Libc.RESOLVE_NO_MAGICLINKS,
        };
        dir = null;
        nint fd;
        do
        {
            fd = Libc.syscall_openat2(Libc.SYS_openat2, root.Fd, path, &how, (nuint)sizeof(Libc.open_how));
        } while (fd == -1 && Marshal.GetLastPInvokeError() == Errnos.EINTR);
        if (fd == -1)
            return Marshal.GetLastPInvokeError();
        dir = new SafeDirectoryHandle((int)fd);
        return 0;
    }

    /// <summary>Opens the directory <paramref name="name"/> in <paramref name="parent"/> without following a symlink.</summary>
    public static int TryOpenDirectoryAt(SafeDirectoryHandle parent, string name, out SafeDirectoryHandle? dir)
    {
        dir = null;
        int fd = Libc.openat(parent.Fd, name, Libc.O_RDONLY | Libc.O_DIRECTORY | Libc.O_NOFOLLOW | Libc.O_CLOEXEC, 0);
        if (fd == -1)
            return Marshal.GetLastPInvokeError();
        dir = new SafeDirectoryHandle(fd);
        return 0;
    }

    /// <summary>Creates a new regular file (never through an existing name or symlink), mode 0600 until chmod.</summary>
    public static SafeFileHandle CreateFileAt(SafeDirectoryHandle parent, string name)
    {
        int flags = Libc.O_WRONLY | Libc.O_CREAT | Libc.O_EXCL | Libc.O_NOFOLLOW | Libc.O_CLOEXEC;
        int fd = Check(Libc.openat(parent.Fd, name, flags, 0x180), "openat", name);
        return new SafeFileHandle((nint)fd, ownsHandle: true);
    }

    /// <summary>
    /// Creates a new regular file with <paramref name="mode"/> (filtered by the umask), never through an
    /// existing name or symlink; returns 0 or the errno (EEXIST when the name is taken).
    /// </summary>
    public static int TryCreateFileAt(SafeDirectoryHandle parent, string name, uint mode, out SafeFileHandle? file)
    {
        int flags = Libc.O_WRONLY | Libc.O_CREAT | Libc.O_EXCL | Libc.O_NOFOLLOW | Libc.O_CLOEXEC;
        int fd = Libc.openat(parent.Fd, name, flags, mode);
        if (fd == -1)
        {
            file = null;
            return Marshal.GetLastPInvokeError();
        }
        file = new SafeFileHandle((nint)fd, ownsHandle: true);
        return 0;
    }

    /// <summary>Writes all of <paramref name="data"/> at the current position.</summary>
    public static unsafe void WriteAll(SafeFileHandle file, ReadOnlySpan<byte> data, string subject)
    {
        int fd = (int)file.DangerousGetHandle();
        fixed (byte* p = data)
        {
            int done = 0;
            while (done < data.Length)
            {
                nint n = Libc.write(fd, p + done, (nuint)(data.Length - done));
                if (n == -1)
                {
                    int errno = Marshal.GetLastPInvokeError();
                    if (errno == Errnos.EINTR)
                        continue;
                    throw new ErrnoException("write", subject, errno);
                }
                done += (int)n;
            }
        }
    }

    public static int TryMkdirAt(SafeDirectoryHandle parent, string name, uint mode) =>
        Libc.mkdirat(parent.Fd, name, mode) == -1 ? Marshal.GetLastPInvokeError() : 0;

    public static void MknodAt(SafeDirectoryHandle parent, string name, uint mode, ulong dev) =>
        Check(Libc.mknodat(parent.Fd, name, mode, dev), "mknodat", name);

    public static int TryMknodAt(SafeDirectoryHandle parent, string name, uint mode, ulong dev) =>
        Libc.mknodat(parent.Fd, name, mode, dev) == -1 ? Marshal.GetLastPInvokeError() : 0;

    public static void SymlinkAt(string target, SafeDirectoryHandle parent, string name) =>
        Check(Libc.symlinkat(target, parent.Fd, name), "symlinkat", name);

    /// <summary>Hard link; flags 0 so a symlink target is linked itself, not followed.</summary>
    public static int TryLinkAt(SafeDirectoryHandle oldParent, string oldName, SafeDirectoryHandle newParent, string newName) =>
        Libc.linkat(oldParent.Fd, oldName, newParent.Fd, newName, 0) == -1 ? Marshal.GetLastPInvokeError() : 0;

    public static int TryUnlinkAt(SafeDirectoryHandle parent, string name, bool directory) =>
        Libc.unlinkat(parent.Fd, name, directory ? Libc.AT_REMOVEDIR : 0) == -1 ? Marshal.GetLastPInvokeError() : 0;

    public static void RenameAt(SafeDirectoryHandle oldParent, string oldName, SafeDirectoryHandle newParent, string newName) =>
        Check(Libc.renameat(oldParent.Fd, oldName, newParent.Fd, newName), "renameat", oldName);

    /// <summary>The target of the symlink <paramref name="name"/>.</summary>
    public static unsafe string ReadLinkAt(SafeDirectoryHandle parent, string name)
    {
        Span<byte> buf = stackalloc byte[4096];
        fixed (byte* p = buf)
        {
            nint n = Libc.readlinkat(parent.Fd, name, p, (nuint)buf.Length);
            if (n == -1)
                throw new ErrnoException("readlinkat", name, Marshal.GetLastPInvokeError());
            if (n >= buf.Length)
                throw new ErrnoException("readlinkat", name, Errnos.ENAMETOOLONG);
            return Encoding.UTF8.GetString(buf[..(int)n]);
        }
    }

    /// <summary>lstat-like: file type and permission bits of <paramref name="name"/>, or an errno.</summary>
    public static unsafe int TryStatAt(SafeDirectoryHandle parent, string name, out uint mode, out ulong inode)
    {
        Libc.statx_buf st;
        int flags = Libc.AT_SYMLINK_NOFOLLOW | (name.Length == 0 ? Libc.AT_EMPTY_PATH : 0);
        if (Libc.statx(parent.Fd, name, flags, Libc.STATX_TYPE | Libc.STATX_MODE | Libc.STATX_INO, &st) == -1)
        {
            mode = 0;
            inode = 0;
            return Marshal.GetLastPInvokeError();
        }
        mode = st.stx_mode;
        inode = st.stx_ino;
        return 0;
    }

    /// <summary>lstat by path through statx (fixed layout on every architecture).</summary>
    public static void FChown(SafeHandle file, uint uid, uint gid, string subject) =>
        Check(Libc.fchown((int)file.DangerousGetHandle(), uid, gid), "fchown", subject);

    public static void FChmod(SafeHandle file, uint mode, string subject) =>
        Check(Libc.fchmod((int)file.DangerousGetHandle(), mode), "fchmod", subject);

    /// <summary>lchown: never follows a symlink.</summary>
    public static void FChownAt(SafeDirectoryHandle parent, string name, uint uid, uint gid) =>
        Check(Libc.fchownat(parent.Fd, name, uid, gid, Libc.AT_SYMLINK_NOFOLLOW), "fchownat", name);

    /// <summary>chmod of a name the caller knows is not a symlink (Linux cannot chmod symlinks).</summary>
    public static void FChmodAt(SafeDirectoryHandle parent, string name, uint mode) =>
        Check(Libc.fchmodat(parent.Fd, name, mode, 0), "fchmodat", name);

    /// <summary>Sets atime and mtime of <paramref name="name"/> without following a symlink.</summary>
    public static unsafe void UtimensAt(SafeDirectoryHandle parent, string name, nint atimeSec, nint atimeNsec, nint mtimeSec, nint mtimeNsec)
    {
        var times = stackalloc Libc.timespec_t[2];
        times[0] = new Libc.timespec_t { tv_sec = atimeSec, tv_nsec = atimeNsec };
        times[1] = new Libc.timespec_t { tv_sec = mtimeSec, tv_nsec = mtimeNsec };
        Check(Libc.utimensat(parent.Fd, name, times, Libc.AT_SYMLINK_NOFOLLOW), "utimensat", name);
    }

    public static unsafe void FUtimens(SafeHandle file, nint atimeSec, nint atimeNsec, nint mtimeSec, nint mtimeNsec, string subject)
    {
        var times = stackalloc Libc.timespec_t[2];
        times[0] = new Libc.timespec_t { tv_sec = atimeSec, tv_nsec = atimeNsec };
        times[1] = new Libc.timespec_t { tv_sec = mtimeSec, tv_nsec = mtimeNsec };
        Check(Libc.futimens((int)file.DangerousGetHandle(), times), "futimens", subject);
    }

    public static unsafe int TryFSetXattr(SafeHandle file, string name, ReadOnlySpan<byte> value)
    {
        fixed (byte* p = value)
            return Libc.fsetxattr((int)file.DangerousGetHandle(), name, p, (nuint)value.Length, 0) == -1 ? Marshal.GetLastPInvokeError() : 0;
    }

    /// <summary>Sets an xattr on <paramref name="path"/> itself, not on a symlink's target.</summary>
    public static unsafe int TryLSetXattr(string path, string name, ReadOnlySpan<byte> value)
    {
        fixed (byte* p = value)
            return Libc.lsetxattr(path, name, p, (nuint)value.Length, 0) == -1 ? Marshal.GetLastPInvokeError() : 0;
    }

    /// <summary>The value of an xattr of <paramref name="path"/> (not following a symlink), or null when absent.</summary>
    /// <summary>Lists a directory (without "." and "..") through getdents64, whose record layout is arch-independent.</summary>
    public static unsafe List<DirectoryEntry> ReadDirectory(SafeDirectoryHandle dir, string subject)
    {
        var result = new List<DirectoryEntry>();
        var buf = new byte[32768];
        fixed (byte* p = buf)
        {
            while (true)
            {
                nint n = Libc.getdents64(dir.Fd, p, (nuint)buf.Length);
                if (n == -1)
                    throw new ErrnoException("getdents64", subject, Marshal.GetLastPInvokeError());
                if (n == 0)
                    return result;
                int off = 0;
                while (off < n)
                {
                    // linux_dirent64: u64 ino, s64 off, u16 reclen, u8 type, char name[].
                    ushort reclen = *(ushort*)(p + off + 16);
                    byte type = p[off + 18];
                    var nameSpan = new ReadOnlySpan<byte>(p + off + 19, reclen - 19);
                    int nul = nameSpan.IndexOf((byte)0);
                    if (nul >= 0)
                        nameSpan = nameSpan[..nul];
                    if (!(nameSpan.SequenceEqual("."u8) || nameSpan.SequenceEqual(".."u8)))
                        result.Add(new DirectoryEntry(Encoding.UTF8.GetString(nameSpan), type));
                    off += reclen;
                }
            }
        }
    }

    /// <summary>Flushes the whole file system holding <paramref name="dir"/> once (cheaper than fsync per file).</summary>
    public static void SyncFs(SafeDirectoryHandle dir, string subject) =>
        Check(Libc.syncfs(dir.Fd), "syncfs", subject);
}
