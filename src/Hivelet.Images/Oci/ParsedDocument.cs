namespace Hivelet.Images.Oci;

/// <summary>A validated manifest-endpoint document: exactly one of <see cref="Index"/> and <see cref="Manifest"/>.</summary>
public sealed class ParsedDocument
{
    private ParsedDocument(string mediaType, ImageIndex? index, ImageManifest? manifest)
    {
        MediaType = mediaType;
        Index = index;
        Manifest = manifest;
    }

    /// <summary>The media type the document really has: embedded, from Content-Type, or inferred.</summary>
    public string MediaType { get; }

    public ImageIndex? Index { get; }

    public ImageManifest? Manifest { get; }

    public bool IsIndex => Index is not null;

    internal static ParsedDocument ForIndex(string mediaType, ImageIndex index) => new(mediaType, index, null);

    internal static ParsedDocument ForManifest(string mediaType, ImageManifest manifest) => new(mediaType, null, manifest);
}
