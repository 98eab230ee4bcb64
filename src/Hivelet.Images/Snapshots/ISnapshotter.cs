using Hivelet.Images.Oci;

namespace Hivelet.Images.Snapshots;

/// <summary>
/// Unpacked layers, one committed snapshot per chain ID, stacked for containers. Shaped after
/// containerd's snapshotter: Prepare gives a writable directory that shows the parent chain;
/// Commit makes it a named, read-only layer atomically; a failed or killed unpack is never
/// visible as committed.
/// </summary>
public interface ISnapshotter
{
    /// <summary>"overlayfs" or "copy".</summary>
    string Driver { get; }

    bool Exists(Digest chainId);

    /// <summary>
    /// A writable view of <paramref name="parent"/> (null for a base layer) to apply one layer onto.
    /// Deletions in it are recorded as overlay whiteouts (overlay) or done for real (copy).
    /// </summary>
    IActiveSnapshot Prepare(Digest? parent);

    /// <summary>
    /// True when <see cref="PrepareDetached"/> works: layers can then be applied side by side, each
    /// into its own empty directory, before their parents are committed.
    /// </summary>
    bool SupportsDetached => false;

    /// <summary>
    /// An empty writable directory for a layer whose parent (null for a base layer) may not be
    /// committed yet; the layers below are not visible in it, so deletions must be written in the
    /// driver's own form (overlay whiteouts). Commit fails unless the parent is committed by then.
    /// </summary>
    IActiveSnapshot PrepareDetached(Digest? parent) =>
        throw new NotSupportedException($"the {Driver} snapshotter cannot prepare a layer before its parent");

    /// <summary>
    /// Creates a container root file system on top of <paramref name="top"/>. It persists until
    /// <see cref="RemoveContainer"/> (disposing the handle keeps it; calling again after a reboot mounts
    /// it again with its changes). <paramref name="disposable"/> (decided at the first call): the layer is
    /// deleted after one run (`run --rm`), so its writes need not survive a power loss.
    /// </summary>
    IActiveSnapshot PrepareContainer(string containerId, Digest? top, bool disposable = false);

    /// <summary>
    /// The directory holding what the container itself wrote (overlay: its upper directory; copy: its
    /// whole copy), for sizes; null when the container has none. Never a mount point.
    /// </summary>
    string? ContainerChangesPath(string containerId);

    /// <summary>Unmounts and deletes a container's root file system; false when there is none.</summary>
    bool RemoveContainer(string containerId);

    /// <summary>
    /// How the prepared snapshot of <paramref name="containerId"/> was made, step by step, so that the same
    /// can be made for another container without this process (a run template); null when this driver's
    /// snapshots cannot be made that way.
    /// </summary>
    ContainerSnapshotReplay? DescribeContainer(string containerId) => null;

    bool Remove(Digest chainId);

    IEnumerable<Digest> List();

    /// <summary>Removes leftovers of unpacks that were killed (run at start).</summary>
    void Repair();
}

public interface IActiveSnapshot : IDisposable
{
    /// <summary>The directory to write into (the merged view while mounted).</summary>
    string Path { get; }

    /// <summary>Publishes the snapshot as the layer <paramref name="chainId"/>; then Dispose releases mounts only.</summary>
    void Commit(Digest chainId);
}
