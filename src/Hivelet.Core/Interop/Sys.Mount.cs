namespace Hivelet.Interop;

public static partial class Sys
{
    public const int CLONE_FS = Libc.Mount.CLONE_FS;
    public const int CLONE_NEWNS = Libc.Mount.CLONE_NEWNS;
    public const nuint MS_RDONLY = Libc.Mount.MS_RDONLY;
    public const nuint MS_BIND = Libc.Mount.MS_BIND;
    public const nuint MS_REC = Libc.Mount.MS_REC;
    public const nuint MS_PRIVATE = Libc.Mount.MS_PRIVATE;
    public const nuint MS_SLAVE = Libc.Mount.MS_SLAVE;
    public const int MNT_DETACH = Libc.Mount.MNT_DETACH;
    public const int UMOUNT_NOFOLLOW = Libc.Mount.UMOUNT_NOFOLLOW;

    /// <summary>mount(2); the error names the source, target and file system type, never the data (it may hold secrets).</summary>
    public static void Mount(string? source, string target, string? fsType, nuint flags, string? data)
    {
        if (Libc.Mount.mount(source, target, fsType, flags, data) == -1)
        {
            var subject = $"{source ?? fsType ?? "none"}` on `{target}";
            throw new ErrnoException("mount", subject, System.Runtime.InteropServices.Marshal.GetLastPInvokeError());
        }
    }

    /// <summary>umount2(2); returns the errno instead of throwing (0 on success).</summary>
    public static int TryUnmount(string target, int flags)
    {
        if (Libc.Mount.umount2(target, flags) == 0)
            return 0;
        return System.Runtime.InteropServices.Marshal.GetLastPInvokeError();
    }

    public static void Unmount(string target, int flags)
    {
        int errno = TryUnmount(target, flags);
        if (errno != 0)
            throw new ErrnoException("umount", target, errno);
    }

    /// <summary>unshare(2) for the calling thread (CLONE_FS and CLONE_NEWNS work in a multithreaded process).</summary>
    public static void Unshare(int flags) => Check(Libc.Mount.unshare(flags), "unshare", null);

    /// <summary>chdir(2): changes the working directory of every thread sharing this thread's fs_struct.</summary>
    public static void ChangeDirectory(string path) => Check(Libc.Mount.chdir(path), "chdir", path);

    public static int GetThreadId() => Libc.Mount.gettid();
}
