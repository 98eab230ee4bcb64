using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace Hivelet.Interop;

public static partial class Sys
{
    /// <summary>
    /// Replaces this process with <paramref name="path"/> (argv as given). Returns only by throwing.
    /// The caller flushes its output first: buffers of the managed runtime are lost on exec.
    /// </summary>
    public static unsafe void Exec(string path, IReadOnlyList<string> argv)
    {
        ArgumentNullException.ThrowIfNull(argv);
        var native = ToNativeStrings(argv, out nint pathPtr, path);
        try
        {
            fixed (nint* args = native)
                Libc.Tools.execv((byte*)pathPtr, (byte**)args);
            throw new ErrnoException("execv", path, Marshal.GetLastPInvokeError());
        }
        finally
        {
            FreeNativeStrings(native, pathPtr);
        }
    }

    /// <summary>
    /// Starts <paramref name="path"/> in a new session with stdin, stdout and stderr on /dev/null and
    /// does not wait for it (`exec -d`). posix_spawn runs no managed code in the child.
    /// </summary>
    public static unsafe int SpawnDetached(string path, IReadOnlyList<string> argv)
    {
        ArgumentNullException.ThrowIfNull(argv);
        var native = ToNativeStrings(argv, out nint pathPtr, path);
        byte* actions = stackalloc byte[Libc.Tools.OpaqueSize];
        byte* attr = stackalloc byte[Libc.Tools.OpaqueSize];
        new Span<byte>(actions, Libc.Tools.OpaqueSize).Clear();
        new Span<byte>(attr, Libc.Tools.OpaqueSize).Clear();
        nint devNull = Marshal.StringToCoTaskMemUTF8("/dev/null");
        try
        {
            CheckSpawn(Libc.Tools.posix_spawn_file_actions_init(actions), "posix_spawn_file_actions_init", path);
            CheckSpawn(Libc.Tools.posix_spawnattr_init(attr), "posix_spawnattr_init", path);
            try
            {
                CheckSpawn(Libc.Tools.posix_spawn_file_actions_addopen(actions, 0, (byte*)devNull, Libc.O_RDONLY, 0), "posix_spawn_file_actions_addopen", "/dev/null");
                CheckSpawn(Libc.Tools.posix_spawn_file_actions_addopen(actions, 1, (byte*)devNull, Libc.O_WRONLY, 0), "posix_spawn_file_actions_addopen", "/dev/null");
                CheckSpawn(Libc.Tools.posix_spawn_file_actions_addopen(actions, 2, (byte*)devNull, Libc.O_WRONLY, 0), "posix_spawn_file_actions_addopen", "/dev/null");
                CheckSpawn(Libc.Tools.posix_spawnattr_setflags(attr, Libc.Tools.POSIX_SPAWN_SETSID), "posix_spawnattr_setflags", path);
                int pid;
                var env = ToNativeStrings(EnvironmentStrings(), out _, null);
                try
                {
                    fixed (nint* args = native)
                    fixed (nint* envp = env)
                        CheckSpawn(Libc.Tools.posix_spawn(&pid, (byte*)pathPtr, actions, attr, (byte**)args, (byte**)envp), "posix_spawn", path);
                }
                finally
                {
                    FreeNativeStrings(env, 0);
                }
                return pid;
            }
            finally
            {
                Libc.Tools.posix_spawn_file_actions_destroy(actions);
                Libc.Tools.posix_spawnattr_destroy(attr);
            }
        }
        finally
        {
            Marshal.FreeCoTaskMem(devNull);
            FreeNativeStrings(native, pathPtr);
        }
    }

    /// <summary>Points this process's stdin at /dev/null (before an exec whose command must not read the caller's input).</summary>
    public static void RedirectStdinToDevNull()
    {
        int fd = Check(Libc.open("/dev/null", Libc.O_RDONLY | Libc.O_CLOEXEC, 0), "open", "/dev/null");
        try
        {
            // dup2 clears FD_CLOEXEC on the new descriptor: fd 0 survives the exec.
            Check(Libc.Tools.dup2(fd, 0), "dup2", "/dev/null");
        }
        finally
        {
            Libc.close(fd);
        }
    }

    /// <summary>statx of an open descriptor (AT_EMPTY_PATH): what the fd refers to, even after a rename.</summary>
    public static unsafe int TryFStat(SafeHandle file, out FileStatus status) =>
        TryStatxAt((int)file.DangerousGetHandle(), "", Libc.Tools.AT_EMPTY_PATH, out status);

    /// <summary>lstat of <paramref name="name"/> in <paramref name="parent"/>: never follows a final symlink.</summary>
    public static int TryLStatAt(SafeDirectoryHandle parent, string name, out FileStatus status) =>
        TryStatxAt(parent.Fd, name, Libc.Tools.AT_SYMLINK_NOFOLLOW | (name.Length == 0 ? Libc.Tools.AT_EMPTY_PATH : 0), out status);

    /// <summary>A second descriptor for the directory <paramref name="dir"/> itself (openat ".").</summary>
    public static SafeDirectoryHandle OpenDirectoryAtSelf(SafeDirectoryHandle dir)
    {
        int fd = Check(Libc.Tools.openat(dir.Fd, ".", Libc.O_RDONLY | Libc.O_DIRECTORY | Libc.O_CLOEXEC, 0), "openat", ".");
        return new SafeDirectoryHandle(fd);
    }

    /// <summary>Opens the regular file <paramref name="name"/> of <paramref name="parent"/> for reading, refusing a symlink.</summary>
    public static SafeFileHandle OpenFileAtNoFollow(SafeDirectoryHandle parent, string name)
    {
        int fd = Check(Libc.Tools.openat(parent.Fd, name, Libc.O_RDONLY | Libc.O_NOFOLLOW | Libc.O_CLOEXEC, 0), "openat", name);
        return new SafeFileHandle(fd, ownsHandle: true);
    }

    private static unsafe int TryStatxAt(int dirfd, string name, int flags, out FileStatus status)
    {
        Libc.statx_buf b;
        if (Libc.statx(dirfd, name, flags, Libc.Tools.STATX_BASIC_STATS, &b) == -1)
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

    private static void CheckSpawn(int result, string call, string subject)
    {
        // posix_spawn* return the error number instead of setting errno.
        if (result != 0)
            throw new ErrnoException(call, subject, result);
    }

    private static List<string> EnvironmentStrings()
    {
        var list = new List<string>();
        foreach (System.Collections.DictionaryEntry e in Environment.GetEnvironmentVariables())
            list.Add($"{e.Key}={e.Value}");
        return list;
    }

    private static nint[] ToNativeStrings(IReadOnlyList<string> strings, out nint pathPtr, string? path)
    {
        foreach (var s in strings)
            if (s.Contains('\0', StringComparison.Ordinal))
                throw new ErrnoException("exec", s, Errnos.EINVAL);
        var native = new nint[strings.Count + 1];
        for (int i = 0; i < strings.Count; i++)
            native[i] = Marshal.StringToCoTaskMemUTF8(strings[i]);
        pathPtr = path is null ? 0 : Marshal.StringToCoTaskMemUTF8(path);
        return native;
    }

    private static void FreeNativeStrings(nint[] native, nint pathPtr)
    {
        foreach (var p in native)
            if (p != 0)
                Marshal.FreeCoTaskMem(p);
        if (pathPtr != 0)
            Marshal.FreeCoTaskMem(pathPtr);
    }
}
