using System.Runtime.InteropServices;

namespace Hivelet.Interop;

/// <summary>An open directory file descriptor (O_DIRECTORY, possibly O_PATH), closed on dispose.</summary>
public sealed class SafeDirectoryHandle : SafeHandle
{
    public SafeDirectoryHandle() : base(-1, ownsHandle: true) { }

    internal SafeDirectoryHandle(int fd) : base(-1, ownsHandle: true) => SetHandle(fd);

    public override bool IsInvalid => (int)handle < 0;

    /// <summary>The raw descriptor, valid while this handle is not disposed.</summary>
    public int Fd => (int)handle;

    protected override bool ReleaseHandle() => Libc.close((int)handle) == 0;
}
