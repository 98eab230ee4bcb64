using Hivelet.Images.Oci;
using Hivelet.Images.Platforms;

namespace Hivelet.Images.Archives;

/// <summary>One image a load recorded.</summary>
/// <param name="Names">Normalised tagged (or digest) names recorded, e.g. "docker.io/library/busybox:latest"; empty when the archive named none.</param>
/// <param name="RecordNames">The image record names written: <paramref name="Names"/>, or the one untagged record.</param>
/// <param name="Id">The image ID (config digest).</param>
/// <param name="Target">What the records point at: the manifest, or the whole index when the archive held all of it.</param>
/// <param name="ManifestDigest">The platform manifest that was unpacked.</param>
public sealed record LoadedImage(
    IReadOnlyList<string> Names,
    IReadOnlyList<string> RecordNames,
    Digest Id,
    Descriptor Target,
    Digest ManifestDigest,
    PlatformSpec Platform);
