using Microsoft.Extensions.Logging;

namespace Hivelet.Images.Platforms;

/// <summary>Log events of references, platforms and manifest documents: ids 1600-1699.</summary>
internal static partial class PlatformLog
{
    [LoggerMessage(EventId = 1600, Level = LogLevel.Debug,
        Message = "Host platform is {Platform} (cpuinfo read: {CpuInfoRead})")]
    public static partial void HostPlatformDetected(ILogger logger, string platform, bool cpuInfoRead);

    [LoggerMessage(EventId = 1601, Level = LogLevel.Debug,
        Message = "Selected {Digest} ({Candidate}) for platform {Platform}")]
    public static partial void Selected(ILogger logger, string digest, string candidate, string platform);

    [LoggerMessage(EventId = 1602, Level = LogLevel.Debug,
        Message = "Skipping index entry {Digest}: unsupported media type {MediaType}")]
    public static partial void SkippedMediaType(ILogger logger, string digest, string mediaType);

    [LoggerMessage(EventId = 1603, Level = LogLevel.Debug,
        Message = "Skipping index entry {Digest}: attestation or other non-runnable manifest")]
    public static partial void SkippedAttestation(ILogger logger, string digest);

    [LoggerMessage(EventId = 1604, Level = LogLevel.Information,
        Message = "No index entry names platform {Platform}; using {Digest}, which names no platform")]
    public static partial void UsingEntryWithoutPlatform(ILogger logger, string platform, string digest);

    [LoggerMessage(EventId = 1605, Level = LogLevel.Debug,
        Message = "Using {Candidate} image {Digest} on {Platform} host (fallback rank {Rank})")]
    public static partial void Fallback(ILogger logger, string candidate, string digest, string platform, int rank);
}
