namespace Hivelet.Images.Registry;

/// <summary>Knobs of the registry client; defaults suit a board on a slow link.</summary>
public sealed class RegistryClientOptions
{
    /// <summary>Registries ("host:port" or "host") reached over plain http besides loopback.</summary>
    public ISet<string> InsecureRegistries { get; init; } = new HashSet<string>(StringComparer.OrdinalIgnoreCase);

    /// <summary>Attempts per operation for transient failures (connection reset, 5xx, 429...).</summary>
    public int MaxAttempts { get; init; } = 5;

    /// <summary>First backoff delay; doubled each attempt, capped by <see cref="MaxBackoff"/>.</summary>
    public TimeSpan InitialBackoff { get; init; } = TimeSpan.FromMilliseconds(500);

    public TimeSpan MaxBackoff { get; init; } = TimeSpan.FromSeconds(15);

    /// <summary>Longest Retry-After we honour; a registry asking for more makes the operation fail.</summary>
    public TimeSpan MaxRetryAfter { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>Connection setup, and waiting for response headers.</summary>
    public TimeSpan RequestTimeout { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>No body bytes for this long counts as a transient failure.</summary>
    public TimeSpan StallTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Blobs up to this size are pushed in one PUT; larger ones in PATCH chunks.</summary>
    public long MonolithicUploadLimit { get; init; } = 32L * 1024 * 1024;

    public int UploadChunkSize { get; init; } = 8 * 1024 * 1024;

    public string UserAgent { get; init; } = "hivelet";

    /// <summary>Per-registry CAs and client certificates (certs.d directories).</summary>
    public Tls.RegistryTrust Trust { get; init; } = new();

    /// <summary>Clock for token expiry; tests move it.</summary>
    public TimeProvider TimeProvider { get; init; } = TimeProvider.System;
}
