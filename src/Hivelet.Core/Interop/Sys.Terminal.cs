namespace Hivelet.Interop;

public static partial class Sys
{
    public static bool IsTerminal(int fd) => Libc.Terminal.isatty(fd) == 1;

    /// <summary>The terminal's size (rows, cols), or null when <paramref name="fd"/> is not a terminal.</summary>
    public static unsafe (ushort Rows, ushort Cols)? TerminalSize(int fd)
    {
        ushort* ws = stackalloc ushort[4];
        return Libc.Terminal.ioctl(fd, Libc.Terminal.TIOCGWINSZ, ws) == 0 ? (ws[0], ws[1]) : null;
    }

    /// <summary>Puts the terminal on <paramref name="fd"/> in raw mode; dispose the result to restore it.</summary>
    public static unsafe RawTerminal MakeRaw(int fd)
    {
        var saved = new byte[Libc.Terminal.TermiosBufferSize];
        var raw = new byte[Libc.Terminal.TermiosBufferSize];
        fixed (byte* s = saved)
            Check(Libc.Terminal.tcgetattr(fd, s), "tcgetattr", $"fd {fd}");
        saved.CopyTo(raw, 0);
        fixed (byte* r = raw)
        {
            Libc.Terminal.cfmakeraw(r);
            Check(Libc.Terminal.tcsetattr(fd, Libc.Terminal.TCSANOW, r), "tcsetattr", $"fd {fd}");
        }
        return new RawTerminal(fd, saved);
    }

    /// <summary>Restores saved terminal attributes once, also from a finalizer-free exit path (idempotent).</summary>
    public sealed class RawTerminal(int fd, byte[] saved) : IDisposable
    {
        private int _restored;

        public unsafe void Dispose()
        {
            if (Interlocked.Exchange(ref _restored, 1) != 0)
                return;
            fixed (byte* s = saved)
                Libc.Terminal.tcsetattr(fd, Libc.Terminal.TCSANOW, s);
        }
    }
}
