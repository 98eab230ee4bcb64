using System.Net.Sockets;
using System.Runtime.InteropServices;

namespace Hivelet.Interop;

public static partial class Sys
{
    public const int SIGHUP = 1;
    public const int SIGINT = 2;
    public const int SIGKILL = 9;
    public const int SIGTERM = 15;

    /// <summary>Sends <paramref name="signal"/>; false when the process is gone (ESRCH).</summary>
    public static bool Kill(int pid, int signal)
    {
        if (pid <= 0)
            throw new ArgumentOutOfRangeException(nameof(pid), "kill: refusing a process group or broadcast pid");
        if (Libc.Process.kill(pid, signal) == 0)
            return true;
        int errno = Marshal.GetLastPInvokeError();
        return errno == 3 /* ESRCH */ ? false : throw new ErrnoException("kill", $"pid {pid}", errno);
    }

    /// <summary>
    /// A connected AF_UNIX stream pair, both ends close-on-exec: one is kept as a <see cref="Socket"/>,
    /// the other's raw fd is handed to a child (dup2 onto the child's fd clears close-on-exec there).
    /// </summary>
    public static unsafe (Socket Local, SafeSocketHandle Remote) SocketPair()
    {
        int* sv = stackalloc int[2];
        Check(Libc.Process.socketpair(Libc.Process.AF_UNIX, Libc.Process.SOCK_STREAM | Libc.Process.SOCK_CLOEXEC, 0, sv), "socketpair", null);
        var remote = new SafeSocketHandle(sv[1], ownsHandle: true);
        try
        {
            return (new Socket(new SafeSocketHandle(sv[0], ownsHandle: true)), remote);
        }
        catch
        {
            remote.Dispose();
            throw;
        }
    }
}
