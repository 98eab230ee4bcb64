using Hivelet.Images.Oci;

namespace Hivelet.Fixtures;

/// <summary>A built image: manifest, config and layer blobs, and the parsed documents.</summary>
public sealed class BuiltImage : IBuiltRoot
{
    internal BuiltImage(Blob manifest, ImageManifest parsedManifest, Blob config, ImageConfig parsedConfig,
        IReadOnlyList<BuiltLayer> layers, Platform platform)
    {
        Manifest = manifest;
        ParsedManifest = parsedManifest;
        Config = config;
        ParsedConfig = parsedConfig;
        Layers = layers;
        Platform = platform;
    }

    public Blob Manifest { get; }
    public ImageManifest ParsedManifest { get; }
    public Blob Config { get; }
    public ImageConfig ParsedConfig { get; }
    public IReadOnlyList<BuiltLayer> Layers { get; }
    public Platform Platform { get; }

    /// <summary>The image ID as Docker shows it: the config digest.</summary>
    public Digest ImageId => Config.Digest;

    public Blob Root => Manifest;

    public IEnumerable<Blob> Blobs()
    {
        yield return Manifest;
        yield return Config;
        foreach (var l in Layers)
            yield return l.Blob;
    }
}
