using System.Text.Json;
using Hivelet.Images.Oci;

namespace Hivelet.Fixtures;

/// <summary>A named root in an OCI layout's index.json.</summary>
/// <param name="RefName">Value of org.opencontainers.image.ref.name (skopeo's oci:DIR:REF).</param>
/// <param name="Root">The image or index the name points at.</param>
/// <param name="ImageName">Optional full name for io.containerd.image.name ("docker.io/x/y:tag").</param>
public sealed record LayoutRef(string RefName, IBuiltRoot Root, string? ImageName = null);

/// <summary>Writes OCI image layouts (image-spec image-layout.md): oci-layout, index.json, blobs/.</summary>
public static class OciLayout
{
    public const string RefNameAnnotation = "org.opencontainers.image.ref.name";
    public const string ContainerdNameAnnotation = "io.containerd.image.name";

    public static ArchiveContent Create(params LayoutRef[] refs)
    {
        var content = new ArchiveContent();
        AddLayoutFile(content);
        var index = new ImageIndex
        {
            SchemaVersion = 2,
            MediaType = MediaTypes.OciIndex,
            Manifests = refs.Select(r => r.Root.Root.ToDescriptor(annotations: Annotations(r))).ToList(),
        };
        content.File("index.json", JsonSerializer.SerializeToUtf8Bytes(index, FixtureJson.Oci.ImageIndex));
        foreach (var blob in refs.SelectMany(r => r.Root.Blobs()))
            AddBlob(content, blob.Digest, blob.Content);
        return content;
    }

    internal static void AddLayoutFile(ArchiveContent content) =>
        content.File("oci-layout", JsonSerializer.SerializeToUtf8Bytes(new OciLayoutFile(), FixtureJson.Archive.OciLayoutFile));

    internal static string BlobPath(Digest digest) => $"blobs/{digest.Algorithm}/{digest.Encoded}";

    internal static void AddBlob(ArchiveContent content, Digest digest, byte[] bytes) =>
        content.File(BlobPath(digest), bytes);

    private static Dictionary<string, string> Annotations(LayoutRef r)
    {
        var a = new Dictionary<string, string>(StringComparer.Ordinal) { [RefNameAnnotation] = r.RefName };
        if (r.ImageName is not null)
            a[ContainerdNameAnnotation] = r.ImageName;
        return a;
    }
}
