using System.Diagnostics;
using Hivelet.Images.Content;
using Hivelet.IO;
using Hivelet.Images.Layers;
using Hivelet.Images.Oci;
using Hivelet.Images.Snapshots;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Hivelet.Images.Pulling;

/// <summary>
/// Turns an image's layer blobs into committed snapshots, bottom to top, one per chain ID. Shared by
/// pull and load. <see cref="UnpackLayer"/> applies onto the merged view of the committed parent, so
/// layer after layer; with a driver that supports it, <see cref="ApplyDetached"/> applies a layer before
/// its parent exists and <see cref="CommitApplied"/> publishes it later, in chain order. A layer whose
/// chain is already unpacked is skipped.
/// </summary>
public sealed class ImageUnpacker(IContentStore content, ISnapshotter snapshots, LayerApplier applier, ILogger? logger = null)
{
    private readonly ILogger _logger = logger ?? NullLogger.Instance;

    /// <summary>Where each unpacked layer's size is recorded for `images` (optional).</summary>
    public LayerSizes? Sizes { get; init; }

    /// <summary>
    /// Unpacks layer <paramref name="index"/> of <paramref name="manifest"/> whose blob is in the content
    /// store. <paramref name="chainIds"/> and <paramref name="diffIds"/> come from the config.
    /// </summary>
    public void UnpackLayer(ImageManifest manifest, IReadOnlyList<Digest> diffIds, IReadOnlyList<Digest> chainIds, int index,
        IPullObserver observer, CancellationToken ct)
    {
        var layer = manifest.Layers[index];
        var digest = layer.ParsedDigest();
        var chainId = chainIds[index];
        if (snapshots.Exists(chainId))
        {
            PullLog.SnapshotPresent(_logger, chainId.ToString());
            observer.Layer(digest, LayerPhase.PullComplete, layer.Size, layer.Size);
            return;
        }
        Digest? parent = index == 0 ? null : chainIds[index - 1];
        var watch = Stopwatch.StartNew();
        observer.Layer(digest, LayerPhase.Extracting, 0, layer.Size);
        using (var active = snapshots.Prepare(parent))
        {
            LayerApplyResult result;
            using (var blob = new ProgressReadStream(content.OpenRead(digest),
                       new SyncProgress<long>(n => observer.Layer(digest, LayerPhase.Extracting, n, layer.Size))))
            {
                result = applier.Apply(blob, active.Path, new LayerApplyOptions
                {
                    ExpectedDiffId = diffIds[index],
                    LayerName = digest.ToString(),
                }, ct);
            }
            ct.ThrowIfCancellationRequested();
            active.Commit(chainId);
            Sizes?.Record(diffIds[index], result.UncompressedSize);
            PullLog.Unpacked(_logger, digest.ToString(), chainId.ToString(), result.Entries, result.UncompressedSize,
                watch.ElapsedMilliseconds);
        }
        observer.Layer(digest, LayerPhase.PullComplete, layer.Size, layer.Size);
    }

    /// <summary>Layers can be applied side by side (<see cref="ApplyDetached"/>) and committed in order afterwards.</summary>
    public bool SupportsDetached => snapshots.SupportsDetached;

    /// <summary>True when layer <paramref name="index"/>'s chain is already unpacked.</summary>
    public bool IsUnpacked(IReadOnlyList<Digest> chainIds, int index) => snapshots.Exists(chainIds[index]);

    /// <summary>
    /// Applies layer <paramref name="index"/> from <paramref name="blob"/> into a detached snapshot
    /// whose parent need not be committed yet, and returns it uncommitted (commit with
    /// <see cref="CommitApplied"/> once the parent is; dispose to discard). Null when the layer needs
    /// the layers below it: apply it with <see cref="UnpackLayer"/> once its parent is committed.
    /// </summary>
    public IActiveSnapshot? ApplyDetached(ImageManifest manifest, IReadOnlyList<Digest> diffIds, IReadOnlyList<Digest> chainIds,
        int index, Stream blob, CancellationToken ct)
    {
        var digest = manifest.Layers[index].ParsedDigest();
        Digest? parent = index == 0 ? null : chainIds[index - 1];
        var watch = Stopwatch.StartNew();
        var active = snapshots.PrepareDetached(parent);
        try
        {
            var result = applier.Apply(blob, active.Path, new LayerApplyOptions
            {
                ExpectedDiffId = diffIds[index],
                LayerName = digest.ToString(),
                OverlayUpper = true,
            }, ct);
            ct.ThrowIfCancellationRequested();
            PullLog.Applied(_logger, digest.ToString(), result.Entries, result.UncompressedSize, watch.ElapsedMilliseconds);
            // The diff_id just verified, so the figure holds whether or not this snapshot gets committed.
            Sizes?.Record(diffIds[index], result.UncompressedSize);
            return active;
        }
        catch (LayerNeedsParentException e)
        {
            active.Dispose();
            PullLog.NeedsParent(_logger, digest.ToString(), e.Message);
            return null;
        }
        catch
        {
            active.Dispose();
            throw;
        }
    }

    /// <summary>Commits a snapshot from <see cref="ApplyDetached"/>; layer <paramref name="index"/>'s parent must be committed.</summary>
    public void CommitApplied(IActiveSnapshot applied, ImageManifest manifest, IReadOnlyList<Digest> chainIds, int index,
        IPullObserver observer)
    {
        var layer = manifest.Layers[index];
        var digest = layer.ParsedDigest();
        using (applied)
            applied.Commit(chainIds[index]);
        PullLog.Committed(_logger, digest.ToString(), chainIds[index].ToString());
        observer.Layer(digest, LayerPhase.PullComplete, layer.Size, layer.Size);
    }

    /// <summary>Unpacks every layer whose blob is present (load, or a pull whose blobs were all cached).</summary>
    public void UnpackAll(ImageManifest manifest, ImageConfig config, IPullObserver observer, CancellationToken ct)
    {
        var diffIds = ManifestParser.DiffIds(config);
        ManifestParser.CheckLayerCount(manifest, config);
        var chainIds = ChainId.Compute(diffIds);
        for (int i = 0; i < manifest.Layers.Count; i++)
            UnpackLayer(manifest, diffIds, chainIds, i, observer, ct);
    }
}
