using System.Net.Sockets;
using System.Text;
using Hivelet.Errors;
using Hivelet.Images.Oci;
using Hivelet.Images.Registry;
using static Hivelet.Images.Tests.Registry.RegistryTestKit;

namespace Hivelet.Images.Tests.Registry;

public sealed class RegistryManifestTests
{
    [Fact]
    public async Task SendsAllFourManifestTypesInAccept()
    {
        using var server = new TestHttpServer(_ => ManifestResponse());
        using var factory = new RegistryClientFactory(null, FastOptions());

        var m = await factory.Get(server.Authority).GetManifestAsync(Repo, "latest");

        var accept = Assert.Single(server.Requests).Header("Accept")!;
        foreach (var type in new[] { MediaTypes.OciIndex, MediaTypes.DockerManifestList, MediaTypes.OciManifest, MediaTypes.DockerManifest })
            Assert.Contains(type, accept, StringComparison.Ordinal);
        Assert.Equal(MediaTypes.OciManifest, m.MediaType);
        Assert.Equal(Manifest.Length, m.ToDescriptor().Size);
    }

    [Fact]
    public async Task ByDigestVerifiesTheContentNotTheHeader()
    {
        var tampered = Encoding.UTF8.GetBytes(Encoding.UTF8.GetString(Manifest).Replace("\"layers\":[]", "\"layers\":[ ]", StringComparison.Ordinal));
        // The header repeats the digest asked for, as a lying registry would.
        using var server = new TestHttpServer(_ => ManifestResponse(tampered, ManifestDigest.ToString()));
        using var factory = new RegistryClientFactory(null, FastOptions());

        var e = await Assert.ThrowsAsync<DigestMismatchException>(() =>
            factory.Get(server.Authority).GetManifestAsync(Repo, ManifestDigest.ToString()));

        Assert.StartsWith($"pull {server.Authority}/{Repo}@{ManifestDigest}: ", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ByDigestAcceptsMatchingContent()
    {
        using var server = new TestHttpServer(_ => ManifestResponse());
        using var factory = new RegistryClientFactory(null, FastOptions());

        var m = await factory.Get(server.Authority).GetManifestAsync(Repo, ManifestDigest.ToString());

        Assert.Equal(ManifestDigest, m.Digest);
        Assert.Equal($"/v2/{Repo}/manifests/{ManifestDigest}", server.Requests[0].Path);
    }

    [Fact]
    public async Task ByTagComparesWithDockerContentDigest()
    {
        using var server = new TestHttpServer(_ => ManifestResponse(digestHeader: "sha256:" + new string('b', 64)));
        using var factory = new RegistryClientFactory(null, FastOptions());

        var e = await Assert.ThrowsAsync<DigestMismatchException>(() => factory.Get(server.Authority).GetManifestAsync(Repo, "latest"));
        Assert.Contains("Docker-Content-Digest", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task BodyMediaTypeMustAgreeWithContentType()
    {
        using var server = new TestHttpServer(_ => new TestResponse
        {
            Body = Manifest,
            Headers = [new("Content-Type", MediaTypes.OciIndex)],
        });
        using var factory = new RegistryClientFactory(null, FastOptions());

        var e = await Assert.ThrowsAsync<RegistryException>(() => factory.Get(server.Authority).GetManifestAsync(Repo, "latest"));
        Assert.Contains("mediaType", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task OversizedManifestIsRefused()
    {
        var huge = new byte[RegistryClient.MaxManifestSize + 10];
        using var server = new TestHttpServer(_ => new TestResponse { Body = huge, Headers = [new("Content-Type", MediaTypes.OciManifest)] });
        using var factory = new RegistryClientFactory(null, FastOptions());

        var e = await Assert.ThrowsAsync<RegistryException>(() => factory.Get(server.Authority).GetManifestAsync(Repo, "latest"));
        Assert.Contains("larger than", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task UnknownTagMapsTheErrorBody()
    {
        using var server = new TestHttpServer(_ => TestResponse.Json(404,
            "{\"errors\":[{\"code\":\"MANIFEST_UNKNOWN\",\"message\":\"manifest unknown\",\"detail\":{\"Tag\":\"nope\"}}]}"));
        using var factory = new RegistryClientFactory(null, FastOptions());

        var e = await Assert.ThrowsAsync<RegistryException>(() => factory.Get(server.Authority).GetManifestAsync("lab/x", "nope"));

        Assert.Equal($"pull {server.Authority}/lab/x:nope: manifest unknown (MANIFEST_UNKNOWN)", e.Message);
        Assert.Equal("MANIFEST_UNKNOWN", e.ErrorCode);
    }

    [Fact]
    public async Task DeniedMapsTheErrorBody()
    {
        using var server = new TestHttpServer(_ => TestResponse.Json(403,
            "{\"errors\":[{\"code\":\"DENIED\",\"message\":\"requested access to the resource is denied\"}]}"));
        using var factory = new RegistryClientFactory(null, FastOptions());

        var e = await Assert.ThrowsAsync<RegistryException>(() => factory.Get(server.Authority).GetManifestAsync("lab/x", "latest"));

        Assert.Equal($"pull {server.Authority}/lab/x:latest: denied: requested access to the resource is denied", e.Message);
    }

    [Fact]
    public async Task ServiceUnavailableThenSuccess()
    {
        int calls = 0;
        using var server = new TestHttpServer(_ => Interlocked.Increment(ref calls) == 1 ? TestResponse.Of(503) : ManifestResponse());
        using var factory = new RegistryClientFactory(null, FastOptions());

        var m = await factory.Get(server.Authority).GetManifestAsync(Repo, "latest");

        Assert.Equal(ManifestDigest, m.Digest);
        Assert.Equal(2, server.Requests.Count);
    }

    [Fact]
    public async Task StalledOrDroppedManifestBodyIsRetried()
    {
        int calls = 0;
        using var server = new TestHttpServer(_ => Interlocked.Increment(ref calls) switch
        {
            1 => new TestResponse { Body = Manifest, StallAfter = 10, Headers = [new("Content-Type", MediaTypes.OciManifest)] },
            2 => new TestResponse { Body = Manifest, DropAfter = 10, Headers = [new("Content-Type", MediaTypes.OciManifest)] },
            _ => ManifestResponse(),
        });
        var options = new RegistryClientOptions { RequestTimeout = TimeSpan.FromMilliseconds(400), InitialBackoff = TimeSpan.FromMilliseconds(5) };
        using var factory = new RegistryClientFactory(null, options);

        var m = await factory.Get(server.Authority).GetManifestAsync(Repo, "latest");

        Assert.Equal(ManifestDigest, m.Digest);
        Assert.Equal(3, server.Requests.Count);
    }

    [Fact]
    public async Task HeadGivesTheDescriptorOrNull()
    {
        using var server = new TestHttpServer(r => r.Path.EndsWith("/missing", StringComparison.Ordinal)
            ? TestResponse.Of(404)
            : ManifestResponse());
        using var factory = new RegistryClientFactory(null, FastOptions());
        var client = factory.Get(server.Authority);

        var d = await client.HeadManifestAsync(Repo, "latest");
        Assert.Null(await client.HeadManifestAsync(Repo, "missing"));

        Assert.NotNull(d);
        Assert.Equal(ManifestDigest.ToString(), d.Digest);
        Assert.Equal(Manifest.Length, d.Size);
        Assert.Equal(MediaTypes.OciManifest, d.MediaType);
        Assert.All(server.Requests, r => Assert.Equal("HEAD", r.Method));
    }

    [Fact]
    public async Task HeadWithoutDigestFallsBackToGet()
    {
        using var server = new TestHttpServer(r => r.Method == "HEAD"
            ? new TestResponse { Body = Manifest, Headers = [new("Content-Type", MediaTypes.OciManifest)] }
            : ManifestResponse());
        using var factory = new RegistryClientFactory(null, FastOptions());

        var d = await factory.Get(server.Authority).HeadManifestAsync(Repo, "latest");

        Assert.Equal(ManifestDigest.ToString(), d?.Digest);
        Assert.Equal(["HEAD", "GET"], server.Requests.Select(r => r.Method));
    }

    [Fact]
    public async Task PingAcceptsV2AndRejectsOthers()
    {
        using var good = new TestHttpServer(_ => TestResponse.Json(200, "{}"));
        using var notV2 = new TestHttpServer(_ => TestResponse.Of(404));
        using var factory = new RegistryClientFactory(null, FastOptions());

        await factory.Get(good.Authority).PingAsync();
        var e = await Assert.ThrowsAsync<RegistryException>(() => factory.Get(notV2.Authority).PingAsync());

        Assert.Equal("/v2/", good.Requests[0].Path);
        Assert.Contains("not a registry v2 endpoint", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task DeadRegistryIsNotReachable()
    {
        var listener = new TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        int port = ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        using var factory = new RegistryClientFactory(null, FastOptions());

        var e = await Assert.ThrowsAsync<RegistryException>(() => factory.Get($"127.0.0.1:{port}").PingAsync());

        Assert.Equal($"registry 127.0.0.1:{port} is not reachable: Connection refused", e.Message);
        Assert.False(e.IsTransient);
    }

    [Theory]
    [InlineData("../etc", "latest")]
    [InlineData("lab/x", "../../v2")]
    [InlineData("lab//x", "latest")]
    [InlineData("Lab/x", "latest")]
    [InlineData("lab/x", "tag?x=1")]
    [InlineData("lab/x", "sha256:abc")]
    public async Task HostileNamesNeverReachTheWire(string repository, string reference)
    {
        using var server = new TestHttpServer(_ => ManifestResponse());
        using var factory = new RegistryClientFactory(null, FastOptions());

        await Assert.ThrowsAsync<InvalidInputException>(() => factory.Get(server.Authority).GetManifestAsync(repository, reference));
        Assert.Empty(server.Requests);
    }

    [Fact]
    public async Task TagsFollowLinkPages()
    {
        using var server = new TestHttpServer(r => r.Query switch
        {
            "" => TestResponse.Json(200, "{\"name\":\"lab/x\",\"tags\":[\"b\",\"a\"]}",
                ("Link", $"</v2/{Repo}/tags/list?n=2&last=a>; rel=\"next\"")),
            "n=2&last=a" => TestResponse.Json(200, "{\"name\":\"lab/x\",\"tags\":[\"c\"]}",
                ("Link", $"<http://{r.Header("Host")}/v2/{Repo}/tags/list?n=2&last=c>; rel=\"next\"")),
            _ => TestResponse.Json(200, "{\"name\":\"lab/x\",\"tags\":[\"d\"]}"),
        });
        using var factory = new RegistryClientFactory(null, FastOptions());

        var tags = await factory.Get(server.Authority).ListTagsAsync(Repo);

        Assert.Equal(["b", "a", "c", "d"], tags);
        Assert.Equal(3, server.Requests.Count);
    }

    [Fact]
    public async Task EndlessTagPagesAreBounded()
    {
        int page = 0;
        using var server = new TestHttpServer(_ => TestResponse.Json(200, "{\"tags\":[\"t\"]}",
            ("Link", $"</v2/{Repo}/tags/list?last={Interlocked.Increment(ref page)}>; rel=\"next\"")));
        using var factory = new RegistryClientFactory(null, FastOptions());

        await Assert.ThrowsAsync<RegistryException>(() => factory.Get(server.Authority).ListTagsAsync(Repo));
        Assert.Equal(100, server.Requests.Count);
    }
}
