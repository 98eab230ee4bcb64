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

/// <summary>
/// Serializer contexts for documents this area writes. Relaxed escaping keeps "+json" media types
/// readable, as Go's encoder writes them; the bytes are hashed, so they are produced in one place.
/// </summary>
internal static class ArchiveJson
{
    private static readonly System.Text.Encodings.Web.JavaScriptEncoder Encoder =
        System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping;

    public static Hivelet.Images.Oci.OciJsonContext Oci { get; } =
        new(new JsonSerializerOptions(Hivelet.Images.Oci.OciJsonContext.Default.Options) { Encoder = Encoder });

    public static ArchiveJsonContext Archive { get; } =
        new(new JsonSerializerOptions(ArchiveJsonContext.Default.Options) { Encoder = Encoder });
}
