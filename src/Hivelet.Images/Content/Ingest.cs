using System.Globalization;
using Hivelet.Images.Oci;
using Hivelet.Interop;

namespace Hivelet.Images.Content;

/// <summary>
/// One ingest directory content/ingest/&lt;hex&gt;/ held under its exclusive lock.
/// <para>
/// The lock file lives inside the directory, and removing the directory unlinks it while another
/// locker may already have it open. So a locker, once it holds the lock, checks that the file at
/// the path is still the one it locked (device and inode); if not, it starts over. Only the lock
/// holder ever unlinks the lock file, so after that check the ingest is ours. A remover killed
/// half-way leaves an ordinary, perhaps partial, ingest for the next locker.
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
    private string LockPath => Path.Combine(Directory, LockFile);

    /// <summary>Locks the ingest directory, creating it; null when another writer holds it.</summary>
    public static Ingest? TryLock(string directory, TimeSpan wait)
    {
        var lockPath = Path.Combine(directory, LockFile);
        for (int attempt = 0; attempt < MaxAttempts; attempt++)
        {
            StoreRoot.CreatePrivate(directory);
            FileLock? held;
            try
            {
                held = FileLock.TryAcquire(lockPath, exclusive: true, wait);
            }
            catch (ErrnoException e) when (e.Errno == Errnos.ENOENT)
            {
                continue; // removed between mkdir and open
            }
            if (held is null)
                return null;
            if (Sys.IsSameFile(held.Handle, lockPath))
                return new Ingest(directory, held);
            held.Dispose(); // its remover unlinked it after we opened it
        }
        throw new StoreBusyException($"lock ingest {directory}: it keeps being removed under us");
    }

    /// <summary>
    /// Writes ref, total and startedat. They only inform (status listings); the data file and the
    /// digest are the truth, so they are written plainly, without the fsyncs a flash card pays for.
    /// </summary>
    public void WriteMetadata(Digest digest, long expectedSize)
    {
        var refPath = Path.Combine(Directory, RefFile);
        if (!File.Exists(refPath))
        {
            File.WriteAllText(Path.Combine(Directory, StartedAtFile), DateTimeOffset.UtcNow.ToString("O", CultureInfo.InvariantCulture));
            File.WriteAllText(refPath, digest.ToString());
        }
        var totalPath = Path.Combine(Directory, TotalFile);
        var total = expectedSize.ToString(CultureInfo.InvariantCulture);
        if (!File.Exists(totalPath) || File.ReadAllText(totalPath) != total)
            File.WriteAllText(totalPath, total);
    }

    /// <summary>Deletes the directory; the lock itself is released on dispose.</summary>
    public void Remove()
    {
        // Everything but the lock first: while our lock file is linked, nobody else can create
        // anything here. Then the lock file, then the directory unless a new locker got in.
        foreach (var entry in System.IO.Directory.EnumerateFileSystemEntries(Directory).ToList())
        {
            if (Path.GetFileName(entry) == LockFile)
                continue;
            if (System.IO.Directory.Exists(entry) && !File.GetAttributes(entry).HasFlag(FileAttributes.ReparsePoint))
                System.IO.Directory.Delete(entry, recursive: true);
            else
                File.Delete(entry);
        }
        File.Delete(LockPath);
        try
        {
            System.IO.Directory.Delete(Directory);
        }
        catch (IOException) when (System.IO.Directory.Exists(Directory))
        {
            // A new writer created its lock file here after ours was unlinked: the directory is its.
        }
    }

    public void Dispose() => _lock.Dispose();
}
