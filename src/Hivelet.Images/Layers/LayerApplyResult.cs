using Hivelet.Images.Oci;

namespace Hivelet.Images.Layers;

public sealed class LayerApplyResult
{
    /// <summary>sha256 of the whole uncompressed tar stream.</summary>
    public required Digest DiffId { get; init; }

    public required long UncompressedSize { get; init; }

    /// <summary>Tar entries read (whiteouts included, extension headers not).</summary>
    public required int Entries { get; init; }
}
