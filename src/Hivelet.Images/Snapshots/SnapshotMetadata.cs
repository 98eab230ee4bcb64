using System.Text.Json.Serialization;

namespace Hivelet.Images.Snapshots;

/// <summary>meta.json of a committed layer snapshot; written before the commit rename.</summary>
public sealed class SnapshotMetadata
{
    [JsonPropertyName("chainId")] public string ChainId { get; set; } = "";
    [JsonPropertyName("parent")] public string? Parent { get; set; }

    /// <summary>Number of layers in the chain, this one included (a base layer has depth 1).</summary>
    [JsonPropertyName("depth")] public int Depth { get; set; }

    /// <summary>The short name under l/ (overlay driver only) that keeps mount options small.</summary>
    [JsonPropertyName("link")] public string? Link { get; set; }

    [JsonPropertyName("driver")] public string Driver { get; set; } = "";
}

/// <summary>meta.json of a container snapshot; its presence marks the container directory complete.</summary>
public sealed class ContainerSnapshotMetadata
{
    [JsonPropertyName("id")] public string Id { get; set; } = "";
    [JsonPropertyName("top")] public string? Top { get; set; }
    [JsonPropertyName("driver")] public string Driver { get; set; } = "";

    /// <summary>
    /// A disposable container's layer (`run --rm`): overlay mounts it `volatile`, so neither the
    /// container's syncs nor the unmount flush the whole upper file system for data about to be deleted.
    /// </summary>
    [JsonPropertyName("volatile")] public bool Volatile { get; set; }
}

/// <summary>The cached result of the overlay probe (see <see cref="SnapshotterFactory"/>).</summary>
public sealed class DriverProbeResult
{
    [JsonPropertyName("driver")] public string Driver { get; set; } = "";
    [JsonPropertyName("reason")] public string Reason { get; set; } = "";
    [JsonPropertyName("kernel")] public string Kernel { get; set; } = "";
    [JsonPropertyName("privileged")] public bool Privileged { get; set; }
}

[JsonSourceGenerationOptions(WriteIndented = true, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(SnapshotMetadata))]
[JsonSerializable(typeof(ContainerSnapshotMetadata))]
[JsonSerializable(typeof(DriverProbeResult))]
internal sealed partial class SnapshotJsonContext : JsonSerializerContext;
