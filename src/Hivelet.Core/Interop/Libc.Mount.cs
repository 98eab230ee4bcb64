using System.Runtime.InteropServices;

namespace Hivelet.Interop;

internal static partial class Libc
{
    /// <summary>
    /// mount(2), umount2(2) and the per-thread namespace calls the snapshotter needs. Nested so that
    /// the flat <see cref="Libc"/> class of other call groups can grow without name clashes.
    /// </summary>
    internal static partial class Mount
    {
        public const int CLONE_FS = 0x200;
        public const int CLONE_NEWNS = 0x20000;

        public const nuint MS_RDONLY = 0x1;
        public const nuint MS_BIND = 0x1000;
        public const nuint MS_REC = 0x4000;
        public const nuint MS_PRIVATE = 0x40000;
        public const nuint MS_SLAVE = 0x80000;

        public const int MNT_FORCE = 0x1;
        public const int MNT_DETACH = 0x2;
        public const int UMOUNT_NOFOLLOW = 0x8;

        [LibraryImport(Name, EntryPoint = "mount", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
        internal static partial int mount(string? source, string target, string? filesystemtype, nuint mountflags, string? data);

        [LibraryImport(Name, EntryPoint = "umount2", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
        internal static partial int umount2(string target, int flags);

        [LibraryImport(Name, EntryPoint = "unshare", SetLastError = true)]
        internal static partial int unshare(int flags);

        [LibraryImport(Name, EntryPoint = "chdir", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
        internal static partial int chdir(string path);

        [LibraryImport(Name, EntryPoint = "gettid")]
        internal static partial int gettid();
    }
}
