using System.Runtime.InteropServices;

namespace Hivelet.Interop;

/// <summary>
/// The C part linked into the published binary (native/, DirectPInvoke "libhivelet"). Only the
/// AOT-published binary has it: under `dotnet test` (JIT) a call fails with DllNotFoundException.
/// </summary>
internal static partial class Native
{
    internal const string Name = "libhivelet";

    [LibraryImport(Name, EntryPoint = "hl_spawn_monitor", StringMarshalling = StringMarshalling.Utf8)]
    internal static partial int hl_spawn_monitor(string exe, string bundle, int startFd, int stderrFd);
}

public static partial class Sys
{
    /// <summary>Starts `EXE __monitor BUNDLE` in its own session with fd 3 = <paramref name="startFd"/>; returns its pid.</summary>
    public static int SpawnMonitor(string exe, string bundle, SafeHandle startFd, SafeHandle stderrFd)
    {
        bool a = false, b = false;
        try
        {
            startFd.DangerousAddRef(ref a);
            stderrFd.DangerousAddRef(ref b);
            int pid = Native.hl_spawn_monitor(exe, bundle, (int)startFd.DangerousGetHandle(), (int)stderrFd.DangerousGetHandle());
            return pid > 0 ? pid : throw new ErrnoException("spawn monitor", bundle, -pid);
        }
        finally
        {
            if (a)
                startFd.DangerousRelease();
            if (b)
                stderrFd.DangerousRelease();
        }
    }
}
