using System.IO.Compression;
using System.Security.Cryptography;
using Hivelet.Errors;
using Hivelet.Images.Content;
using Hivelet.Images.Layers;
using Hivelet.Images.Oci;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Hivelet.Images.Archives;

/// <summary>
/// Reads an image archive (docker save, skopeo docker-archive/oci-archive, an OCI layout tar; plain,
/// gzip or zstd) in one forward pass with bounded memory. Files that name their digest
/// (blobs/sha256/&lt;hex&gt;, &lt;hex&gt;.tar, &lt;hex&gt;.json) stream into the content store and are verified
/// there; other large files (legacy &lt;v1id&gt;/layer.tar) are hashed into a temp file first, because the
/// store only accepts content whose digest is known up front. Metadata JSON is kept in memory,
/// capped at <see cref="MaxJsonSize"/> (CVE-2023-25153: containerd read it unbounded).
/// </summary>
public sealed class ImageArchiveReader
{
    public const int MaxJsonSize = 20 << 20;

    private const int CopyBuffer = 1 << 20;

    private static readonly HashSet<string> MetadataFiles = new(StringComparer.Ordinal)
    {
        "manifest.json", "index.json", "oci-layout", "repositories",
    };

    private readonly IContentStore _content;
    private readonly string _tempDirectory;
    private readonly ILogger _logger;

    /// <param name="tempDirectory">Where files of unknown digest are hashed before they enter the store (same file system is best).</param>
    public ImageArchiveReader(IContentStore content, string tempDirectory, ILogger? logger = null)
    {
        _content = content;
        _tempDirectory = tempDirectory;
        _logger = logger ?? NullLogger.Instance;
    }

    /// <summary>Reads the whole archive; <paramref name="archiveName"/> only names it in messages.</summary>
    public ArchiveContents Read(Stream archive, string archiveName, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(archive);
        var files = new Dictionary<string, ArchiveFile>(StringComparer.Ordinal);
        var links = new Dictionary<string, string>(StringComparer.Ordinal);
        try
        {
            int first = archive.ReadByte();
            if (first < 0)
                throw new InvalidInputException("the archive is empty");
            using var tar = LayerDecompressor.Open(new PrefixedStream(new[] { (byte)first }, archive, leaveOpen: true),
                out var compression, leaveOpen: true);
            ArchiveLog.ReadStarted(_logger, archiveName, compression.ToString());
            using var reader = new TarReader(tar, leaveOpen: true);
            TarEntry? entry;
            while ((entry = reader.GetNextEntry()) is not null)
            {
                ct.ThrowIfCancellationRequested();
                ReadEntry(entry, reader, files, links);
            }
        }
        catch (InvalidDataException e)
        {
            throw new InvalidInputException($"read archive: compressed data is corrupt: {e.Message}");
        }
        catch (ZstdSharp.ZstdException e)
        {
            throw new InvalidInputException($"read archive: zstd data is corrupt: {e.Message}");
        }
        return new ArchiveContents(archiveName, _content, files, links);
    }

    private void ReadEntry(TarEntry entry, TarReader reader, Dictionary<string, ArchiveFile> files, Dictionary<string, string> links)
    {
        if (entry.Type == TarEntryType.Directory)
        {
            // "./" and "." are the archive root; anything else must still stay inside.
            if (entry.Name.Trim('/', '.').Length > 0)
                _ = Normalize(entry.Name);
            return;
        }
        var path = Normalize(entry.Name);
        if (files.ContainsKey(path) || links.ContainsKey(path))
            throw new InvalidInputException($"entry \"{entry.Name}\": duplicate entry");

        switch (entry.Type)
        {
            case TarEntryType.Symlink:
                links[path] = Wrap(entry.Name, () => ArchivePath.ResolveSymlink(path, entry.LinkName ?? ""));
                return;
            case TarEntryType.HardLink:
                // Hard-link targets are archive paths, not relative to the link's directory.
                links[path] = Wrap(entry.Name, () => ArchivePath.Normalize(entry.LinkName ?? ""));
                return;
            case TarEntryType.File:
                break;
            default:
                ArchiveLog.EntryIgnored(_logger, path);
                return;
        }

        var name = path[(path.LastIndexOf('/') + 1)..];
        if (MetadataFiles.Contains(path) || (NamedDigest(path) is null && name.EndsWith(".json", StringComparison.Ordinal)))
        {
            files[path] = new ArchiveFile(path, entry.Size, null, ReadJson(entry, reader));
            return;
        }
        if (path.Contains('/', StringComparison.Ordinal) && name is "VERSION" or "json")
        {
            // Legacy per-layer v1 metadata: nothing reads it since Docker 1.10.
            ArchiveLog.EntryIgnored(_logger, path);
            return;
        }
        var digest = NamedDigest(path) is { } named ? IngestNamed(path, named, entry.Size, reader) : IngestHashed(path, entry.Size, reader);
        files[path] = new ArchiveFile(path, entry.Size, digest, null);
    }

