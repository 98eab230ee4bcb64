using Hivelet.Images.Oci;

namespace Hivelet.Fixtures;

/// <summary>Content-addressed bytes with the media type they are referenced under.</summary>
public sealed class Blob
{
    public Blob(string mediaType, byte[] content)
    {
        MediaType = mediaType;
        Content = content;
        Digest = Digest.ComputeSha256(content);
    }

    public string MediaType { get; }
    public byte[] Content { get; }
    public Digest Digest { get; }
    public long Size => Content.LongLength;

    public Descriptor ToDescriptor(Platform? platform = null, Dictionary<string, string>? annotations = null) => new()
    {
        MediaType = MediaType,
        Digest = Digest.ToString(),
        Size = Size,
        Platform = platform,
        Annotations = annotations,
    };
}
