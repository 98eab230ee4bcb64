using System.Runtime.InteropServices;

namespace Hivelet.Interop;

// File-system calls relative to directory fds (the *at family), used to unpack layers without ever
// following a symlink out of the target root. Only fixed-layout structs cross this boundary:
// open_how, statx and linux_dirent64 are identical on x86_64, arm64 and arm; timespec is declared
// with nint fields so it matches the 32-bit time_t of arm glibc as well.
internal static partial class Libc
{
    public const int AT_FDCWD = -100;
    public const int AT_SYMLINK_NOFOLLOW = 0x100;
    public const int AT_REMOVEDIR = 0x200;
    public const int AT_EMPTY_PATH = 0x1000;

    public const int O_WRONLY = 0x1;
    public const int O_CREAT = 0x40;
    public const int O_EXCL = 0x80;

    public const ulong RESOLVE_NO_MAGICLINKS = 0x02;
    public const ulong RESOLVE_IN_ROOT = 0x10;

    // Syscall numbers from 424 on are shared by every architecture (asm-generic unification).
    public const int SYS_openat2 = 437;

    public const uint S_IFMT = 0xF000;
    public const uint S_IFIFO = 0x1000;
    public const uint S_IFCHR = 0x2000;
    public const uint S_IFDIR = 0x4000;
    public const uint S_IFBLK = 0x6000;
    public const uint S_IFREG = 0x8000;
    public const uint S_IFLNK = 0xA000;

    public const uint STATX_TYPE = 0x1;
    public const uint STATX_MODE = 0x2;
    public const uint STATX_INO = 0x100;
    public const uint STATX_BASIC_STATS = 0x7FF;

    [StructLayout(LayoutKind.Sequential)]
    public struct open_how
    {
        public ulong flags;
        public ulong mode;
        public ulong resolve;
    }

    [StructLayout(LayoutKind.Sequential)]
    public struct timespec_t
    {
        public nint tv_sec;
        public nint tv_nsec;
    }

    [LibraryImport(Name, EntryPoint = "syscall", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    internal static unsafe partial nint syscall_openat2(nint number, int dirfd, string path, open_how* how, nuint size);

    [LibraryImport(Name, SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial int openat(int dirfd, string path, int flags, uint mode);

    [LibraryImport(Name, SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial int mkdirat(int dirfd, string path, uint mode);

    [LibraryImport(Name, SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial int mknodat(int dirfd, string path, uint mode, ulong dev);

    [LibraryImport(Name, SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial int symlinkat(string target, int newdirfd, string linkpath);

    [LibraryImport(Name, SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial int linkat(int olddirfd, string oldpath, int newdirfd, string newpath, int flags);

    [LibraryImport(Name, SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial int unlinkat(int dirfd, string path, int flags);

    [LibraryImport(Name, SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial int renameat(int olddirfd, string oldpath, int newdirfd, string newpath);

    [LibraryImport(Name, SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    internal static unsafe partial nint readlinkat(int dirfd, string path, byte* buf, nuint size);

    [LibraryImport(Name, SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial int fchownat(int dirfd, string path, uint owner, uint group, int flags);

    [LibraryImport(Name, SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial int fchmodat(int dirfd, string path, uint mode, int flags);

    [LibraryImport(Name, SetLastError = true)]
    internal static partial int fchown(int fd, uint owner, uint group);

    [LibraryImport(Name, SetLastError = true)]
    internal static partial int fchmod(int fd, uint mode);

    [LibraryImport(Name, SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    internal static unsafe partial int utimensat(int dirfd, string path, timespec_t* times, int flags);

    [LibraryImport(Name, SetLastError = true)]
    internal static unsafe partial int futimens(int fd, timespec_t* times);

    [LibraryImport(Name, SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    internal static unsafe partial int lsetxattr(string path, string name, byte* value, nuint size, int flags);

    [LibraryImport(Name, SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    internal static unsafe partial int fsetxattr(int fd, string name, byte* value, nuint size, int flags);

    [LibraryImport(Name, SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    internal static unsafe partial nint lgetxattr(string path, string name, byte* value, nuint size);

    [LibraryImport(Name, SetLastError = true)]
    internal static unsafe partial nint getdents64(int fd, byte* buf, nuint count);

    [LibraryImport(Name, SetLastError = true)]
    internal static unsafe partial nint write(int fd, byte* buf, nuint count);
}
