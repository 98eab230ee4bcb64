using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace Hivelet.Interop;

public static partial class Sys
{
    // O_RDWR | O_CREAT: identical values on x86_64, arm64 and arm. Kept local to this group so the
    // flag names stay free for the file-operations group.
    private const int LockFileOpenFlags = 0x2 | 0x40;


    /// <summary>
    /// Opens (creating with mode 0600 if needed) a file used only for flock. Opened with open(2), not
    /// FileStream, because .NET takes flock locks of its own on files it opens, which would
    /// interfere with the explicit ones.
    /// </summary>
    public static SafeFileHandle OpenLockFile(string path)
    {
        int fd;
        do
        {
            fd = Libc.open(path, LockFileOpenFlags | Libc.O_CLOEXEC | Libc.O_NOFOLLOW, 0x180);
        }
        while (fd == -1 && Marshal.GetLastPInvokeError() == Errnos.EINTR);
        Check(fd, "open", path);
        return new SafeFileHandle(fd, ownsHandle: true);
    }

    /// <summary>
    /// Tries to take a shared or exclusive flock without blocking; false when another open file
    /// description holds a conflicting lock.
    /// </summary>
    public static bool TryLockFile(SafeFileHandle fd, bool exclusive, string path)
    {
        int op = (exclusive ? Libc.LOCK_EX : Libc.LOCK_SH) | Libc.LOCK_NB;
        while (true)
        {
            if (Libc.flock(fd, op) == 0)
                return true;
            int errno = Marshal.GetLastPInvokeError();
            if (errno == Errnos.EINTR)
                continue;
            if (errno == Errnos.EAGAIN)
                return false;
            throw new ErrnoException("flock", path, errno);
        }
    }

    /// <summary>Releases a flock early; closing the handle releases it too.</summary>
    public static void UnlockFile(SafeFileHandle fd, string path) =>
        Check(Libc.flock(fd, Libc.LOCK_UN), "flock", path);

    /// <summary>
    /// True when <paramref name="path"/> (not followed if a symlink) is the very file open as
    /// <paramref name="fd"/>: same device and inode. False when the path is gone. A lock taken on
    /// a file that was unlinked meanwhile protects nothing; this is how a locker finds out.
    /// </summary>
    public static unsafe bool IsSameFile(SafeFileHandle fd, string path)
    {
        Libc.statx_buf open, named;
        bool added = false;
        try
        {
            fd.DangerousAddRef(ref added);
            Check(Libc.statx((int)fd.DangerousGetHandle(), "", Libc.AT_EMPTY_PATH, Libc.STATX_INO, &open), "statx", path);
        }
        finally
        {
            if (added)
                fd.DangerousRelease();
        }
        if (Libc.statx(Libc.AT_FDCWD, path, Libc.AT_SYMLINK_NOFOLLOW, Libc.STATX_INO, &named) == -1)
        {
            int errno = Marshal.GetLastPInvokeError();
            return errno is Errnos.ENOENT or Errnos.ENOTDIR ? false : throw new ErrnoException("statx", path, errno);
        }
        return open.stx_ino == named.stx_ino && open.stx_dev_major == named.stx_dev_major && open.stx_dev_minor == named.stx_dev_minor;
    }
}
