using Microsoft.Extensions.Logging;

namespace Hivelet.Images.Archives;

/// <summary>Log messages of image archive load and save (event ids 1500-1599).</summary>
internal static partial class ArchiveLog
{
    [LoggerMessage(1500, LogLevel.Information, "Reading image archive {Archive} ({Compression})")]
    public static partial void ReadStarted(ILogger logger, string archive, string compression);

    [LoggerMessage(1501, LogLevel.Debug, "Archive entry {Path}: stored as blob {Digest} ({Size} bytes)")]
    public static partial void BlobIngested(ILogger logger, string path, string digest, long size);

    [LoggerMessage(1502, LogLevel.Debug, "Archive entry {Path}: blob {Digest} already in the content store")]
    public static partial void BlobPresent(ILogger logger, string path, string digest);

    [LoggerMessage(1503, LogLevel.Debug, "Archive entry {Path} ignored")]
    public static partial void EntryIgnored(ILogger logger, string path);

    [LoggerMessage(1504, LogLevel.Information, "Archive {Archive} read: {Files} files, {Links} links, format {Format}")]
    public static partial void ReadDone(ILogger logger, string archive, int files, int links, string format);

    [LoggerMessage(1505, LogLevel.Information, "Platform {Platform} chosen from index {Digest}")]
    public static partial void PlatformChosen(ILogger logger, string platform, string digest);

    [LoggerMessage(1506, LogLevel.Warning, "Index {Digest} has no manifest for {Host}; loading {Platform} instead")]
    public static partial void ForeignPlatform(ILogger logger, string digest, string host, string platform);

    [LoggerMessage(1507, LogLevel.Debug, "Index entry {Digest} of media type {MediaType} skipped")]
    public static partial void EntrySkipped(ILogger logger, string digest, string mediaType);

    [LoggerMessage(1510, LogLevel.Warning, "Archive {Archive}: index.json unusable ({Reason}); using manifest.json")]
    public static partial void IndexUnusable(ILogger logger, string archive, string reason);

    [LoggerMessage(1508, LogLevel.Information, "Loaded image {Name} ({Id}) from {Archive}")]
    public static partial void Loaded(ILogger logger, string name, string id, string archive);

    [LoggerMessage(1509, LogLevel.Information, "Loaded {Count} images from {Archive} in {Milliseconds} ms")]
    public static partial void LoadDone(ILogger logger, int count, string archive, long milliseconds);

    [LoggerMessage(1520, LogLevel.Debug, "Saving blob {Digest} ({Size} bytes)")]
    public static partial void BlobSaved(ILogger logger, string digest, long size);

    [LoggerMessage(1521, LogLevel.Information, "Saved {Count} images to {Archive} in {Milliseconds} ms")]
    public static partial void SaveDone(ILogger logger, int count, string archive, long milliseconds);
}
