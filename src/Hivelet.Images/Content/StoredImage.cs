using Hivelet.Errors;
using Hivelet.Images.Oci;
using Hivelet.Images.References;

namespace Hivelet.Images.Content;

/// <summary>An image record with its manifest and config read from the content store.</summary>
public sealed class StoredImage
{
    private StoredImage(ImageRecord record, ImageManifest manifest, ImageConfig config, byte[] configBytes)
    {
        Record = record;
        Manifest = manifest;
        Config = config;
        ConfigBytes = configBytes;
    }

    public ImageRecord Record { get; }
    public ImageManifest Manifest { get; }
    public ImageConfig Config { get; }
    public byte[] ConfigBytes { get; }

    /// <summary>Bytes of the layer blobs and config as stored (compressed for pulled images).</summary>
    public long ContentSize => Manifest.Layers.Sum(l => l.Size) + Manifest.Config.Size;

    /// <summary>Docker's image size: the layers unpacked (see <see cref="LayerSizes.ImageSize"/>).</summary>
    public long UnpackedSize(LayerSizes sizes)
    {
        ArgumentNullException.ThrowIfNull(sizes);
        var diffIds = new List<Digest>();
        foreach (var d in Config.RootFs.DiffIds)
            diffIds.Add(Digest.TryParse(d, out var digest) ? digest : default);
        return sizes.ImageSize(diffIds, Manifest.Layers);
    }

    public static StoredImage Load(ImageRecord record, IContentStore content)
    {
        try
        {
            var manifestBytes = ReadAll(content, record.ManifestDigest, ManifestParser.MaxDocumentSize);
            var manifest = ManifestParser.Parse(manifestBytes, null).Manifest
                ?? throw new InvalidInputException($"{record.ManifestDigest} is not an image manifest");
            var configBytes = ReadAll(content, record.ConfigDigest, ManifestParser.MaxConfigSize);
            return new StoredImage(record, manifest, ManifestParser.ParseConfig(configBytes), configBytes);
        }
        catch (HiveletException e)
        {
            throw new HiveletException($"image {record.Name} is damaged (pull it again)", e);
        }
    }

    public static byte[] ReadAll(IContentStore content, Digest digest, int limit)
    {
        using var s = content.OpenRead(digest);
        if (s.Length > limit)
            throw new InvalidInputException($"{digest} is larger than {limit} bytes");
        var buffer = new byte[s.Length];
        s.ReadExactly(buffer);
        return buffer;
    }

    /// <summary>(repository, tag) as Docker lists it; tag "&lt;none&gt;" for digest-only names, both for a dangling image.</summary>
    public static (string Repository, string Tag) Split(ImageRecord record)
    {
        if (record.IsDangling)
            return ("<none>", "<none>");
        var reference = ImageReference.Parse(record.Name);
        return (reference.FamiliarName, reference.Tag ?? "<none>");
    }
}
