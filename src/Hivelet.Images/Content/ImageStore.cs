using System.Text.Json;
using Hivelet.Errors;
using Hivelet.Images.Oci;
using Hivelet.Interop;
using Hivelet.IO;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Hivelet.Images.Content;

/// <summary>
/// Image records, one small JSON file per name written with <see cref="AtomicFile"/>. One file per
/// name (rather than one index file) means a write never rewrites other names, two processes
/// recording different images never race on a shared read-modify-write, and a kill -9 leaves each
/// name either old or new. The file name is the sha256 of the name, so no name can become a path.
/// <para>
/// Whoever creates a record that points at content must hold a <see cref="StoreLock"/> lease from
/// before checking that content until after <see cref="Put"/>, or a GC could run in between.
/// </para>
/// </summary>
public sealed class ImageStore
{
    private const int MaxNameLength = 4096;

    private readonly StoreRoot _root;
    private readonly ILogger _logger;

    public ImageStore(StoreRoot root, ILogger? logger = null)
    {
        _root = root;
        _logger = logger ?? NullLogger.Instance;
        StoreRoot.CreatePrivate(_root.ImagesDir);
    }

    /// <summary>The record for <paramref name="name"/>, or null. Throws for a corrupt record file.</summary>
    public ImageRecord? Get(string name)
    {
        CheckName(name);
        var path = _root.ImageRecordPath(name);
        if (!File.Exists(path))
            return null;
        var record = Read(path, out var error) ?? throw new HiveletException($"read image record {name}: {path}: {error}");
        return record.Name == name ? record : throw new HiveletException($"read image record {name}: {path} holds \"{record.Name}\"");
    }

    /// <summary>Creates or atomically replaces the record of <see cref="ImageRecord.Name"/>.</summary>
    public void Put(ImageRecord record)
    {
        ArgumentNullException.ThrowIfNull(record);
        CheckName(record.Name);
        if (!Digest.TryParse(record.Target?.Digest, out _, out var error))
            throw new InvalidInputException($"record image {record.Name}: target: {error}");
        if (string.IsNullOrEmpty(record.Target!.MediaType))
            throw new InvalidInputException($"record image {record.Name}: target has no media type");
        if (record.ManifestDigest.IsEmpty || record.ConfigDigest.IsEmpty)
            throw new InvalidInputException($"record image {record.Name}: manifest and config digests are required");
        var stored = record.Created == default ? record with { Created = DateTimeOffset.UtcNow } : record;
        var path = _root.ImageRecordPath(record.Name);
        // The old image is kept under another record before its name moves, so a crash in between
        // leaves an extra record (removed by Repair), never a lost image.
        if (!record.IsDangling && File.Exists(path) && Read(path, out _) is { } previous && previous.Id != record.Id)
            KeepUnnamed(previous);
        AtomicFile.WriteAllBytes(path, JsonSerializer.SerializeToUtf8Bytes(stored, ContentJsonContext.Default.ImageRecord));
        _logger.ImageRecorded(record.Name, record.Target.Digest);
        // An image that gets a name is no longer dangling.
        if (!record.IsDangling)
            DeleteQuietly(ImageRecord.DanglingName(record.Id));
    }

    /// <summary>
    /// Like Docker when a tag moves (pull, tag, load): the image it pointed at stays, as
    /// "repo@digest" (listed "repo &lt;none&gt;") when the registry digest is known, else as a dangling
    /// "&lt;none&gt;:&lt;none&gt;" image, until `rmi ID` or `image prune` removes it. Nothing is kept when
    /// another record still names the image.
    /// </summary>
    private void KeepUnnamed(ImageRecord previous)
    {
        if (List().Any(r => r.Id == previous.Id && r.Name != previous.Name))
            return;
        string name = ImageRecord.DanglingName(previous.Id);
        foreach (var repoDigest in previous.RepoDigests)
        {
            // The repository digest names the target the record came from; a name@digest record
            // of another platform of the same index must not be overwritten.
            if (repoDigest.EndsWith("@" + previous.Target.Digest, StringComparison.Ordinal) && Get(repoDigest) is null)
            {
                name = repoDigest;
                break;
            }
        }
        var kept = previous with { Name = name };
        AtomicFile.WriteAllBytes(_root.ImageRecordPath(name), JsonSerializer.SerializeToUtf8Bytes(kept, ContentJsonContext.Default.ImageRecord));
        _logger.ImageKeptUnnamed(previous.Name, name);
    }

