using System.Text.Json.Serialization;

namespace Hivelet.Fixtures;

/// <summary>One entry of a docker-save manifest.json.</summary>
public sealed class DockerSaveEntry
{
    [JsonPropertyName("Config")] public string Config { get; set; } = "";
    [JsonPropertyName("RepoTags")] public List<string> RepoTags { get; set; } = [];
    [JsonPropertyName("Layers")] public List<string> Layers { get; set; } = [];
}

/// <summary>The per-layer "json" of the legacy docker-save format (v1 image metadata).</summary>
public sealed class LegacyLayerJson
{
    [JsonPropertyName("id")] public string Id { get; set; } = "";
    [JsonPropertyName("parent")] public string? Parent { get; set; }
    [JsonPropertyName("created")] public DateTimeOffset Created { get; set; }
    [JsonPropertyName("os")] public string? Os { get; set; }
    [JsonPropertyName("architecture")] public string? Architecture { get; set; }
}

public sealed class OciLayoutFile
{
    [JsonPropertyName("imageLayoutVersion")] public string ImageLayoutVersion { get; set; } = "1.0.0";
}

[JsonSourceGenerationOptions(DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(List<DockerSaveEntry>))]
[JsonSerializable(typeof(LegacyLayerJson))]
[JsonSerializable(typeof(OciLayoutFile))]
[JsonSerializable(typeof(Dictionary<string, Dictionary<string, string>>))]
public sealed partial class FixtureJsonContext : JsonSerializerContext;
