using System.Text.Json.Serialization;

namespace Hivelet.Images.Archives;

/// <summary>One element of a `docker save` manifest.json: paths inside the archive, not digests.</summary>
public sealed class DockerSaveEntry
{
    [JsonPropertyName("Config")] public string Config { get; set; } = "";
    [JsonPropertyName("RepoTags")] public List<string>? RepoTags { get; set; }
    [JsonPropertyName("Layers")] public List<string> Layers { get; set; } = [];
}

/// <summary>The oci-layout file of an OCI image layout.</summary>
public sealed class OciLayoutFile
{
    public const string CurrentVersion = "1.0.0";

    [JsonPropertyName("imageLayoutVersion")] public string ImageLayoutVersion { get; set; } = "";
}
