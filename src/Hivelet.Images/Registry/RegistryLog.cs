using Microsoft.Extensions.Logging;

namespace Hivelet.Images.Registry;

/// <summary>Registry client log events, ids 1000-1099. URLs are logged without their query (pre-signed
/// storage URLs carry signatures there).</summary>
internal static partial class RegistryLog
{
    [LoggerMessage(1000, LogLevel.Debug, "{Method} {Url} -> {Status}")]
    public static partial void Response(ILogger logger, string method, string url, int status);

    [LoggerMessage(1001, LogLevel.Debug, "Fetched token for {Host} scopes [{Scopes}], valid {ExpiresIn}s")]
    public static partial void TokenFetched(ILogger logger, string host, string scopes, long expiresIn);

    [LoggerMessage(1002, LogLevel.Warning,
        "Not sending credentials for {Host} to token realm {Realm}: it is neither https nor on the registry host")]
    public static partial void CredentialsWithheld(ILogger logger, string host, string realm);

    [LoggerMessage(1003, LogLevel.Warning, "{Operation}: attempt {Attempt} failed ({Reason}), retrying in {DelayMs} ms")]
    public static partial void Retrying(ILogger logger, string operation, int attempt, string reason, long delayMs);

    [LoggerMessage(1004, LogLevel.Information, "Resuming blob {Digest} at byte {Offset}")]
    public static partial void Resuming(ILogger logger, string digest, long offset);

    [LoggerMessage(1005, LogLevel.Warning, "Registry ignored Range for blob {Digest}; downloading it from the start")]
    public static partial void RangeIgnored(ILogger logger, string digest);

    [LoggerMessage(1006, LogLevel.Debug, "Redirect from {From} to {To}")]
    public static partial void Redirect(ILogger logger, string from, string to);

    [LoggerMessage(1007, LogLevel.Debug, "Cached token for {Host} rejected; fetching a new one")]
    public static partial void TokenRejected(ILogger logger, string host);

    [LoggerMessage(1008, LogLevel.Debug, "Uploaded bytes {Start}-{End} of blob {Digest}")]
    public static partial void ChunkUploaded(ILogger logger, long start, long end, string digest);

    [LoggerMessage(1009, LogLevel.Information, "Mounted blob {Digest} from {From}")]
    public static partial void BlobMounted(ILogger logger, string digest, string from);

    [LoggerMessage(1010, LogLevel.Information, "Stored credentials for {Host}")]
    public static partial void CredentialsStored(ILogger logger, string host);

    [LoggerMessage(1011, LogLevel.Warning, "Registry warning from {Host}: {Text}")]
    public static partial void RegistryWarning(ILogger logger, string host, string text);
}
