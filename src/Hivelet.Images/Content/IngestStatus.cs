using Hivelet.Images.Oci;

namespace Hivelet.Images.Content;

/// <summary>A partial download in content/ingest (for "system df" and diagnostics).</summary>
public sealed record IngestStatus(
    Digest Digest,
    long Offset,
    long ExpectedSize,
    DateTimeOffset? StartedAt,
    DateTimeOffset UpdatedAt,
    bool Active);
