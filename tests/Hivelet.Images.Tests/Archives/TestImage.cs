using System.IO.Compression;
using System.Text;
using System.Text.Json;
using Hivelet.Images.Layers;
using Hivelet.Images.Oci;

namespace Hivelet.Images.Tests.Archives;

/// <summary>A one-layer image built in code: its layer tar, config and OCI manifest, with their digests.</summary>
internal sealed class TestImage
{
    private TestImage(string architecture, string? variant, byte[] layerTar, byte[] layerBlob, byte[] config, byte[] manifest)
    {
        Architecture = architecture;
        Variant = variant;
        LayerTar = layerTar;
        LayerBlob = layerBlob;
        Config = config;
        Manifest = manifest;
    }

    public string Architecture { get; }
    public string? Variant { get; }
    public byte[] LayerTar { get; }

    /// <summary>The layer as the manifest stores it (gzip or the plain tar).</summary>
    public byte[] LayerBlob { get; }
    public byte[] Config { get; }
    public byte[] Manifest { get; }

    public Digest DiffId => Digest.ComputeSha256(LayerTar);
    public Digest LayerDigest => Digest.ComputeSha256(LayerBlob);
    public Digest ConfigDigest => Digest.ComputeSha256(Config);
    public Digest ManifestDigest => Digest.ComputeSha256(Manifest);

    public Descriptor ManifestDescriptor(Dictionary<string, string>? annotations = null) => new()
    {
        MediaType = MediaTypes.OciManifest,
        Digest = ManifestDigest.ToString(),
        Size = Manifest.Length,
        Annotations = annotations,
        Platform = new Platform { Os = "linux", Architecture = Architecture, Variant = Variant },
    };

    /// <summary>An image whose only file is /hello.txt holding <paramref name="text"/>.</summary>
    public static TestImage Create(string text, string architecture = "amd64", string? variant = null, bool gzip = false,
        string? diffIdOverride = null)
    {
        var layerTar = Archive([(File("hello.txt"), Encoding.UTF8.GetBytes(text))]);
        var layerBlob = gzip ? Gzip(layerTar) : layerTar;
        var config = new ImageConfig
        {
            Architecture = architecture,
            Os = "linux",
            Variant = variant,
            Config = new ContainerConfig { Cmd = ["/bin/sh"] },
            RootFs = new RootFs { DiffIds = [diffIdOverride ?? Digest.ComputeSha256(layerTar).ToString()] },
        };
        var configBytes = JsonSerializer.SerializeToUtf8Bytes(config, OciJsonContext.Default.ImageConfig);
        var manifest = new ImageManifest
        {
            SchemaVersion = 2,
            MediaType = MediaTypes.OciManifest,
            Config = new Descriptor { MediaType = MediaTypes.OciConfig, Digest = Digest.ComputeSha256(configBytes).ToString(), Size = configBytes.Length },
            Layers =
            [
                new Descriptor
                {
                    MediaType = gzip ? MediaTypes.OciLayerGzip : MediaTypes.OciLayer,
                    Digest = Digest.ComputeSha256(layerBlob).ToString(),
                    Size = layerBlob.Length,
                },
            ],
        };
        return new TestImage(architecture, variant, layerTar, layerBlob, configBytes,
            JsonSerializer.SerializeToUtf8Bytes(manifest, OciJsonContext.Default.ImageManifest));
    }

    public static TarEntry File(string name) => new() { Name = name, Type = TarEntryType.File, Mode = 0x1A4 };

    public static TarEntry Symlink(string name, string target) => new() { Name = name, Type = TarEntryType.Symlink, LinkName = target, Mode = 0x1FF };

    public static TarEntry Directory(string name) => new() { Name = name, Type = TarEntryType.Directory, Mode = 0x1ED };

    /// <summary>A tar of the entries, written with our TarWriter.</summary>
    public static byte[] Archive(IEnumerable<(TarEntry Entry, byte[]? Data)> entries)
    {
        using var ms = new MemoryStream();
        using (var tar = new TarWriter(ms, leaveOpen: true))
        {
            foreach (var (entry, data) in entries)
                tar.WriteEntry(entry, data ?? []);
        }
        return ms.ToArray();
    }

    public static byte[] Gzip(byte[] data)
    {
        using var ms = new MemoryStream();
        using (var gz = new GZipStream(ms, CompressionLevel.Fastest, leaveOpen: true))
            gz.Write(data);
        return ms.ToArray();
    }
}
