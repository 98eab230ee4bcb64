using Microsoft.Extensions.Logging;

namespace Hivelet.Images.Layers;

/// <summary>Log messages of the layer applier (event ids 1200-1299).</summary>
internal static partial class LayersLog
{
    [LoggerMessage(EventId = 1200, Level = LogLevel.Debug, Message = "Applying layer {Layer} ({Compression}) onto {Root}")]
    public static partial void ApplyStarted(ILogger logger, string layer, LayerCompression compression, string root);

    [LoggerMessage(EventId = 1201, Level = LogLevel.Information,
        Message = "Applied layer {Layer}: diff_id {DiffId}, {Entries} entries, {Bytes} bytes uncompressed in {ElapsedMs} ms")]
    public static partial void Applied(ILogger logger, string layer, string diffId, int entries, long bytes, long elapsedMs);

    [LoggerMessage(EventId = 1202, Level = LogLevel.Warning,
        Message = "Layer {Layer}: device node {Path} skipped: creating devices is not permitted here")]
    public static partial void DeviceSkipped(ILogger logger, string layer, string path);

    [LoggerMessage(EventId = 1203, Level = LogLevel.Debug, Message = "Layer {Layer}: xattr {Name} on {Path} refused (trusted.* is never taken from archives)")]
    public static partial void TrustedXattrRefused(ILogger logger, string layer, string path, string name);

    [LoggerMessage(EventId = 1204, Level = LogLevel.Debug, Message = "Layer {Layer}: xattr {Name} on {Path} not set: {Cause}")]
    public static partial void XattrIgnored(ILogger logger, string layer, string path, string name, string cause);

    [LoggerMessage(EventId = 1205, Level = LogLevel.Information,
        Message = "openat2 is unavailable (errno {Errno}); resolving layer paths component by component")]
    public static partial void Openat2Unavailable(ILogger logger, int errno);

    [LoggerMessage(EventId = 1206, Level = LogLevel.Debug, Message = "Layer {Layer}: whiteout removes {Path}")]
    public static partial void Whiteout(ILogger logger, string layer, string path);

    [LoggerMessage(EventId = 1207, Level = LogLevel.Debug, Message = "Layer {Layer}: opaque directory {Path}: {Removed} lower entries removed")]
    public static partial void Opaque(ILogger logger, string layer, string path, int removed);

    [LoggerMessage(EventId = 1208, Level = LogLevel.Debug, Message = "Layer {Layer}: entry {Path} ignored: {Cause}")]
    public static partial void EntryIgnored(ILogger logger, string layer, string path, string cause);
}
