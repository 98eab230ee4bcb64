using Hivelet.Errors;
using Hivelet.Images.Oci;
using Hivelet.Images.Registry;
using static Hivelet.Images.Tests.Registry.RegistryTestKit;

namespace Hivelet.Images.Tests.Registry;

/// <summary>A registry's upload side: sessions whose state changes with every PATCH, like distribution's _state.</summary>
internal sealed class UploadRegistry : IDisposable
{
    private readonly MemoryStream _received = new();
    private int _state;

    public UploadRegistry(bool absoluteLocations)
    {
        AbsoluteLocations = absoluteLocations;
        Server = new TestHttpServer(Handle);
    }

    public TestHttpServer Server { get; }
    public bool AbsoluteLocations { get; }
    public byte[] Received => _received.ToArray();
    public Digest? Stored { get; private set; }

    private string NextLocation()
    {
        var path = $"/upload/session-1?_state=s{++_state}";
        // Alternate forms when asked for absolute ones, as some registries and proxies mix them.
        return AbsoluteLocations && _state % 2 == 1 ? Server.BaseUrl + path : path;
    }

    private string CurrentTarget => $"/upload/session-1?_state=s{_state}";

    private TestResponse Handle(TestRequest r)
    {
        lock (_received)
        {
            if (r.Method == "POST" && r.Path == $"/v2/{Repo}/blobs/uploads/")
                return TestResponse.Of(202, ("Location", NextLocation()), ("Range", "0-0"));
            if (r.Method == "PATCH" && r.Target == CurrentTarget)
            {
                var range = r.Header("Content-Range")!.Split('-');
                if (long.Parse(range[0]) != _received.Length || long.Parse(range[1]) != _received.Length + r.Body.Length - 1)
                    return TestResponse.Of(416);
                _received.Write(r.Body);
                return TestResponse.Of(202, ("Location", NextLocation()), ("Range", $"0-{_received.Length - 1}"));
            }
            if (r.Method == "PUT" && r.Target.StartsWith(CurrentTarget + "&digest=", StringComparison.Ordinal))
            {
                _received.Write(r.Body);
                var want = Digest.Parse(r.QueryValues("digest").Single());
                if (Digest.ComputeSha256(_received.ToArray()) != want)
                    return TestResponse.Json(400, "{\"errors\":[{\"code\":\"DIGEST_INVALID\",\"message\":\"provided digest did not match uploaded content\"}]}");
                Stored = want;
                return TestResponse.Of(201, ("Location", $"/v2/{Repo}/blobs/{want}"), ("Docker-Content-Digest", want.ToString()));
            }
            return TestResponse.Json(404, "{\"errors\":[{\"code\":\"BLOB_UPLOAD_UNKNOWN\",\"message\":\"blob upload unknown to registry\"}]}");
        }
    }

    public void Dispose() => Server.Dispose();
}

