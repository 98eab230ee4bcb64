using Hivelet.Images.Oci;
using Hivelet.Images.References;

namespace Hivelet.Images.Archives;

/// <summary>One image to write into an archive: its stored manifest, and the tags to give it there (maybe none).</summary>
public sealed record ArchiveImage(Descriptor Manifest, ImageManifest Parsed, IReadOnlyList<ImageReference> Tags);
