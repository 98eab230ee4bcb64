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
}
