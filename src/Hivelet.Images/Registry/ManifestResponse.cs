using Hivelet.Images.Oci;

namespace Hivelet.Images.Registry;

/// <summary>A manifest or index exactly as the registry served it, with its verified digest.</summary>
public sealed class ManifestResponse
{
    public ManifestResponse(byte[] content, string mediaType, Digest digest)
    {
        Content = content;
        MediaType = mediaType;
        Digest = digest;
    }

    /// <summary>The exact bytes; the digest is over these, never over a re-serialisation.</summary>
    public byte[] Content { get; }

    /// <summary>Content-Type without parameters (or the document's own mediaType when the header had none).</summary>
    public string MediaType { get; }

    public Digest Digest { get; }

    public Descriptor ToDescriptor() => new() { MediaType = MediaType, Digest = Digest.ToString(), Size = Content.Length };
}
