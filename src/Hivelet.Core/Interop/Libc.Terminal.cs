using System.Runtime.InteropServices;

namespace Hivelet.Interop;

internal static partial class Libc
{
    internal static partial class Terminal
    {
        // glibc's struct termios is 60 bytes on x86_64, arm64 and arm; it is only ever handled as an
        // opaque buffer (tcgetattr fills it, cfmakeraw edits it), so no layout is declared here.
        public const int TermiosBufferSize = 128;
        public const int TCSANOW = 0;
        public const nuint TIOCGWINSZ = 0x5413; // asm-generic value, shared by x86, arm and arm64

        [LibraryImport(Name, EntryPoint = "tcgetattr", SetLastError = true)]
        internal static unsafe partial int tcgetattr(int fd, byte* termios);

        [LibraryImport(Name, EntryPoint = "tcsetattr", SetLastError = true)]
        internal static unsafe partial int tcsetattr(int fd, int optionalActions, byte* termios);

        [LibraryImport(Name, EntryPoint = "cfmakeraw")]
        internal static unsafe partial void cfmakeraw(byte* termios);

        [LibraryImport(Name, EntryPoint = "isatty")]
        internal static partial int isatty(int fd);

        // struct winsize is four unsigned shorts everywhere: rows, cols, xpixel, ypixel.
        [LibraryImport(Name, EntryPoint = "ioctl", SetLastError = true)]
        internal static unsafe partial int ioctl(int fd, nuint request, ushort* winsize);
    }
}
