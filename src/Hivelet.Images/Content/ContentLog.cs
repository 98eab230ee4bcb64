using Microsoft.Extensions.Logging;

namespace Hivelet.Images.Content;

/// <summary>Log messages of the content store, image records and GC (event ids 1100-1199).</summary>
internal static partial class ContentLog
{
    [LoggerMessage(EventId = 1100, Level = LogLevel.Debug, Message = "Ingest of {Digest} started")]
    public static partial void IngestStarted(this ILogger logger, string digest);

    [LoggerMessage(EventId = 1101, Level = LogLevel.Information, Message = "Ingest of {Digest} resumed at {Offset} of {Size} bytes")]
    public static partial void IngestResumed(this ILogger logger, string digest, long offset, long size);

    [LoggerMessage(EventId = 1102, Level = LogLevel.Warning, Message = "Partial data of {Digest} is {Offset} bytes, more than the expected {Size}: discarded")]
    public static partial void OversizedPartialDiscarded(this ILogger logger, string digest, long offset, long size);

    [LoggerMessage(EventId = 1103, Level = LogLevel.Debug, Message = "Committed blob {Digest} ({Size} bytes)")]
    public static partial void BlobCommitted(this ILogger logger, string digest, long size);

    [LoggerMessage(EventId = 1104, Level = LogLevel.Debug, Message = "Blob {Digest} already present: ingest dropped")]
    public static partial void BlobAlreadyPresent(this ILogger logger, string digest);

    [LoggerMessage(EventId = 1105, Level = LogLevel.Information, Message = "Ingest of {Digest} failed verification (got {Actual}): partial data removed")]
    public static partial void IngestDigestMismatch(this ILogger logger, string digest, string actual);

    [LoggerMessage(EventId = 1106, Level = LogLevel.Debug, Message = "Deleted blob {Digest}")]
    public static partial void BlobDeleted(this ILogger logger, string digest);

    [LoggerMessage(EventId = 1107, Level = LogLevel.Warning, Message = "Blob {Digest} committed, but removing its ingest failed: {Reason}")]
    public static partial void IngestCleanupFailed(this ILogger logger, string digest, string reason);

    [LoggerMessage(EventId = 1110, Level = LogLevel.Warning, Message = "Repair removed {Path}: {Reason}")]
    public static partial void RepairRemoved(this ILogger logger, string path, string reason);

    [LoggerMessage(EventId = 1111, Level = LogLevel.Information, Message = "Content repair: {Temps} temp files, {Invalid} invalid blobs, {Ingests} dead ingests removed; {Kept} partial ingests kept")]
    public static partial void RepairDone(this ILogger logger, int temps, int invalid, int ingests, int kept);

    [LoggerMessage(EventId = 1120, Level = LogLevel.Information, Message = "Recorded image {Name} -> {Digest}")]
    public static partial void ImageRecorded(this ILogger logger, string name, string digest);

    [LoggerMessage(EventId = 1121, Level = LogLevel.Information, Message = "Deleted image record {Name}")]
    public static partial void ImageRecordDeleted(this ILogger logger, string name);

    [LoggerMessage(EventId = 1123, Level = LogLevel.Information, Message = "Image record {Name} moved to another image; its old image stays as {KeptAs}")]
    public static partial void ImageKeptUnnamed(this ILogger logger, string name, string keptAs);

    [LoggerMessage(EventId = 1122, Level = LogLevel.Warning, Message = "Skipping unreadable image record {Path}: {Reason}")]
    public static partial void ImageRecordUnreadable(this ILogger logger, string path, string reason);

    [LoggerMessage(EventId = 1130, Level = LogLevel.Information, Message = "GC started (dry run: {DryRun})")]
    public static partial void GcStarted(this ILogger logger, bool dryRun);

    [LoggerMessage(EventId = 1131, Level = LogLevel.Debug, Message = "GC removed blob {Digest} ({Size} bytes)")]
    public static partial void GcBlobRemoved(this ILogger logger, string digest, long size);

    [LoggerMessage(EventId = 1132, Level = LogLevel.Warning, Message = "GC could not parse {Digest} as {MediaType}: {Reason}; kept as a leaf")]
    public static partial void GcUnparsable(this ILogger logger, string digest, string mediaType, string reason);

    [LoggerMessage(EventId = 1133, Level = LogLevel.Information, Message = "GC done: {Removed} of {Scanned} blobs removed, {Bytes} bytes freed, {Chains} live layer chains, dry run {DryRun}")]
    public static partial void GcDone(this ILogger logger, int removed, int scanned, long bytes, int chains, bool dryRun);

    [LoggerMessage(EventId = 1134, Level = LogLevel.Debug, Message = "GC removed snapshot {ChainId}")]
    public static partial void GcSnapshotRemoved(this ILogger logger, string chainId);
}
