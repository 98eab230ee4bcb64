using System.Text.Json;
using System.Text.Json.Serialization;
using Hivelet.Images.Oci;

namespace Hivelet.Images.Content;

/// <summary>Digests as their "alg:hex" string, validated when read (records hold no unchecked paths).</summary>
internal sealed class DigestJsonConverter : JsonConverter<Digest>
{
    public override Digest Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        var text = reader.TokenType == JsonTokenType.String ? reader.GetString() : null;
        return Digest.TryParse(text, out var d, out var error) ? d : throw new JsonException(error);
    }

    public override void Write(Utf8JsonWriter writer, Digest value, JsonSerializerOptions options) =>
        writer.WriteStringValue(value.ToString());
}

[JsonSourceGenerationOptions(
    WriteIndented = true,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    Converters = [typeof(DigestJsonConverter)])]
[JsonSerializable(typeof(ImageRecord))]
internal sealed partial class ContentJsonContext : JsonSerializerContext;
