using System.Globalization;
using Hivelet.Images.Oci;
using Hivelet.Interop;
using Hivelet.IO;

namespace Hivelet.Images.Content;

/// <summary>
/// One ingest directory content/ingest/&lt;hex&gt;/ held under its exclusive lock.
/// <para>
/// The lock file lives inside the directory, so removing the directory unlinks a file that another
/// process may already have opened and be about to lock. To make that safe, a remover first writes
/// one byte into the lock file ("dead"); a locker that finds a non-empty lock file knows it locked a
/// removed ingest and starts over. A live lock file is always empty.
/// </para>
/// </summary>
internal sealed class Ingest : IDisposable
{
    public const string DataFile = "data";
    public const string RefFile = "ref";
    public const string TotalFile = "total";
    public const string StartedAtFile = "startedat";
    public const string LockFile = "lock";

    private const int MaxAttempts = 16;

    private readonly FileLock _lock;

    private Ingest(string directory, FileLock fileLock)
    {
        Directory = directory;
        _lock = fileLock;
    }

    public string Directory { get; }
    public string DataPath => Path.Combine(Directory, DataFile);

    /// <summary>Locks the ingest directory, creating it; null when another writer holds it.</summary>
    public static Ingest? TryLock(string directory, TimeSpan wait)
    {
        for (int attempt = 0; attempt < MaxAttempts; attempt++)
        {
            StoreRoot.CreatePrivate(directory);
            FileLock? held;
            try
            {
                held = FileLock.TryAcquire(Path.Combine(directory, LockFile), exclusive: true, wait);
            }
            catch (ErrnoException e) when (e.Errno == Errnos.ENOENT)
            {
                continue; // removed between mkdir and open
            }
            if (held is null)
                return null;
            if (RandomAccess.GetLength(held.Handle) == 0)
                return new Ingest(directory, held);
            held.Dispose(); // a remover marked it dead after we opened it
        }
        throw new StoreBusyException($"lock ingest {directory}: it keeps being removed under us");
    }

    /// <summary>Writes ref, total and startedat; informative only, so losing them to a crash is harmless.</summary>
    public void WriteMetadata(Digest digest, long expectedSize)
    {
        var refPath = Path.Combine(Directory, RefFile);
        if (!File.Exists(refPath))
        {
            AtomicFile.WriteAllText(Path.Combine(Directory, StartedAtFile), DateTimeOffset.UtcNow.ToString("O", CultureInfo.InvariantCulture));
            AtomicFile.WriteAllText(refPath, digest.ToString());
        }
        var totalPath = Path.Combine(Directory, TotalFile);
        var total = expectedSize.ToString(CultureInfo.InvariantCulture);
        if (!File.Exists(totalPath) || File.ReadAllText(totalPath) != total)
            AtomicFile.WriteAllText(totalPath, total);
    }

    /// <summary>Marks the lock dead and deletes the directory; the lock is released on dispose.</summary>
    public void Remove()
    {
        RandomAccess.Write(_lock.Handle, "x"u8, 0);
        foreach (var entry in System.IO.Directory.EnumerateFileSystemEntries(Directory))
        {
            if (System.IO.Directory.Exists(entry) && !File.GetAttributes(entry).HasFlag(FileAttributes.ReparsePoint))
                System.IO.Directory.Delete(entry, recursive: true);
            else
                File.Delete(entry);
        }
        System.IO.Directory.Delete(Directory);
    }

    public void Dispose() => _lock.Dispose();
}