public sealed class RegistryPushTests
{
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task MonolithicUploadPutsToTheLatestLocation(bool absolute)
    {
        var blob = RandomBlob(5000);
        using var reg = new UploadRegistry(absolute);
        using var factory = new RegistryClientFactory(null, FastOptions());

        await factory.Get(reg.Server.Authority).PushBlobAsync(Repo, BlobDescriptor(blob), () => new MemoryStream(blob));

        Assert.Equal(Digest.ComputeSha256(blob), reg.Stored);
        Assert.Equal(blob, reg.Received);
        Assert.Equal(["POST", "PUT"], reg.Server.Requests.Select(r => r.Method));
        Assert.Equal("application/octet-stream", reg.Server.Requests[1].Header("Content-Type"));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task ChunkedUploadFollowsEveryNewLocation(bool absolute)
    {
        var blob = RandomBlob(10_000);
        using var reg = new UploadRegistry(absolute);
        var options = new RegistryClientOptions { MonolithicUploadLimit = 1000, UploadChunkSize = 4000, InitialBackoff = TimeSpan.FromMilliseconds(5) };
        using var factory = new RegistryClientFactory(null, options);
        var reports = new List<long>();

        await factory.Get(reg.Server.Authority).PushBlobAsync(Repo, BlobDescriptor(blob), () => new MemoryStream(blob),
            new SyncProgress(reports));

        Assert.Equal(Digest.ComputeSha256(blob), reg.Stored);
        Assert.Equal(blob, reg.Received);
        Assert.Equal(["POST", "PATCH", "PATCH", "PATCH", "PUT"], reg.Server.Requests.Select(r => r.Method));
        Assert.Equal(["0-3999", "4000-7999", "8000-9999"],
            reg.Server.Requests.Where(r => r.Method == "PATCH").Select(r => r.Header("Content-Range")));
        Assert.Equal([4000L, 8000L, 10_000L], reports);
    }

    [Fact]
    public async Task ShortSourceIsRefusedBeforeTheFinalPut()
    {
        var blob = RandomBlob(10_000);
        using var reg = new UploadRegistry(false);
        var options = new RegistryClientOptions { MonolithicUploadLimit = 1000, UploadChunkSize = 4000 };
        using var factory = new RegistryClientFactory(null, options);

        await Assert.ThrowsAsync<DigestMismatchException>(() => factory.Get(reg.Server.Authority)
            .PushBlobAsync(Repo, BlobDescriptor(blob), () => new MemoryStream(blob[..9000])));

        Assert.Null(reg.Stored);
        Assert.DoesNotContain(reg.Server.Requests, r => r.Method == "PUT");
    }

    [Fact]
    public async Task CrossRepositoryMount()
    {
        var blob = RandomBlob(100);
        var digest = Digest.ComputeSha256(blob);
        using var server = new TestHttpServer(r => r.Method == "POST"
            ? TestResponse.Of(201, ("Location", $"/v2/{Repo}/blobs/{digest}"), ("Docker-Content-Digest", digest.ToString()))
            : TestResponse.Of(500));
        using var factory = new RegistryClientFactory(null, FastOptions());
        int opened = 0;

        await factory.Get(server.Authority).PushBlobAsync(Repo, BlobDescriptor(blob), () =>
        {
            opened++;
            return new MemoryStream(blob);
        }, mountFrom: "lab/other");

        var post = Assert.Single(server.Requests);
        Assert.Equal([digest.ToString()], post.QueryValues("mount"));
        Assert.Equal(["lab/other"], post.QueryValues("from"));
        Assert.Equal(0, opened);
    }

    [Fact]
    public async Task BlobExists()
    {
        var blob = RandomBlob(100);
        var digest = Digest.ComputeSha256(blob);
        using var server = new TestHttpServer(r => r.Path.EndsWith(digest.ToString(), StringComparison.Ordinal)
            ? new TestResponse { Body = blob, Headers = [new("Docker-Content-Digest", digest.ToString())] }
            : TestResponse.Of(404));
        using var factory = new RegistryClientFactory(null, FastOptions());
        var client = factory.Get(server.Authority);

        Assert.True(await client.BlobExistsAsync(Repo, digest));
        Assert.False(await client.BlobExistsAsync(Repo, Digest.ComputeSha256([1])));
        Assert.All(server.Requests, r => Assert.Equal("HEAD", r.Method));
    }

    [Fact]
    public async Task PutManifestSendsItsMediaTypeAndChecksTheDigest()
    {
        using var server = new TestHttpServer(r => TestResponse.Of(201,
            ("Docker-Content-Digest", Digest.ComputeSha256(r.Body).ToString())));
        using var factory = new RegistryClientFactory(null, FastOptions());

        var digest = await factory.Get(server.Authority).PutManifestAsync(Repo, "v1", Manifest, MediaTypes.OciManifest);

        var put = Assert.Single(server.Requests);
        Assert.Equal(ManifestDigest, digest);
        Assert.Equal($"/v2/{Repo}/manifests/v1", put.Path);
        Assert.Equal(MediaTypes.OciManifest, put.Header("Content-Type"));
        Assert.Equal(Manifest, put.Body);
    }

    [Fact]
    public async Task PutManifestRejectsADifferentServerDigest()
    {
        using var server = new TestHttpServer(_ => TestResponse.Of(201, ("Docker-Content-Digest", "sha256:" + new string('c', 64))));
        using var factory = new RegistryClientFactory(null, FastOptions());

        await Assert.ThrowsAsync<DigestMismatchException>(() =>
            factory.Get(server.Authority).PutManifestAsync(Repo, "v1", Manifest, MediaTypes.OciManifest));
    }

    [Theory]
    [InlineData("http://h/upload/1", "http://h/upload/1?digest=sha256%3A")]
    [InlineData("http://h/upload/1?_state=abc%3D", "http://h/upload/1?_state=abc%3D&digest=sha256%3A")]
    public void DigestIsAppendedToTheOpaqueLocation(string location, string prefix)
    {
        var d = Digest.ComputeSha256([]);
        Assert.Equal(prefix + d.Encoded, RegistryClient.WithDigest(new Uri(location), d).AbsoluteUri);
    }

    private sealed class SyncProgress(List<long> into) : IProgress<long>
    {
        public void Report(long value)
        {
            lock (into)
                into.Add(value);
        }
    }
}
