using Microsoft.Extensions.Logging;

namespace Hivelet.Images.Snapshots;

internal static partial class SnapshotsLog
{
    [LoggerMessage(1300, LogLevel.Debug, "prepared {Driver} snapshot on {Parent} at {Path}")]
    public static partial void Prepared(ILogger logger, string driver, string parent, string path);

    [LoggerMessage(1301, LogLevel.Information, "committed {Driver} snapshot {ChainId}")]
    public static partial void Committed(ILogger logger, string driver, string chainId);

    [LoggerMessage(1302, LogLevel.Information, "snapshot {ChainId} was committed concurrently; discarding ours")]
    public static partial void AlreadyCommitted(ILogger logger, string chainId);

    [LoggerMessage(1303, LogLevel.Debug, "discarded uncommitted snapshot {Path}")]
    public static partial void Discarded(ILogger logger, string path);

    [LoggerMessage(1304, LogLevel.Information, "removed snapshot {ChainId}")]
    public static partial void Removed(ILogger logger, string chainId);

    [LoggerMessage(1305, LogLevel.Information, "prepared container snapshot {ContainerId} on {Top} at {Path}")]
    public static partial void ContainerPrepared(ILogger logger, string containerId, string top, string path);

    [LoggerMessage(1306, LogLevel.Information, "removed container snapshot {ContainerId}")]
    public static partial void ContainerRemoved(ILogger logger, string containerId);

    [LoggerMessage(1307, LogLevel.Warning, "repair: removed leftover {Path}")]
    public static partial void RepairRemovedTemp(ILogger logger, string path);

    [LoggerMessage(1308, LogLevel.Warning, "repair: detached stale mount {Path}")]
    public static partial void RepairDetachedMount(ILogger logger, string path);

    [LoggerMessage(1309, LogLevel.Warning, "repair: removed incomplete container snapshot {ContainerId}")]
    public static partial void RepairRemovedContainer(ILogger logger, string containerId);

    [LoggerMessage(1310, LogLevel.Debug, "repair: removed dangling layer link {Path}")]
    public static partial void RepairRemovedLink(ILogger logger, string path);

    [LoggerMessage(1311, LogLevel.Information, "snapshot driver {Driver}: {Reason}")]
    public static partial void DriverSelected(ILogger logger, string driver, string reason);

    [LoggerMessage(1312, LogLevel.Warning, "overlayfs unusable, falling back to the copy driver: {Reason}")]
    public static partial void OverlayUnavailable(ILogger logger, string reason);

    [LoggerMessage(1313, LogLevel.Warning, "unmount {Path} busy; detaching it lazily")]
    public static partial void UnmountBusy(ILogger logger, string path);

    [LoggerMessage(1314, LogLevel.Debug, "copied {Path}: {Files} files, {Bytes} bytes")]
    public static partial void TreeCopied(ILogger logger, string path, long files, long bytes);

    [LoggerMessage(1315, LogLevel.Debug, "mounted overlay with {Layers} lower layers on {Path}")]
    public static partial void OverlayMounted(ILogger logger, int layers, string path);

    [LoggerMessage(1316, LogLevel.Debug, "no top-directory allocation hint on {Path}: {Reason}")]
    public static partial void NoTopDirectoryHint(ILogger logger, string path, string reason);
}
