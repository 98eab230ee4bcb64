using System.Text;
using Hivelet.Images.Oci;
using Hivelet.Images.Registry;
using Hivelet.Images.Registry.Credentials;

namespace Hivelet.Images.Tests.Registry;

/// <summary>A clock that moves only when told to, for token expiry.</summary>
public sealed class ManualTime : TimeProvider
{
    private DateTimeOffset _now = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);

    public override DateTimeOffset GetUtcNow() => _now;

    public void Advance(TimeSpan by) => _now += by;
}

/// <summary>Credentials held in memory, for tests that do not care about files.</summary>
public sealed class MemoryCredentials : ICredentialStore
{
    private readonly Dictionary<string, RegistryCredential> _map = new(StringComparer.OrdinalIgnoreCase);

    public RegistryCredential? Get(string registry) => _map.TryGetValue(registry, out var c) ? c : null;

    public void Store(string registry, RegistryCredential credential) => _map[registry] = credential;

    public bool Erase(string registry) => _map.Remove(registry);
}

public static class RegistryTestKit
{
    public const string Repo = "lab/x";

    public static readonly byte[] Manifest = Encoding.UTF8.GetBytes(
        "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\"," +
        "\"config\":{\"mediaType\":\"application/vnd.oci.image.config.v1+json\",\"digest\":\"sha256:" + new string('a', 64) + "\",\"size\":2}," +
        "\"layers\":[]}");

    public static Digest ManifestDigest => Digest.ComputeSha256(Manifest);

    /// <summary>Options with tiny delays so retry tests run in milliseconds.</summary>
    public static RegistryClientOptions FastOptions(TimeProvider? time = null) => new()
    {
        InitialBackoff = TimeSpan.FromMilliseconds(5),
        MaxBackoff = TimeSpan.FromMilliseconds(50),
        MaxRetryAfter = TimeSpan.FromSeconds(5),
        StallTimeout = TimeSpan.FromMilliseconds(500),
        RequestTimeout = TimeSpan.FromSeconds(10),
        TimeProvider = time ?? TimeProvider.System,
    };

    public static byte[] RandomBlob(int size)
    {
        var b = new byte[size];
        new Random(size).NextBytes(b);
        return b;
    }

    public static Descriptor BlobDescriptor(byte[] blob) => new()
    {
        MediaType = MediaTypes.OciLayerGzip,
        Digest = Digest.ComputeSha256(blob).ToString(),
        Size = blob.Length,
    };

    public static TestResponse ManifestResponse(byte[]? body = null, string? digestHeader = null)
    {
        body ??= Manifest;
        var headers = new List<KeyValuePair<string, string>>
        {
            new("Content-Type", MediaTypes.OciManifest + "; charset=utf-8"),
            new("Docker-Content-Digest", digestHeader ?? Digest.ComputeSha256(body).ToString()),
        };
        return new TestResponse { Body = body, Headers = headers };
    }

    /// <summary>Serves Range: bytes=N- with a 206, everything else with a 200.</summary>
    public static TestResponse BlobResponse(byte[] blob, TestRequest r, int? dropAfter = null, int? stallAfter = null)
    {
        var range = r.Header("Range");
        if (range is not null && range.StartsWith("bytes=", StringComparison.Ordinal) && range.EndsWith('-'))
        {
            int from = int.Parse(range[6..^1]);
            return new TestResponse
            {
                Status = 206,
                Body = blob[from..],
                Headers = [new("Content-Range", $"bytes {from}-{blob.Length - 1}/{blob.Length}")],
                DropAfter = dropAfter,
                StallAfter = stallAfter,
            };
        }
        return new TestResponse { Body = blob, DropAfter = dropAfter, StallAfter = stallAfter };
    }
}
