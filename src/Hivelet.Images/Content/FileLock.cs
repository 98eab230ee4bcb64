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
            while (!Sys.TryLockFile(handle, exclusive, path))
            {
                if (DateTime.UtcNow >= deadline)
                {
                    handle.Dispose();
                    return null;
                }
                Thread.Sleep(PollInterval);
            }
            return new FileLock(handle, path, exclusive);
        }
        catch
        {
            handle.Dispose();
            throw;
        }
    }

    /// <summary>True when some holder has the lock in a way that excludes an exclusive lock.</summary>
    public static bool IsHeld(string path)
    {
        using var probe = TryAcquire(path, exclusive: true, TimeSpan.Zero);
        return probe is null;
    }

    public void Dispose() => Handle.Dispose();
}
