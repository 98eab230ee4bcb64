using Hivelet.Images.Oci;

namespace Hivelet.Fixtures;

/// <summary>A layer as stored: the uncompressed tar (its digest is the DiffID) and the blob.</summary>
public sealed class BuiltLayer
{
    public BuiltLayer(byte[] tar, Blob blob)
    {
        Tar = tar;
        Blob = blob;
        DiffId = Digest.ComputeSha256(tar);
    }

    public byte[] Tar { get; }
    public Blob Blob { get; }
    public Digest DiffId { get; }
}
