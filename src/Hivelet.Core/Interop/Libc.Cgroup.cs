using System.Runtime.InteropServices;

namespace Hivelet.Interop;

internal static partial class Libc
{
    /// <summary>
    /// Calls the cgroup manager makes: single-write control files, group directories, signals to the
    /// processes of a group and bpf(2) for the cgroup v2 device controller. Nested so the names stay
    /// free for the other call groups.
    /// </summary>
    internal static partial class Cgroup
    {
        public const int O_WRONLY = 0x1;
        public const int O_TRUNC = 0x200;
        public const int ESRCH = 3;
        public const int SIGKILL = 9;

        // bpf(2) has no libc wrapper; its number differs per architecture (x86 and arm predate the
        // asm-generic table that arm64 uses).
        public static readonly nint SYS_bpf = RuntimeInformation.ProcessArchitecture switch
        {
            Architecture.X64 => 321,
            Architecture.X86 => 357,
            Architecture.Arm64 => 280,
            Architecture.Arm or Architecture.Armv6 => 386,
            _ => -1,
        };

        public const int BPF_PROG_LOAD = 5;
        public const int BPF_PROG_ATTACH = 8;
        public const int BPF_PROG_QUERY = 16;
        public const uint BPF_PROG_TYPE_CGROUP_DEVICE = 15;
        public const uint BPF_CGROUP_DEVICE = 6;
        public const uint BPF_F_ALLOW_MULTI = 2;

        [LibraryImport(Name, EntryPoint = "write", SetLastError = true)]
        internal static unsafe partial nint write(int fd, byte* buf, nuint count);

        [LibraryImport(Name, EntryPoint = "mkdir", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
        internal static partial int mkdir(string pathname, uint mode);

        [LibraryImport(Name, EntryPoint = "rmdir", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
        internal static partial int rmdir(string pathname);

        [LibraryImport(Name, EntryPoint = "kill", SetLastError = true)]
        internal static partial int kill(int pid, int sig);

        // long syscall(long number, ...): the variadic arguments are plain integer registers on every
        // target hivelet builds for, so a fixed three-argument prototype is safe for bpf(cmd, attr, size).
        [LibraryImport(Name, EntryPoint = "syscall", SetLastError = true)]
        internal static unsafe partial nint syscall_bpf(nint number, nint cmd, byte* attr, nuint size);
    }
}
