using Microsoft.Extensions.Logging;

namespace Hivelet.Images.Pulling;

internal static partial class PullLog
{
    [LoggerMessage(1400, LogLevel.Information, "Resolved {Reference} to {Digest} ({MediaType})")]
    public static partial void Resolved(ILogger logger, string reference, string digest, string mediaType);

    [LoggerMessage(1401, LogLevel.Information, "Selected {Platform} manifest {Digest}")]
    public static partial void SelectedPlatform(ILogger logger, string platform, string digest);

    [LoggerMessage(1402, LogLevel.Debug, "Layer {Digest} already in the content store")]
    public static partial void BlobPresent(ILogger logger, string digest);

    [LoggerMessage(1403, LogLevel.Debug, "Layer {ChainId} already unpacked")]
    public static partial void SnapshotPresent(ILogger logger, string chainId);

    [LoggerMessage(1404, LogLevel.Information, "Unpacked layer {Digest} as {ChainId}: {Entries} entries, {Bytes} bytes in {Milliseconds} ms")]
    public static partial void Unpacked(ILogger logger, string digest, string chainId, int entries, long bytes, long milliseconds);

    [LoggerMessage(1405, LogLevel.Information, "Pulled {Reference} in {Milliseconds} ms")]
    public static partial void Pulled(ILogger logger, string reference, long milliseconds);

    [LoggerMessage(1406, LogLevel.Information, "Applied layer {Digest} (not committed yet): {Entries} entries, {Bytes} bytes in {Milliseconds} ms")]
    public static partial void Applied(ILogger logger, string digest, int entries, long bytes, long milliseconds);

    [LoggerMessage(1407, LogLevel.Information, "Layer {Digest} needs the layers below it ({Reason}): applying it onto its committed parent")]
    public static partial void NeedsParent(ILogger logger, string digest, string reason);

    [LoggerMessage(1408, LogLevel.Debug, "Committed layer {Digest} as {ChainId}")]
    public static partial void Committed(ILogger logger, string digest, string chainId);

    [LoggerMessage(1409, LogLevel.Information, "Layer {Digest}: the download restarted from zero, unpacking it again from the content store")]
    public static partial void StreamRestarted(ILogger logger, string digest);
}
