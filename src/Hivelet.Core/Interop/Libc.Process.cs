using System.Runtime.InteropServices;

namespace Hivelet.Interop;

internal static partial class Libc
{
    internal static partial class Process
    {
        // Same values on x86_64, arm64 and arm.
        public const int AF_UNIX = 1;
        public const int SOCK_STREAM = 1;
        public const int SOCK_CLOEXEC = 0x80000;

        [LibraryImport(Name, EntryPoint = "kill", SetLastError = true)]
        internal static partial int kill(int pid, int sig);

        [LibraryImport(Name, EntryPoint = "socketpair", SetLastError = true)]
        internal static unsafe partial int socketpair(int domain, int type, int protocol, int* sv);
    }
}
