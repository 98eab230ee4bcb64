using Hivelet.Images.Oci;

namespace Hivelet.Images.References;

/// <summary>
/// A fully normalised image reference: "docker.io/library/busybox:latest",
/// "127.0.0.1:5000/lab/app@sha256:...". Parsing (Docker's grammar and normalisation) lives in
/// ImageReference.Parse.cs.
/// </summary>
public sealed partial record ImageReference
{
    public const string DockerHubDomain = "docker.io";

    /// <summary>Registry host with optional port as written by the user ("docker.io", "localhost:5000").</summary>
    public required string Domain { get; init; }

    /// <summary>Repository path inside the registry ("library/busybox").</summary>
    public required string Repository { get; init; }

    /// <summary>Tag, or null when only a digest was given.</summary>
    public string? Tag { get; init; }

    public Digest? Digest { get; init; }

    /// <summary>"docker.io/library/busybox" (no tag, no digest).</summary>
    public string Name => $"{Domain}/{Repository}";

    public override string ToString() =>
        Name + (Tag is null ? "" : ":" + Tag) + (Digest is { } d ? "@" + d : "");
}
