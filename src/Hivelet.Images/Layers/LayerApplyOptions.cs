using Hivelet.Images.Oci;

namespace Hivelet.Images.Layers;

public sealed class LayerApplyOptions
{
    /// <summary>The config's diff_id for this layer; a different computed one fails the apply.</summary>
    public Digest? ExpectedDiffId { get; init; }

    /// <summary>How the layer is named in messages (usually its blob digest); defaults to the diff_id.</summary>
    public string? LayerName { get; init; }

    /// <summary>
    /// Apply the archive's uid/gid. Null (default): only when the process is privileged, since an
    /// unprivileged chown to another user fails.
    /// </summary>
    public bool? PreserveOwnership { get; init; }

    /// <summary>
    /// Skip character and block devices with a warning when mknod is not permitted (user namespace,
    /// missing CAP_MKNOD) instead of failing. Fifos are always created.
    /// </summary>
    public bool SkipUnpermittedDevices { get; init; } = true;

    /// <summary>
    /// syncfs the root's file system once at the end. Off by default: the snapshotter syncs once per
    /// layer before it commits (files are never fsync'ed one by one).
    /// </summary>
    public bool Sync { get; init; }

    /// <summary>
    /// The root is the empty upper directory of an overlay layer, the layers below not visible: deletions
    /// are written as overlay whiteouts and opaque xattrs. A layer that needs the layers below (a hard link
    /// into them, a parent directory it does not carry) fails with <see cref="LayerNeedsParentException"/>.
    /// </summary>
    internal bool OverlayUpper { get; init; }

    /// <summary>Test hook: never use openat2, exercise the component-by-component resolver.</summary>
    internal bool DisableOpenat2 { get; init; }
}
