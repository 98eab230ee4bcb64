namespace Hivelet.Fixtures;

/// <summary>A single-platform image described in code: config fields plus layers, bottom first.</summary>
public sealed class ImageDefinition
{
    public string Architecture { get; set; } = "amd64";
    public string Os { get; set; } = "linux";
    public string? Variant { get; set; }
    public List<string>? Env { get; set; } = ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"];
    public List<string>? Entrypoint { get; set; }
    public List<string>? Cmd { get; set; }
    public string? WorkingDir { get; set; }
    public string? User { get; set; }
    public Dictionary<string, string>? Labels { get; set; }
    public ManifestFormat Format { get; set; } = ManifestFormat.Oci;

    /// <summary>Fixed so that the same definition always gives the same digests.</summary>
    public DateTimeOffset Created { get; set; } = new(2024, 1, 1, 0, 0, 0, TimeSpan.Zero);

    public List<LayerDefinition> Layers { get; } = [];

    public ImageDefinition Layer(LayerDefinition layer)
    {
        Layers.Add(layer);
        return this;
    }
}
