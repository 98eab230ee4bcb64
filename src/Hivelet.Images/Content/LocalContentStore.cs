using System.Globalization;
using Hivelet.Errors;
using Hivelet.Images.Oci;
using Hivelet.IO;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Hivelet.Images.Content;

/// <summary>
/// The content store on disk: committed blobs under content/blobs, partial ones under content/ingest.
/// <para>
/// Concurrency: each ingest has an exclusive flock. A second writer of the same digest (another
/// process or another writer in this one) waits up to <see cref="IngestLockWait"/> (default: not at
/// all) and then gets a <see cref="StoreBusyException"/> ("already being written"); it never shares
/// the partial file. Callers that pull in parallel should fetch each digest once, or retry after
/// checking <see cref="Exists"/>.
/// </para>
/// </summary>
public sealed class LocalContentStore : IContentStore
{
    private const int HashBuffer = 1 << 20;

    private readonly StoreRoot _root;
    private readonly ILogger _logger;

    public LocalContentStore(StoreRoot root, ILogger? logger = null)
    {
        _root = root;
        _logger = logger ?? NullLogger.Instance;
        _root.EnsureCreated();
    }

    public StoreRoot Root => _root;

    /// <summary>How long <see cref="OpenWriter"/> waits for a busy ingest before failing.</summary>
    public TimeSpan IngestLockWait { get; init; } = TimeSpan.Zero;

    public bool Exists(Digest digest) => File.Exists(_root.BlobPath(digest));

    public long GetSize(Digest digest)
    {
        var info = new FileInfo(_root.BlobPath(digest));
        return info.Exists ? info.Length : throw NotFound(digest);
    }

    /// <summary>Opens the blob without verifying it (see <see cref="Verify"/>).</summary>
    public Stream OpenRead(Digest digest)
    {
        try
        {
            return new FileStream(_root.BlobPath(digest), FileMode.Open, FileAccess.Read, FileShare.Read | FileShare.Delete,
                bufferSize: 81920, FileOptions.SequentialScan);
        }
        catch (FileNotFoundException)
        {
            throw NotFound(digest);
        }
        catch (DirectoryNotFoundException)
        {
            throw NotFound(digest);
        }
    }

    /// <summary>Starts or resumes an ingest; <paramref name="expectedSize"/> -1 means unknown.</summary>
    public IContentWriter OpenWriter(Digest expected, long expectedSize)
    {
        if (expectedSize < -1)
            throw new InvalidInputException($"write blob {expected}: invalid size {expectedSize}");
        _root.BlobPath(expected); // rejects an empty digest before anything touches the disk
        return IngestWriter.Open(_root, expected, expectedSize, IngestLockWait, _logger);
    }

    public void Put(Digest expected, ReadOnlySpan<byte> content)
    {
        if (!expected.Matches(content))
        {
            var actual = Digest.ComputeSha256(content);
            throw new DigestMismatchException($"store blob {expected}: digest mismatch: content hashes to {(expected.Algorithm == Digest.Sha256 ? actual : "something else")}");
        }
        if (Exists(expected))
            return;
        using var writer = OpenWriter(expected, content.Length);
        if (writer.Offset != 0)
            writer.Truncate();
        writer.Write(content);
        writer.Commit();
    }

    public bool Delete(Digest digest)
    {
        var path = _root.BlobPath(digest);
        if (!File.Exists(path))
            return false;
        File.Delete(path);
        _logger.BlobDeleted(digest.ToString());
        return true;
    }

    public IEnumerable<Digest> List()
    {
        if (!Directory.Exists(_root.BlobsDir))
            yield break;
        foreach (var algDir in Directory.EnumerateDirectories(_root.BlobsDir))
        {
            var alg = Path.GetFileName(algDir);
            foreach (var file in Directory.EnumerateFiles(algDir))
            {
                if (Digest.TryParse($"{alg}:{Path.GetFileName(file)}", out var d))
                    yield return d;
            }
        }
    }

    /// <summary>Re-hashes a committed blob; false when its content no longer matches its name.</summary>
    public bool Verify(Digest digest)
    {
        using var stream = OpenRead(digest);
        using var hasher = digest.CreateHasher();
        var buffer = new byte[HashBuffer];
        int n;
        while ((n = stream.Read(buffer)) > 0)
            hasher.AppendData(buffer, 0, n);
        return digest.FromHasher(hasher) == digest;
    }

