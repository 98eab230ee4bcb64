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
}
