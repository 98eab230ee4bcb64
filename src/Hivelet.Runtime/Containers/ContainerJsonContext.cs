using System.Text.Json.Serialization;

namespace Hivelet.Runtime.Containers;

[JsonSourceGenerationOptions(
    WriteIndented = true,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(ContainerRecord))]
[JsonSerializable(typeof(ContainerState))]
[JsonSerializable(typeof(HealthState))]
public sealed partial class ContainerJsonContext : JsonSerializerContext;
