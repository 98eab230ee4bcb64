using Hivelet.Interop;
using Microsoft.Win32.SafeHandles;

namespace Hivelet.Images.Content;

/// <summary>
/// An flock(2) on a lock file, held until disposed. The kernel releases it when the holder dies,
/// so a kill -9 never leaves a stale lock behind.
/// </summary>
public sealed class FileLock : IDisposable
{
    private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(20);

    private FileLock(SafeFileHandle handle, string path, bool exclusive)
    {
        Handle = handle;
        Path = path;
        Exclusive = exclusive;
    }

    public string Path { get; }
    public bool Exclusive { get; }

    internal SafeFileHandle Handle { get; }

    /// <summary>
    /// Takes the lock, polling until <paramref name="wait"/> has passed (zero: one try). flock has no
    /// timeout of its own, and a blocking call could hang forever behind a stuck process.
    /// Returns null when the lock is still held by someone else.
    /// </summary>
    public static FileLock? TryAcquire(string path, bool exclusive, TimeSpan wait)
    {
        var handle = Sys.OpenLockFile(path);
        try
        {
            var deadline = DateTime.UtcNow + wait;
            while (true)
            {
                if (Sys.TryLockFile(handle, exclusive, path))
                {
                    // The holder may have unlinked the file (a commit) between our open and our flock:
                    // then we locked an orphaned inode, and the next locker of the path would not see us.
                    if (IsStillAt(handle, path))
                        return new FileLock(handle, path, exclusive);
                    handle.Dispose();
                    handle = Sys.OpenLockFile(path);
                    continue;
                }
                if (DateTime.UtcNow >= deadline)
                {
                    handle.Dispose();
                    return null;
                }
                Thread.Sleep(PollInterval);
            }
        }
        catch
        {
            handle.Dispose();
            throw;
        }
    }

    private static bool IsStillAt(SafeFileHandle handle, string path) =>
        Sys.TryFStat(handle, out var held) == 0
        && Sys.TryLStat(path, out var named) == 0
        && held.Inode == named.Inode
        && held.DeviceMajor == named.DeviceMajor
        && held.DeviceMinor == named.DeviceMinor;

    /// <summary>
    /// True when someone holds the lock exclusively. Probes with a shared lock, which disturbs
    /// other shared holders not at all and an exclusive taker only for an instant.
    /// </summary>
    public static bool IsHeldExclusively(string path)
    {
        using var probe = TryAcquire(path, exclusive: false, TimeSpan.Zero);
        return probe is null;
    }

    public void Dispose() => Handle.Dispose();
}
