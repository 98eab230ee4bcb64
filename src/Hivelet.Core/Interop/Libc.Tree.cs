using System.Runtime.InteropServices;

namespace Hivelet.Interop;

internal static partial class Libc
{
    /// <summary>
    /// Path-based metadata calls for copying and inspecting whole trees (the copy snapshotter).
    /// Only fixed-layout structs: statx instead of struct stat, whose layout differs per architecture.
    /// Needs glibc 2.33+ (mknodat as a real symbol).
    /// </summary>
    internal static partial class Tree
    {
        public const int AT_FDCWD = -100;
        public const int AT_SYMLINK_NOFOLLOW = 0x100;
        public const uint STATX_BASIC_STATS = 0x7ff;
        public const uint RENAME_NOREPLACE = 0x1;
        // _IOW(0x94, 9, int): the same encoding on x86, arm and arm64.
        public const nuint FICLONE = 0x40049409;
        // _IOR('f', 1, long) and _IOW('f', 2, long): the size of long is part of the request number
        // (8 on x86_64 and arm64, 4 on arm), although the kernel reads and writes an int.
        public static readonly nuint FS_IOC_GETFLAGS = (nuint)(0x80006601u | ((uint)nint.Size << 16));
        public static readonly nuint FS_IOC_SETFLAGS = (nuint)(0x40006602u | ((uint)nint.Size << 16));
        // include/uapi/linux/fs.h: "Top of directory hierarchies" (chattr +T).
        public const int FS_TOPDIR_FL = 0x00020000;

        /// <summary>struct timespec_t: time_t and long are both the native word (32-bit on arm).</summary>
        [StructLayout(LayoutKind.Sequential)]
        public struct timespec_t
        {
            public nint tv_sec;
            public nint tv_nsec;
        }

        [LibraryImport(Name, EntryPoint = "mkdir", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
        internal static partial int mkdir(string pathname, uint mode);

        [LibraryImport(Name, EntryPoint = "mknodat", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
        internal static partial int mknodat(int dirfd, string pathname, uint mode, ulong dev);

        [LibraryImport(Name, EntryPoint = "lchown", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
        internal static partial int lchown(string pathname, uint owner, uint group);

        [LibraryImport(Name, EntryPoint = "chmod", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
        internal static partial int chmod(string pathname, uint mode);

        [LibraryImport(Name, EntryPoint = "link", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
        internal static partial int link(string oldpath, string newpath);

        [LibraryImport(Name, EntryPoint = "symlink", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
        internal static partial int symlink(string target, string linkpath);

        [LibraryImport(Name, EntryPoint = "readlink", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
        internal static unsafe partial nint readlink(string pathname, byte* buf, nuint bufsiz);

        [LibraryImport(Name, EntryPoint = "renameat2", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
        internal static partial int renameat2(int olddirfd, string oldpath, int newdirfd, string newpath, uint flags);

        [LibraryImport(Name, EntryPoint = "utimensat", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
        internal static unsafe partial int utimensat(int dirfd, string pathname, timespec_t* times, int flags);

        [LibraryImport(Name, EntryPoint = "lsetxattr", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
        internal static unsafe partial int lsetxattr(string path, string name, byte* value, nuint size, int flags);

        [LibraryImport(Name, EntryPoint = "lgetxattr", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
        internal static unsafe partial nint lgetxattr(string path, string name, byte* value, nuint size);

        [LibraryImport(Name, EntryPoint = "llistxattr", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
        internal static unsafe partial nint llistxattr(string path, byte* list, nuint size);

        [LibraryImport(Name, EntryPoint = "ioctl", SetLastError = true)]
        internal static partial int ioctl(int fd, nuint request, int arg);

        [LibraryImport(Name, EntryPoint = "ioctl", SetLastError = true)]
        internal static unsafe partial int ioctl_flags(int fd, nuint request, int* flags);

        [LibraryImport(Name, EntryPoint = "copy_file_range", SetLastError = true)]
        internal static unsafe partial nint copy_file_range(int fdIn, long* offIn, int fdOut, long* offOut, nuint len, uint flags);
    }
}
