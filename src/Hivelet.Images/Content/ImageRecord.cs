using System.Text.Json.Serialization;
using Hivelet.Images.Oci;

namespace Hivelet.Images.Content;

/// <summary>
/// What a name points to: the image record, root of garbage collection. Stored as
/// images/&lt;sha256(name)&gt;.json with the name inside.
/// </summary>
public sealed record ImageRecord
{
    /// <summary>Normalised reference: "docker.io/library/busybox:latest" or "…/busybox@sha256:…".</summary>
    [JsonPropertyName("name")] public required string Name { get; init; }

    /// <summary>The index or manifest the name resolved to at the registry (media type, digest, size).</summary>
    [JsonPropertyName("target")] public required Descriptor Target { get; init; }

    /// <summary>The platform manifest chosen from the target (the target itself when it is a manifest).</summary>
    [JsonPropertyName("manifest")] public required Digest ManifestDigest { get; init; }

    /// <summary>The image config; its digest is the image ID.</summary>
    [JsonPropertyName("config")] public required Digest ConfigDigest { get; init; }

    [JsonPropertyName("platform")] public Platform? Platform { get; init; }

    /// <summary>When this record was written (not when the image was built).</summary>
    [JsonPropertyName("created")] public DateTimeOffset Created { get; init; }

    /// <summary>"docker.io/library/busybox@sha256:…" of the target as the registry serves it.</summary>
    [JsonPropertyName("repoDigests")] public IReadOnlyList<string> RepoDigests { get; init; } = [];

    /// <summary>The image ID Docker shows: the config digest.</summary>
    [JsonIgnore] public Digest Id => ConfigDigest;

    /// <summary>
    /// An image that lost its last name when the name moved to another image (Docker's
    /// "&lt;none&gt;:&lt;none&gt;"). Its record is named "&lt;none&gt;@ID", which no reference can spell.
    /// </summary>
    [JsonIgnore] public bool IsDangling => Name.StartsWith(DanglingPrefix, StringComparison.Ordinal);

    public const string DanglingPrefix = "<none>@";

    public static string DanglingName(Digest id) => DanglingPrefix + id;
}
