using System.Text.Json.Serialization;

namespace Hivelet.Runtime.Containers;

[JsonSourceGenerationOptions(
    WriteIndented = true,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(ContainerRecord))]
public sealed partial class ContainerJsonContext : JsonSerializerContext;
