using System.Text.Json;
using Hivelet.Errors;
using Hivelet.Images.Content;
using Hivelet.Images.Layers;
using Hivelet.Images.Oci;
using Hivelet.Images.References;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Hivelet.Images.Archives;

/// <summary>
/// Writes images as Docker 25 does: an OCI image layout (oci-layout, index.json annotated with
/// io.containerd.image.name and org.opencontainers.image.ref.name, blobs/sha256/&lt;hex&gt;) plus the
/// manifest.json and repositories files that older `docker load` and skopeo's docker-archive read.
/// Blobs go in as stored, so manifests keep their digests; layers stay compressed, which `docker load`
/// (it sniffs compression) and skopeo 1.9's docker-archive reader (it decompresses) both accept.
/// Entries are sorted, owned by 0:0 with mtime 0, so the same images give the same bytes.
/// </summary>
public sealed class ImageArchiveWriter(IContentStore content, ILogger? logger = null)
{
    private const int FileMode = 0x1A4; // 0644
    private const int DirectoryMode = 0x1ED; // 0755

    private readonly ILogger _logger = logger ?? NullLogger.Instance;

    public void Write(Stream output, IReadOnlyList<ArchiveImage> images, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(images);
        var blobs = new SortedDictionary<string, Digest>(StringComparer.Ordinal);
        foreach (var image in images)
        {
            Add(blobs, Digest.Parse(image.Manifest.Digest));
            Add(blobs, image.Parsed.Config.ParsedDigest());
            foreach (var layer in image.Parsed.Layers)
                Add(blobs, layer.ParsedDigest());
        }

        using var tar = new TarWriter(output, leaveOpen: true);
        tar.WriteEntry(Directory("blobs/"), ReadOnlySpan<byte>.Empty);
        foreach (var algorithm in blobs.Values.Select(d => d.Algorithm).Distinct().Order(StringComparer.Ordinal))
            tar.WriteEntry(Directory($"blobs/{algorithm}/"), ReadOnlySpan<byte>.Empty);
        foreach (var (path, digest) in blobs)
        {
            ct.ThrowIfCancellationRequested();
            WriteBlob(tar, path, digest);
        }

        tar.WriteEntry(File("index.json"), JsonSerializer.SerializeToUtf8Bytes(BuildIndex(images), ArchiveJson.Oci.ImageIndex));
        tar.WriteEntry(File("manifest.json"), JsonSerializer.SerializeToUtf8Bytes(BuildDockerManifest(images), ArchiveJson.Archive.ListDockerSaveEntry));
        tar.WriteEntry(File("oci-layout"), JsonSerializer.SerializeToUtf8Bytes(
            new OciLayoutFile { ImageLayoutVersion = OciLayoutFile.CurrentVersion }, ArchiveJson.Archive.OciLayoutFile));
        var repositories = BuildRepositories(images);
        if (repositories.Count > 0)
        {
            tar.WriteEntry(File("repositories"), JsonSerializer.SerializeToUtf8Bytes(repositories,
                ArchiveJson.Archive.DictionaryStringDictionaryStringString));
        }
        tar.Finish();
    }

    /// <summary>"blobs/sha256/&lt;hex&gt;", the path a blob has in the archive.</summary>
    public static string BlobPath(Digest digest) => $"blobs/{digest.Algorithm}/{digest.Encoded}";

    private static void Add(SortedDictionary<string, Digest> blobs, Digest digest) => blobs[BlobPath(digest)] = digest;

    private void WriteBlob(TarWriter tar, string path, Digest digest)
    {
        long size = content.GetSize(digest);
        ArchiveLog.BlobSaved(_logger, digest.ToString(), size);
        var entry = File(path);
        entry.Size = size;
        using var blob = content.OpenRead(digest);
        if (digest.Algorithm != Digest.Sha256)
        {
            tar.WriteEntry(entry, blob);
            return;
        }
        // The store's files are trusted but not immune to disk errors: never export a corrupt blob under its digest.
        using var hashing = new HashingStream(blob, leaveOpen: true);
        tar.WriteEntry(entry, hashing);
        if (hashing.CurrentDigest() != digest)
            throw new DigestMismatchException($"blob {digest} in the content store is corrupt (content hashes to {hashing.CurrentDigest()})");
    }

    private static ImageIndex BuildIndex(IReadOnlyList<ArchiveImage> images)
    {
        var index = new ImageIndex { SchemaVersion = 2, MediaType = MediaTypes.OciIndex };
        foreach (var image in images)
        {
            if (image.Tags.Count == 0)
            {
                index.Manifests.Add(Descriptor(image.Manifest, null));
                continue;
            }
            foreach (var tag in image.Tags)
            {
                index.Manifests.Add(Descriptor(image.Manifest, new Dictionary<string, string>(StringComparer.Ordinal)
                {
                    [ImageLoader.ContainerdNameAnnotation] = tag.ToString(),
                    [ImageLoader.RefNameAnnotation] = tag.Tag ?? ImageReference.DefaultTag,
                }));
            }
        }
        return index;
    }

    private static Descriptor Descriptor(Descriptor manifest, Dictionary<string, string>? annotations) => new()
    {
        MediaType = manifest.MediaType,
        Digest = manifest.Digest,
        Size = manifest.Size,
        Annotations = annotations,
    };

    private static List<DockerSaveEntry> BuildDockerManifest(IReadOnlyList<ArchiveImage> images) =>
        images.Select(image => new DockerSaveEntry
        {
            Config = BlobPath(image.Parsed.Config.ParsedDigest()),
            RepoTags = image.Tags.Count == 0 ? null : image.Tags.Select(t => t.FamiliarString()).ToList(),
            Layers = image.Parsed.Layers.Select(l => BlobPath(l.ParsedDigest())).ToList(),
        }).ToList();

    /// <summary>The legacy repositories file: repo -> tag -> top layer. Only pre-1.10 loaders read it; kept for them.</summary>
    private static Dictionary<string, Dictionary<string, string>> BuildRepositories(IReadOnlyList<ArchiveImage> images)
    {
        var repositories = new Dictionary<string, Dictionary<string, string>>(StringComparer.Ordinal);
        foreach (var image in images)
        {
            if (image.Parsed.Layers.Count == 0)
                continue;
            var top = image.Parsed.Layers[^1].ParsedDigest().Encoded;
            foreach (var tag in image.Tags)
            {
                if (!repositories.TryGetValue(tag.FamiliarName, out var tags))
                    repositories[tag.FamiliarName] = tags = new Dictionary<string, string>(StringComparer.Ordinal);
                tags[tag.Tag ?? ImageReference.DefaultTag] = top;
            }
        }
        return repositories;
    }

    private static TarEntry File(string name) => new() { Name = name, Type = TarEntryType.File, Mode = FileMode };

    private static TarEntry Directory(string name) => new() { Name = name, Type = TarEntryType.Directory, Mode = DirectoryMode };
}
