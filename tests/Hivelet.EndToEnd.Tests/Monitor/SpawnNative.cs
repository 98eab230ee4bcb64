using System.Runtime.InteropServices;

namespace Hivelet.EndToEnd.Tests.Monitor;

/// <summary>
/// libc calls the monitor tests need to start `hivelet __monitor BUNDLE` the way the CLI does: in
/// its own session with one end of a socketpair as fd 3 (System.Diagnostics.Process cannot pass
/// an extra fd). Test code only.
/// </summary>
internal static partial class SpawnNative
{
    internal const int AF_UNIX = 1;
    internal const int SOCK_STREAM = 1;
    internal const int SOCK_CLOEXEC = 0x80000;
    internal const int O_RDONLY = 0, O_WRONLY = 1, O_RDWR = 2, O_CREAT = 0x40, O_APPEND = 0x400;
    internal const short POSIX_SPAWN_SETSID = 0x80;
    internal const int WNOHANG = 1;
    internal const int SIGKILL = 9;

    // posix_spawn_file_actions_t is 76 or 80 bytes and posix_spawnattr_t 336 on glibc targets:
    // opaque buffers with room to spare, only ever handled by libc.
    internal const int OpaqueSize = 1024;

    [LibraryImport("libc", SetLastError = true)]
    internal static unsafe partial int socketpair(int domain, int type, int protocol, int* sv);

    [LibraryImport("libc", SetLastError = true)]
    internal static partial int close(int fd);

    [LibraryImport("libc")]
    internal static partial int posix_spawn_file_actions_init(nint actions);

    [LibraryImport("libc")]
    internal static partial int posix_spawn_file_actions_destroy(nint actions);

    [LibraryImport("libc")]
    internal static partial int posix_spawn_file_actions_adddup2(nint actions, int fd, int newfd);

    [LibraryImport("libc", StringMarshalling = StringMarshalling.Utf8)]
    internal static partial int posix_spawn_file_actions_addopen(nint actions, int fd, string path, int oflag,
        uint mode);

    [LibraryImport("libc")]
    internal static partial int posix_spawnattr_init(nint attr);

    [LibraryImport("libc")]
    internal static partial int posix_spawnattr_destroy(nint attr);

    [LibraryImport("libc")]
    internal static partial int posix_spawnattr_setflags(nint attr, short flags);

    [LibraryImport("libc")]
    internal static unsafe partial int posix_spawn(int* pid, nint path, nint actions, nint attr, nint* argv,
        nint* envp);

    [LibraryImport("libc", SetLastError = true)]
    internal static unsafe partial int waitpid(int pid, int* status, int options);

    [LibraryImport("libc", SetLastError = true)]
    internal static partial int kill(int pid, int sig);
}
