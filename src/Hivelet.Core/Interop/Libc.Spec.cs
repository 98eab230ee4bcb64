namespace Hivelet.Interop;

internal static partial class Libc
{
    /// <summary>Flags for reading files inside a container's root (the spec builder).</summary>
    internal static class Spec
    {
        // The same value on x86_64, arm64 and arm (unlike O_DIRECTORY and O_NOFOLLOW).
        public const int O_NONBLOCK = 0x800;
        public const int O_NOCTTY = 0x100;
    }
}
