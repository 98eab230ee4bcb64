using Microsoft.Extensions.Logging;

namespace Hivelet.Runtime.Spec;

internal static partial class SpecLog
{
    [LoggerMessage(EventId = 3050, Level = LogLevel.Debug, Message = "Bundle of {ContainerId} written to {BundleDir}")]
    public static partial void BundleWritten(ILogger logger, string containerId, string bundleDir);

    [LoggerMessage(EventId = 3051, Level = LogLevel.Debug, Message = "Container {ContainerId} runs as uid {Uid} gid {Gid}")]
    public static partial void UserResolved(ILogger logger, string containerId, uint uid, uint gid);

    [LoggerMessage(EventId = 3052, Level = LogLevel.Debug, Message = "Container {ContainerId}: seccomp {Mode}")]
    public static partial void SeccompMode(ILogger logger, string containerId, string mode);

    [LoggerMessage(EventId = 3053, Level = LogLevel.Debug, Message = "Host resolv.conf had no usable nameserver: container {ContainerId} uses Google's public DNS")]
    public static partial void ResolvFallback(ILogger logger, string containerId);

    [LoggerMessage(EventId = 3055, Level = LogLevel.Debug, Message = "Volume {Volume} seeded from the image's {Destination}: {Files} files")]
    public static partial void VolumeSeeded(ILogger logger, string volume, string destination, long files);

    [LoggerMessage(EventId = 3054, Level = LogLevel.Warning, Message = "Cannot read the host's {Path}: {Reason}")]
    public static partial void HostFileUnreadable(ILogger logger, string path, string reason);
}
