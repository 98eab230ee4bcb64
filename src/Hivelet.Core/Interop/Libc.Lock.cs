using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace Hivelet.Interop;

internal static partial class Libc
{
    public const int LOCK_SH = 1;
    public const int LOCK_EX = 2;
    public const int LOCK_NB = 4;
    public const int LOCK_UN = 8;

    // flock(2) locks belong to the open file description, so two opens in one process exclude each
    // other just like two processes do, and the kernel drops the lock when its holder dies.
    [LibraryImport(Name, SetLastError = true)]
    internal static partial int flock(SafeFileHandle fd, int operation);

    // statx(2) has one struct layout on every architecture (unlike struct stat). Declared under
    // group-specific names so another group's own "statx" declaration cannot collide on merge.
    [LibraryImport(Name, EntryPoint = "statx", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    internal static unsafe partial int statx_lock_fd(SafeFileHandle dirfd, string path, int flags, uint mask, byte* buffer);

    [LibraryImport(Name, EntryPoint = "statx", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    internal static unsafe partial int statx_lock_path(int dirfd, string path, int flags, uint mask, byte* buffer);
}
