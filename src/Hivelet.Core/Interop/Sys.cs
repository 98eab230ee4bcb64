using System.Runtime.InteropServices;

namespace Hivelet.Interop;

/// <summary>Throwing wrappers over <see cref="Libc"/>: errno becomes an <see cref="ErrnoException"/>.</summary>
public static partial class Sys
{
    /// <summary>Throws for a -1 result, retrying is the caller's business.</summary>
    internal static int Check(int result, string call, string? subject)
    {
        if (result == -1)
            throw new ErrnoException(call, subject, Marshal.GetLastPInvokeError());
        return result;
    }

    /// <summary>Makes a rename or create inside <paramref name="directory"/> durable.</summary>
    public static void FsyncDirectory(string directory)
    {
        int fd = Check(Libc.open(directory, Libc.O_RDONLY | Libc.O_DIRECTORY | Libc.O_CLOEXEC, 0), "open", directory);
        try
        {
            Check(Libc.fsync(fd), "fsync", directory);
        }
        finally
        {
            Libc.close(fd);
        }
    }
}
