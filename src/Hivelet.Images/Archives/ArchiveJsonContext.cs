using System.Text.Json;
using System.Text.Json.Serialization;

namespace Hivelet.Images.Archives;

/// <summary>
/// Reads archive metadata strictly, like the manifest parser: a duplicate key is an error, since two
/// readers taking different copies of "Layers" would load different images (CVE-2021-41190 style).
/// </summary>
[JsonSourceGenerationOptions(
    AllowDuplicateProperties = false,
    AllowTrailingCommas = false,
    ReadCommentHandling = JsonCommentHandling.Disallow,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    MaxDepth = 32)]
[JsonSerializable(typeof(List<DockerSaveEntry>))]
[JsonSerializable(typeof(OciLayoutFile))]
[JsonSerializable(typeof(Dictionary<string, Dictionary<string, string>>))]
internal sealed partial class ArchiveJsonContext : JsonSerializerContext;
