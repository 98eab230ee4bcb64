using Hivelet.Errors;
using Hivelet.Images.Content;
using Hivelet.Images.Oci;

namespace Hivelet.Images.Archives;

/// <summary>A regular file of the archive: either ingested into the content store or, for small JSON, kept in memory.</summary>
public sealed record ArchiveFile(string Path, long Size, Digest? Blob, byte[]? Data);

/// <summary>
/// What one pass over an image archive left: its files by path (blobs already in the content store,
/// metadata in memory) and its links, resolved on demand without ever leaving the archive.
/// </summary>
public sealed class ArchiveContents
{
    private const int MaxLinkHops = 40;

    private readonly IContentStore _content;

    internal ArchiveContents(string archiveName, IContentStore content, Dictionary<string, ArchiveFile> files,
        Dictionary<string, string> links)
    {
        ArchiveName = archiveName;
        _content = content;
        Files = files;
        Links = links;
    }

    public string ArchiveName { get; }

    /// <summary>Regular files by normalised path.</summary>
    public IReadOnlyDictionary<string, ArchiveFile> Files { get; }

    /// <summary>Symlinks and hard links: normalised path to the normalised path they point at.</summary>
    public IReadOnlyDictionary<string, string> Links { get; }

    public bool Has(string path) => TryResolve(path, out _);

    /// <summary>The file <paramref name="path"/> names after following links; throws when there is none.</summary>
    public ArchiveFile Resolve(string path, string what)
    {
        string normalized;
        try
        {
            normalized = ArchivePath.Normalize(path);
        }
        catch (InvalidInputException e)
        {
            throw new InvalidInputException($"{what}: {e.Message}");
        }
        if (!TryResolve(normalized, out var file))
            throw new InvalidInputException($"{what}: file \"{path}\" is missing from the archive");
        return file;
    }

    /// <summary>The content-store digest of the file at <paramref name="path"/>.</summary>
    public Digest Blob(string path, string what)
    {
        var file = Resolve(path, what);
        return file.Blob ?? throw new InvalidInputException($"{what}: \"{path}\" is not a blob file");
    }

    /// <summary>The bytes of a (small) file, from memory or from the store, at most <paramref name="limit"/>.</summary>
    public byte[] ReadSmall(ArchiveFile file, int limit, string what)
    {
        if (file.Size > limit)
            throw new InvalidInputException($"{what}: \"{file.Path}\" is {file.Size} bytes, over the {limit} byte limit");
        if (file.Data is { } data)
            return data;
        return StoredImage.ReadAll(_content, file.Blob!.Value, limit);
    }

    private bool TryResolve(string path, out ArchiveFile file)
    {
        string current = path;
        for (int hop = 0; hop < MaxLinkHops; hop++)
        {
            if (Files.TryGetValue(current, out file!))
                return true;
            // A link may be the file itself or any directory on the way to it.
            var parts = ArchivePath.Split(current);
            string? next = null;
            for (int i = parts.Length; i >= 1 && next is null; i--)
            {
                var prefix = string.Join('/', parts[..i]);
                if (Links.TryGetValue(prefix, out var target))
                    next = i == parts.Length ? target : target + "/" + string.Join('/', parts[i..]);
            }
            if (next is null)
                break;
            current = next;
        }
        file = null!;
        return false;
    }
}
