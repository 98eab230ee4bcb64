using Hivelet.Images.Oci;

namespace Hivelet.Images.Content;

/// <summary>What a garbage collection found and (unless <see cref="DryRun"/>) removed.</summary>
public sealed record GcResult
{
    public bool DryRun { get; init; }
    public int BlobsScanned { get; init; }
    public int BlobsRemoved { get; init; }
    public long BytesFreed { get; init; }
    public IReadOnlyList<Digest> RemovedBlobs { get; init; } = [];

    /// <summary>Blobs reachable from image records (present or not).</summary>
    public IReadOnlySet<Digest> LiveBlobs { get; init; } = new HashSet<Digest>();

    /// <summary>Referenced blobs that are not in the store (e.g. manifests of other platforms).</summary>
    public int MissingBlobs { get; init; }

    /// <summary>Layer chain IDs (every prefix of every live image) that snapshots must keep.</summary>
    public IReadOnlySet<Digest> LiveChainIds { get; init; } = new HashSet<Digest>();

    /// <summary>Snapshots removed (or that would be) because no live image uses their chain.</summary>
    public IReadOnlyList<Digest> RemovedSnapshots { get; init; } = [];
}
