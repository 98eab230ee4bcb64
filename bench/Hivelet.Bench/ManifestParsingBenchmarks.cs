using System.Text.Json;
using BenchmarkDotNet.Attributes;
using Hivelet.Fixtures;
using Hivelet.Images.Oci;

namespace Hivelet.Bench;

/// <summary>Parsing registry documents with the source-generated <see cref="OciJsonContext"/>.</summary>
[MemoryDiagnoser]
public class ManifestParsingBenchmarks
{
    private byte[] _manifest = [];
    private byte[] _index = [];
    private byte[] _config = [];

    [GlobalSetup]
    public void Setup()
    {
        // A five-layer manifest and a seven-platform index, about the size of popular images'.
        var layered = new ImageDefinition();
        for (int i = 0; i < 5; i++)
            layered.Layer(new LayerDefinition().File($"layer{i}", $"content {i}"));
        var image = ImageFactory.Build(layered);
        _manifest = image.Manifest.Content;
        _config = image.Config.Content;
        var platforms = new (string Arch, string? Variant)[]
        {
            ("amd64", null), ("arm64", "v8"), ("arm", "v7"), ("arm", "v6"), ("386", null), ("ppc64le", null), ("s390x", null),
        };
        var images = platforms.Select(p => ImageFactory.Build(new ImageDefinition { Architecture = p.Arch, Variant = p.Variant }
            .Layer(new LayerDefinition().File("arch", p.Arch)))).ToList();
        _index = ImageFactory.BuildIndex(images).Index.Content;
    }

    [Benchmark]
    public ImageManifest? Manifest() => JsonSerializer.Deserialize(_manifest, OciJsonContext.Default.ImageManifest);

    [Benchmark]
    public ImageIndex? Index() => JsonSerializer.Deserialize(_index, OciJsonContext.Default.ImageIndex);

    [Benchmark]
    public ImageConfig? Config() => JsonSerializer.Deserialize(_config, OciJsonContext.Default.ImageConfig);

    [Benchmark]
    public DocumentProbe? Probe() => JsonSerializer.Deserialize(_index, OciJsonContext.Default.DocumentProbe);
}