    /// <summary>The partial downloads, with whether a writer currently holds each.</summary>
    public IReadOnlyList<IngestStatus> ListIngests()
    {
        var result = new List<IngestStatus>();
        if (!Directory.Exists(_root.IngestDir))
            return result;
        foreach (var dir in Directory.EnumerateDirectories(_root.IngestDir))
        {
            if (!TryReadIngestDigest(dir, out var digest))
                continue;
            var data = new FileInfo(Path.Combine(dir, Ingest.DataFile));
            var lockPath = Path.Combine(dir, Ingest.LockFile);
            result.Add(new IngestStatus(
                digest,
                data.Exists ? data.Length : 0,
                ReadLong(Path.Combine(dir, Ingest.TotalFile)) ?? -1,
                ReadTime(Path.Combine(dir, Ingest.StartedAtFile)),
                data.Exists ? data.LastWriteTimeUtc : Directory.GetLastWriteTimeUtc(dir),
                File.Exists(lockPath) && FileLock.IsHeld(lockPath)));
        }
        result.Sort((a, b) => string.CompareOrdinal(a.Digest.ToString(), b.Digest.ToString()));
        return result;
    }

    /// <summary>
    /// Run at start. Keeps partial ingests (they make resume possible) and ingests held by a live
    /// writer; removes temp files, files in blobs/ whose name is not a valid digest, and ingests
    /// that are dead: no data, a name that is no digest, or a blob that was already committed.
    /// </summary>
    public ContentRepairReport Repair()
    {
        int temps = 0, invalid = 0, dead = 0, kept = 0, active = 0;
        _root.EnsureCreated();

        foreach (var algDir in Directory.EnumerateFileSystemEntries(_root.BlobsDir))
        {
            var alg = Path.GetFileName(algDir);
            if (alg is not (Digest.Sha256 or Digest.Sha512) || !IsRealDirectory(algDir))
            {
                RemoveEntry(algDir, "not a digest algorithm directory");
                invalid++;
                continue;
            }
            foreach (var entry in Directory.EnumerateFileSystemEntries(algDir))
            {
                var name = Path.GetFileName(entry);
                if (Digest.TryParse($"{alg}:{name}", out _) && File.Exists(entry) && !IsSymlink(entry))
                    continue;
                bool isTemp = name.Contains(AtomicFile.TempMarker, StringComparison.Ordinal);
                RemoveEntry(entry, isTemp ? "temp file" : "not a valid blob");
                if (isTemp)
                    temps++;
                else
                    invalid++;
            }
        }

        foreach (var entry in Directory.EnumerateFileSystemEntries(_root.IngestDir))
        {
            if (!IsRealDirectory(entry))
            {
                RemoveEntry(entry, "stray file in ingest");
                temps++;
                continue;
            }
            using var ingest = Ingest.TryLock(entry, TimeSpan.Zero);
            if (ingest is null)
            {
                active++;
                continue;
            }
            var reason = DeadIngestReason(entry);
            if (reason is not null)
            {
                _logger.RepairRemoved(entry, reason);
                ingest.Remove();
                dead++;
                continue;
            }
            temps += AtomicFile.CleanTemps(entry);
            kept++;
        }

        var report = new ContentRepairReport(temps, invalid, dead, kept, active);
        _logger.RepairDone(temps, invalid, dead, kept);
        return report;
    }

    private string? DeadIngestReason(string dir)
    {
        if (!Digest.TryParse(IngestDigestText(dir), out var digest))
            return "name is not a digest";
        if (Exists(digest))
            return "blob already committed";
        var data = new FileInfo(Path.Combine(dir, Ingest.DataFile));
        if (!data.Exists || data.Length == 0)
            return "no partial data";
        return null;
    }

    private static bool TryReadIngestDigest(string dir, out Digest digest) =>
        Digest.TryParse(IngestDigestText(dir), out digest);

    /// <summary>The directory name is the hex; the algorithm follows from its length.</summary>
    private static string IngestDigestText(string dir)
    {
        var hex = Path.GetFileName(dir);
        return hex.Length == 128 ? $"{Digest.Sha512}:{hex}" : $"{Digest.Sha256}:{hex}";
    }

    private void RemoveEntry(string path, string reason)
    {
        _logger.RepairRemoved(path, reason);
        if (IsRealDirectory(path))
            Directory.Delete(path, recursive: true);
        else
            File.Delete(path);
    }

    private static bool IsSymlink(string path) => File.GetAttributes(path).HasFlag(FileAttributes.ReparsePoint);

    private static bool IsRealDirectory(string path) => Directory.Exists(path) && !IsSymlink(path);

    private static long? ReadLong(string path)
    {
        try
        {
            return long.TryParse(File.ReadAllText(path), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var v) ? v : null;
        }
        catch (IOException)
        {
            return null;
        }
    }

    private static DateTimeOffset? ReadTime(string path)
    {
        try
        {
            return DateTimeOffset.TryParse(File.ReadAllText(path), CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind, out var t) ? t : null;
        }
        catch (IOException)
        {
            return null;
        }
    }

    private static NotFoundException NotFound(Digest digest) => new($"blob {digest}: not found in the content store");
}
