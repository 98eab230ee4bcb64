using System.Net;
using Hivelet.Errors;

namespace Hivelet.Images.Registry;

/// <summary>
/// A registry said no, or could not be reached. The message is one plain line such as
/// "pull 127.0.0.1:5000/lab/x:nope: manifest unknown (MANIFEST_UNKNOWN)"; the properties let callers
/// react (retry, fall back) without parsing it.
/// </summary>
public sealed class RegistryException : HiveletException
{
    public RegistryException(string message, HttpStatusCode? status = null, string? errorCode = null,
        TimeSpan? retryAfter = null, bool isTransient = false, Exception? inner = null)
        : base(message, inner!)
    {
        StatusCode = status;
        ErrorCode = errorCode;
        RetryAfter = retryAfter;
        IsTransient = isTransient;
    }

    /// <summary>HTTP status, or null when no response arrived.</summary>
    public HttpStatusCode? StatusCode { get; }

    /// <summary>First distribution error code ("MANIFEST_UNKNOWN"), when the body had one.</summary>
    public string? ErrorCode { get; }

    public TimeSpan? RetryAfter { get; }

    /// <summary>Worth retrying: connection reset, timeout, 408, 429, 500, 502, 503, 504.</summary>
    public bool IsTransient { get; }
}
