using System.Runtime.InteropServices;

namespace Hivelet.Interop;

// Calls of the container tools (logs, exec, cp, stats, top): exec of the native `__exec` helper,
// posix_spawn for `exec -d`, statx on descriptors, O_PATH opens below a container root.
internal static partial class Libc
{
    internal static partial class Tools
    {
        public const int AT_SYMLINK_NOFOLLOW = 0x100;
        public const int AT_EMPTY_PATH = 0x1000;
        public const uint STATX_BASIC_STATS = 0x7ff;
        public const int O_RDWR = 0x2;
        public const short POSIX_SPAWN_SETSID = 0x80;

        // posix_spawn_file_actions_t is 80 bytes on x86_64/arm64 and 76 on arm, posix_spawnattr_t 336
        // and 300: both are opaque and only touched by libc, so a larger zeroed buffer is passed instead
        // of a per-architecture struct.
        public const int OpaqueSize = 1024;

        [LibraryImport(Name, SetLastError = true)]
        internal static unsafe partial int execv(byte* path, byte** argv);

        [LibraryImport(Name)]
        internal static unsafe partial int posix_spawn(int* pid, byte* path, void* fileActions, void* attr, byte** argv, byte** envp);

        [LibraryImport(Name)]
        internal static unsafe partial int posix_spawn_file_actions_init(void* actions);

        [LibraryImport(Name)]
        internal static unsafe partial int posix_spawn_file_actions_destroy(void* actions);

        [LibraryImport(Name)]
        internal static unsafe partial int posix_spawn_file_actions_addopen(void* actions, int fd, byte* path, int oflag, uint mode);

        [LibraryImport(Name)]
        internal static unsafe partial int posix_spawnattr_init(void* attr);

        [LibraryImport(Name)]
        internal static unsafe partial int posix_spawnattr_destroy(void* attr);

        [LibraryImport(Name)]
        internal static unsafe partial int posix_spawnattr_setflags(void* attr, short flags);

        [LibraryImport(Name, SetLastError = true)]
        internal static partial int dup2(int oldfd, int newfd);

        [LibraryImport(Name, SetLastError = true)]
        internal static partial int openat(int dirfd, [MarshalAs(UnmanagedType.LPUTF8Str)] string path, int flags, uint mode);
    }
}
