namespace Hivelet.Images.Content;

/// <summary>
/// Keeps the garbage collector away from content that is not yet referenced by an image record.
/// <para>
/// Design: one lock file, content/lock. Whoever adds content or references (a pull, a load, a tag)
/// holds a <em>lease</em>, a shared flock, from before its first blob write until its image record
/// is written. The GC takes the same lock exclusively for its whole run. So a GC never runs while a
/// blob is being ingested or sits committed but unrecorded, leases never block each other, and a
/// killed pull's lease vanishes with the process (the kernel drops flocks), leaving no lease files
/// to expire. The price: a GC waits (bounded) or fails while a pull is running.
/// </para>
/// </summary>
public sealed class StoreLock
{
    private readonly StoreRoot _root;

    public StoreLock(StoreRoot root)
    {
        _root = root;
    }

    /// <summary>Default bound for waiting on a GC to finish before starting to write content.</summary>
    public static readonly TimeSpan DefaultLeaseWait = TimeSpan.FromMinutes(2);

    /// <summary>Takes a lease (shared). Throws <see cref="StoreBusyException"/> when a GC runs past <paramref name="wait"/>.</summary>
    public IDisposable AcquireLease(TimeSpan wait) =>
        Acquire(exclusive: false, wait) ??
        throw new StoreBusyException($"take content lease on {_root.ContentLockFile}: a garbage collection is running");

    /// <summary>Takes the lock exclusively (GC); throws <see cref="StoreBusyException"/> while leases are held.</summary>
    public IDisposable AcquireExclusive(TimeSpan wait) =>
        Acquire(exclusive: true, wait) ??
        throw new StoreBusyException($"lock content store {_root.ContentLockFile}: in use by a pull or import (lease held)");

    private FileLock? Acquire(bool exclusive, TimeSpan wait)
    {
        StoreRoot.CreatePrivate(_root.ContentDir);
        return FileLock.TryAcquire(_root.ContentLockFile, exclusive, wait);
    }
}
