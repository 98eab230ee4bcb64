using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace Hivelet.Interop;

// Reading files of a container's root file system from the host (its /etc/passwd, /etc/group)
// without ever leaving that root, whatever symlinks the image holds.
public static partial class Sys
{
    /// <summary>
    /// Opens the regular file <paramref name="path"/> for reading below <paramref name="root"/> with
    /// openat2(RESOLVE_IN_ROOT|RESOLVE_NO_MAGICLINKS): absolute symlinks and ".." stay inside root.
    /// O_NONBLOCK so a FIFO planted in an image cannot hang the caller; anything but a regular file
    /// is refused with EINVAL. Returns 0 or an errno (ENOSYS before Linux 5.6 and under some emulators).
    /// </summary>
    public static unsafe int TryOpenFileInRoot(SafeDirectoryHandle root, string path, out SafeFileHandle? file)
    {
        var how = new Libc.open_how
        {
            flags = (ulong)(Libc.O_RDONLY | Libc.O_CLOEXEC | Libc.Spec.O_NONBLOCK | Libc.Spec.O_NOCTTY),
            resolve = Libc.RESOLVE_IN_ROOT | Libc.RESOLVE_NO_MAGICLINKS,
        };
        file = null;
        nint fd;
        do
        {
            fd = Libc.syscall_openat2(Libc.SYS_openat2, root.Fd, path, &how, (nuint)sizeof(Libc.open_how));
        } while (fd == -1 && Marshal.GetLastPInvokeError() == Errnos.EINTR);
        if (fd == -1)
            return Marshal.GetLastPInvokeError();
        return KeepIfRegular((int)fd, out file);
    }

    /// <summary>Opens the regular file <paramref name="name"/> in <paramref name="parent"/> for reading,
    /// refusing a symlink (ELOOP); same rules as <see cref="TryOpenFileInRoot"/> otherwise.</summary>
    public static int TryOpenFileAtNoFollow(SafeDirectoryHandle parent, string name, out SafeFileHandle? file)
    {
        file = null;
        int fd = Libc.openat(parent.Fd, name,
            Libc.O_RDONLY | Libc.O_CLOEXEC | Libc.O_NOFOLLOW | Libc.Spec.O_NONBLOCK | Libc.Spec.O_NOCTTY, 0);
        if (fd == -1)
            return Marshal.GetLastPInvokeError();
        return KeepIfRegular(fd, out file);
    }

    private static unsafe int KeepIfRegular(int fd, out SafeFileHandle? file)
    {
        Libc.statx_buf st;
        if (Libc.statx(fd, "", Libc.AT_EMPTY_PATH, Libc.STATX_TYPE, &st) == -1)
        {
            int errno = Marshal.GetLastPInvokeError();
            Libc.close(fd);
            file = null;
            return errno;
        }
        if ((st.stx_mode & Libc.S_IFMT) != Libc.S_IFREG)
        {
            Libc.close(fd);
            file = null;
            return Errnos.EINVAL;
        }
        file = new SafeFileHandle(fd, ownsHandle: true);
        return 0;
    }
}
