using System.Text.Json;
using System.Text.Json.Serialization;

namespace Hivelet.Images.Oci;

/// <summary>
/// Strict reading options for documents from registries and archives: a duplicate key is an
/// error, because two parsers taking different copies of "mediaType" or "layers" is exactly the
/// ambiguity behind CVE-2021-41190.
/// </summary>
[JsonSourceGenerationOptions(
    AllowDuplicateProperties = false,
    AllowTrailingCommas = false,
    ReadCommentHandling = JsonCommentHandling.Disallow,
    MaxDepth = 32)]
[JsonSerializable(typeof(DocumentProbe))]
[JsonSerializable(typeof(ImageManifest))]
[JsonSerializable(typeof(ImageIndex))]
[JsonSerializable(typeof(ImageConfig))]
[JsonSerializable(typeof(ConfigProbe))]
internal sealed partial class ManifestJsonContext : JsonSerializerContext;

/// <summary>Tells an image config without "rootfs" from one with an empty layer list.</summary>
internal sealed class ConfigProbe
{
    [JsonPropertyName("rootfs")] public JsonElement? RootFs { get; set; }
}
