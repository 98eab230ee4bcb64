using System.Runtime.InteropServices;

namespace Hivelet.Interop;

/// <summary>
/// Raw libc entry points. Every system call hivelet makes is declared in this folder, one file per
/// call group (Libc.Files.cs, Libc.Mount.cs, ...), with C names for C things. Callers use the
/// throwing wrappers in <see cref="Sys"/>, never these directly.
/// </summary>
internal static partial class Libc
{
    internal const string Name = "libc";

    public const int O_RDONLY = 0x0;
    public const int O_CLOEXEC = 0x80000;
    // O_NOFOLLOW differs too: 0x20000 on x86 is O_LARGEFILE on arm/arm64, where O_NOFOLLOW is 0x8000.
    public static readonly int O_NOFOLLOW =
        RuntimeInformation.ProcessArchitecture is Architecture.Arm64 or Architecture.Arm or Architecture.Armv6
            ? 0x8000 : 0x20000;
    public const int O_PATH = 0x200000;
    // O_DIRECTORY differs between architectures: 0x10000 on x86, 0x4000 on arm/arm64.
    public static readonly int O_DIRECTORY =
        RuntimeInformation.ProcessArchitecture is Architecture.Arm64 or Architecture.Arm or Architecture.Armv6
            ? 0x4000 : 0x10000;

    [LibraryImport(Name, EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial int open(string path, int flags, uint mode);

    [LibraryImport(Name, SetLastError = true)]
    internal static partial int close(int fd);

    [LibraryImport(Name, SetLastError = true)]
    internal static partial int fsync(int fd);

    [LibraryImport(Name, EntryPoint = "syncfs", SetLastError = true)]
    internal static partial int syncfs(int fd);
}