    private void DeleteQuietly(string name)
    {
        var path = _root.ImageRecordPath(name);
        if (!File.Exists(path))
            return;
        File.Delete(path);
        Sys.FsyncDirectory(_root.ImagesDir);
        _logger.ImageRecordDeleted(name);
    }

    public bool Delete(string name)
    {
        CheckName(name);
        var path = _root.ImageRecordPath(name);
        if (!File.Exists(path))
            return false;
        File.Delete(path);
        Sys.FsyncDirectory(_root.ImagesDir);
        _logger.ImageRecordDeleted(name);
        return true;
    }

    /// <summary>All readable records, by name; unreadable files are logged and skipped.</summary>
    public IReadOnlyList<ImageRecord> List()
    {
        var result = new List<ImageRecord>();
        foreach (var path in Directory.EnumerateFiles(_root.ImagesDir, "*.json"))
        {
            var record = Read(path, out var error);
            if (record is null)
                _logger.ImageRecordUnreadable(path, error!);
            else if (_root.ImageRecordPath(record.Name) != path)
                _logger.ImageRecordUnreadable(path, $"holds \"{record.Name}\", which belongs in another file");
            else
                result.Add(record);
        }
        result.Sort((a, b) => string.CompareOrdinal(a.Name, b.Name));
        return result;
    }

    /// <summary>
    /// The records whose image ID (config digest) starts with <paramref name="prefix"/> ("3f57d9",
    /// "sha256:3f57d9…"), like Docker's short IDs. Several names may share one ID. Throws
    /// <see cref="NotFoundException"/> for no match and <see cref="InvalidInputException"/> when the
    /// prefix matches more than one ID.
    /// </summary>
    public IReadOnlyList<ImageRecord> FindByIdPrefix(string prefix)
    {
        ArgumentNullException.ThrowIfNull(prefix);
        var hex = prefix.StartsWith(Digest.Sha256 + ":", StringComparison.Ordinal) ? prefix[(Digest.Sha256.Length + 1)..] : prefix;
        if (hex.Length is 0 or > 64 || !hex.All(char.IsAsciiHexDigitLower))
            throw new InvalidInputException($"find image ID \"{prefix}\": not an ID prefix (lowercase hex)");
        var matches = List()
            .Where(r => r.ConfigDigest.Algorithm == Digest.Sha256 && r.ConfigDigest.Encoded.StartsWith(hex, StringComparison.Ordinal))
            .ToList();
        var ids = matches.Select(r => r.ConfigDigest).Distinct().ToList();
        if (ids.Count == 0)
            throw new NotFoundException($"find image ID \"{prefix}\": no such image");
        if (ids.Count > 1)
            throw new InvalidInputException($"find image ID \"{prefix}\": ambiguous, matches {ids.Count} images ({string.Join(", ", ids.Select(d => d.Short))})");
        return matches;
    }

    /// <summary>
    /// Removes temp files of record writes killed half-way, and dangling records of images that
    /// have a name (a <see cref="Put"/> killed between keeping the old image and moving the name);
    /// returns how many files went.
    /// </summary>
    public int Repair()
    {
        int removed = AtomicFile.CleanTemps(_root.ImagesDir);
        var records = List();
        var named = records.Where(r => !r.IsDangling).Select(r => r.Id).ToHashSet();
        foreach (var record in records.Where(r => r.IsDangling && named.Contains(r.Id)))
        {
            DeleteQuietly(record.Name);
            removed++;
        }
        return removed;
    }

    private static ImageRecord? Read(string path, out string? error)
    {
        try
        {
            var record = JsonSerializer.Deserialize(File.ReadAllBytes(path), ContentJsonContext.Default.ImageRecord);
            error = record is null ? "empty record" : null;
            return record;
        }
        catch (JsonException e)
        {
            error = "corrupt record: " + e.Message;
            return null;
        }
        catch (IOException e)
        {
            error = e.Message;
            return null;
        }
    }

    private static void CheckName(string name)
    {
        if (string.IsNullOrEmpty(name) || name.Length > MaxNameLength || name.Any(char.IsControl))
            throw new InvalidInputException($"image record: invalid name \"{name}\"");
    }
}