    /// <summary>The digest a path names: blobs/&lt;alg&gt;/&lt;hex&gt;, or a top-level &lt;hex&gt;.tar / &lt;hex&gt;.json (docker and skopeo).</summary>
    internal static Digest? NamedDigest(string path)
    {
        var parts = ArchivePath.Split(path);
        if (parts.Length == 3 && parts[0] == "blobs")
            return Digest.TryParse($"{parts[1]}:{parts[2]}", out var d, out var error) ? d : throw new InvalidInputException($"entry \"{path}\": {error}");
        if (parts.Length == 1)
        {
            var name = parts[0];
            int dot = name.LastIndexOf('.');
            if (dot == 64 && name[(dot + 1)..] is "tar" or "json" && Digest.TryParse($"{Digest.Sha256}:{name[..dot]}", out var d))
                return d;
        }
        return null;
    }

    private Digest IngestNamed(string path, Digest digest, long size, TarReader reader)
    {
        if (_content.Exists(digest))
        {
            ArchiveLog.BlobPresent(_logger, path, digest.ToString());
            return digest;
        }
        try
        {
            using var writer = _content.OpenWriter(digest, size);
            if (writer.Offset != 0)
                writer.Truncate();
            var buffer = new byte[(int)Math.Min(CopyBuffer, Math.Max(size, 1))];
            int n;
            while ((n = reader.ReadData(buffer)) > 0)
                writer.Write(buffer.AsSpan(0, n));
            writer.Commit();
        }
        catch (DigestMismatchException e)
        {
            throw new DigestMismatchException($"entry \"{path}\": {e.Message}");
        }
        ArchiveLog.BlobIngested(_logger, path, digest.ToString(), size);
        return digest;
    }

    private Digest IngestHashed(string path, long size, TarReader reader)
    {
        Directory.CreateDirectory(_tempDirectory);
        var temp = Path.Combine(_tempDirectory, $"load-{Environment.ProcessId}-{Guid.NewGuid():N}");
        try
        {
            Digest digest;
            var buffer = new byte[(int)Math.Min(CopyBuffer, Math.Max(size, 1))];
            using (var hasher = IncrementalHash.CreateHash(HashAlgorithmName.SHA256))
            using (var file = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 0))
            {
                int n;
                while ((n = reader.ReadData(buffer)) > 0)
                {
                    hasher.AppendData(buffer, 0, n);
                    file.Write(buffer, 0, n);
                }
                digest = Digest.FromSha256Hash(hasher.GetHashAndReset());
            }
            if (_content.Exists(digest))
            {
                ArchiveLog.BlobPresent(_logger, path, digest.ToString());
                return digest;
            }
            using (var source = new FileStream(temp, FileMode.Open, FileAccess.Read, FileShare.Read, 0, FileOptions.SequentialScan))
            using (var writer = _content.OpenWriter(digest, size))
            {
                if (writer.Offset != 0)
                    writer.Truncate();
                int n;
                while ((n = source.Read(buffer)) > 0)
                    writer.Write(buffer.AsSpan(0, n));
                writer.Commit();
            }
            ArchiveLog.BlobIngested(_logger, path, digest.ToString(), size);
            return digest;
        }
        finally
        {
            File.Delete(temp);
        }
    }

    /// <summary>Removes temp files of loads that were killed (their process is gone); returns how many.</summary>
    public int CleanStaleTemps()
    {
        if (!Directory.Exists(_tempDirectory))
            return 0;
        int removed = 0;
        foreach (var file in Directory.EnumerateFiles(_tempDirectory, "load-*"))
        {
            var parts = Path.GetFileName(file).Split('-');
            if (parts.Length == 3 && int.TryParse(parts[1], System.Globalization.CultureInfo.InvariantCulture, out int pid) &&
                pid != Environment.ProcessId && !Directory.Exists($"/proc/{pid}"))
            {
                File.Delete(file);
                removed++;
            }
        }
        return removed;
    }

    private static byte[] ReadJson(TarEntry entry, TarReader reader)
    {
        if (entry.Size > MaxJsonSize)
            throw new InvalidInputException($"entry \"{entry.Name}\": {entry.Size} bytes is over the {MaxJsonSize / (1 << 20)} MiB limit for metadata files");
        var data = new byte[entry.Size];
        int done = 0;
        while (done < data.Length)
        {
            int n = reader.ReadData(data.AsSpan(done));
            if (n == 0)
                throw new InvalidInputException($"entry \"{entry.Name}\": archive is truncated");
            done += n;
        }
        return data;
    }

    private static string Normalize(string name) => Wrap(name, () => ArchivePath.Normalize(name));

    private static string Wrap(string name, Func<string> resolve)
    {
        try
        {
            return resolve();
        }
        catch (InvalidInputException e)
        {
            throw new InvalidInputException($"entry {e.Message}");
        }
    }
}
