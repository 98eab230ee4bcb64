using System.Text.Json.Serialization;
using Hivelet.Images.Oci;

namespace Hivelet.Cli.Output;

/// <summary>The shape of `docker image inspect` output, field names and order as Docker prints them.</summary>
public sealed class ImageInspect
{
    public string Id { get; set; } = "";
    public List<string> RepoTags { get; set; } = [];
    public List<string> RepoDigests { get; set; } = [];
    public string Parent { get; set; } = "";
    public string Comment { get; set; } = "";
    public string? Created { get; set; }
    public string DockerVersion { get; set; } = "";
    public string Author { get; set; } = "";
    public ContainerConfig? Config { get; set; }
    public string Architecture { get; set; } = "";
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Variant { get; set; }
    public string Os { get; set; } = "";
    public long Size { get; set; }
    public InspectRootFs RootFS { get; set; } = new();
    public InspectMetadata Metadata { get; set; } = new();
}

public sealed class InspectRootFs
{
    public string Type { get; set; } = "layers";
    public List<string> Layers { get; set; } = [];
}

public sealed class InspectMetadata
{
    public string? LastTagTime { get; set; }
}

[JsonSourceGenerationOptions(WriteIndented = true, IndentSize = 4,
    DefaultIgnoreCondition = JsonIgnoreCondition.Never)]
[JsonSerializable(typeof(List<ImageInspect>))]
internal sealed partial class CliJsonContext : JsonSerializerContext;
