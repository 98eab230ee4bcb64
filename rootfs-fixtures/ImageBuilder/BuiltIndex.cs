using Hivelet.Images.Oci;

namespace Hivelet.Fixtures;

/// <summary>An OCI index or Docker manifest list over several built images.</summary>
public sealed class BuiltIndex : IBuiltRoot
{
    internal BuiltIndex(Blob index, ImageIndex parsed, IReadOnlyList<BuiltImage> images)
    {
        Index = index;
        Parsed = parsed;
        Images = images;
    }

    public Blob Index { get; }
    public ImageIndex Parsed { get; }
    public IReadOnlyList<BuiltImage> Images { get; }

    public Blob Root => Index;

    public IEnumerable<Blob> Blobs() => Images.SelectMany(i => i.Blobs()).Prepend(Index);
}
