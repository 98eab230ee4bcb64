using System.Diagnostics;
using Hivelet.Errors;
using Hivelet.Images.Oci;
using Hivelet.Images.Registry;
using static Hivelet.Images.Tests.Registry.RegistryTestKit;

namespace Hivelet.Images.Tests.Registry;

public sealed class RegistryBlobTests
{
    private static async Task<InMemoryContentStore> FetchAsync(string authority, byte[] blob, RegistryClientOptions? options = null,
        InMemoryContentStore? store = null, IProgress<long>? progress = null)
    {
        store ??= new InMemoryContentStore();
        using var factory = new RegistryClientFactory(null, options ?? FastOptions());
        var desc = BlobDescriptor(blob);
        using var writer = store.OpenWriter(desc.ParsedDigest(), desc.Size);
        await factory.Get(authority).FetchBlobAsync(Repo, desc, writer, progress);
        return store;
    }

    [Fact]
    public async Task DownloadsAndCommits()
    {
        var blob = RandomBlob(300_000);
        using var server = new TestHttpServer(r => BlobResponse(blob, r));
        var reports = new List<long>();

        var store = await FetchAsync(server.Authority, blob, progress: new SyncProgress(reports));

        Assert.True(store.Exists(Digest.ComputeSha256(blob)));
        Assert.Equal($"/v2/{Repo}/blobs/{Digest.ComputeSha256(blob)}", Assert.Single(server.Requests).Path);
        Assert.Equal(blob.Length, reports[^1]);
    }

    [Fact]
    public async Task DroppedConnectionIsResumedWithRange()
    {
        var blob = RandomBlob(400_000);
        int calls = 0;
        using var server = new TestHttpServer(r => Interlocked.Increment(ref calls) == 1
            ? BlobResponse(blob, r, dropAfter: 150_000)
            : BlobResponse(blob, r));

        var store = await FetchAsync(server.Authority, blob);

        Assert.True(store.Exists(Digest.ComputeSha256(blob)));
        Assert.Equal(2, server.Requests.Count);
        Assert.Null(server.Requests[0].Header("Range"));
        var range = server.Requests[1].Header("Range");
        Assert.NotNull(range);
        int from = int.Parse(range["bytes=".Length..^1]);
        Assert.InRange(from, 1, 150_000);
        Assert.Equal(150_000 + blob.Length - from, server.BodyBytesSent);
        Assert.True(server.BodyBytesSent < 2L * blob.Length);
        Assert.Equal(0, store.TruncateCount);
    }

    [Fact]
    public async Task PartialDataFromAnEarlierRunIsResumed()
    {
        var blob = RandomBlob(100_000);
        using var server = new TestHttpServer(r => BlobResponse(blob, r));
        var store = new InMemoryContentStore();
        store.Partial[Digest.ComputeSha256(blob)] = blob[..60_000];

        await FetchAsync(server.Authority, blob, store: store);

        Assert.Equal("bytes=60000-", Assert.Single(server.Requests).Header("Range"));
        Assert.Equal(40_000, server.BodyBytesSent);
        Assert.True(store.Exists(Digest.ComputeSha256(blob)));
    }

    [Fact]
    public async Task ServerIgnoringRangeRestartsFromZero()
    {
        var blob = RandomBlob(200_000);
        int calls = 0;
        using var server = new TestHttpServer(r => Interlocked.Increment(ref calls) == 1
            ? new TestResponse { Body = blob, DropAfter = 50_000 }
            : new TestResponse { Body = blob });

        var store = await FetchAsync(server.Authority, blob);

        Assert.True(store.Exists(Digest.ComputeSha256(blob)));
        Assert.NotNull(server.Requests[1].Header("Range"));
        Assert.Equal(1, store.TruncateCount);
    }

    [Fact]
    public async Task StalledDownloadCountsAsTransientAndResumes()
    {
        var blob = RandomBlob(100_000);
        int calls = 0;
        using var server = new TestHttpServer(r => Interlocked.Increment(ref calls) == 1
            ? BlobResponse(blob, r, stallAfter: 30_000)
            : BlobResponse(blob, r));
        var options = FastOptions();

        var sw = Stopwatch.StartNew();
        var store = await FetchAsync(server.Authority, blob, options);

        Assert.True(store.Exists(Digest.ComputeSha256(blob)));
        Assert.Equal("bytes=30000-", server.Requests[1].Header("Range"));
        Assert.True(sw.Elapsed >= options.StallTimeout * 0.9, $"took {sw.Elapsed}");
    }

    [Fact]
    public async Task RedirectToAnotherHostCarriesNoAuthorization()
    {
        var blob = RandomBlob(50_000);
        using var storage = new TestHttpServer(r => BlobResponse(blob, r), "127.0.0.2");
        TestHttpServer registry = null!;
        registry = new TestHttpServer(r =>
        {
            if (r.Path == "/token")
                return TestResponse.Json(200, "{\"token\":\"reg-token\"}");
            if (r.Header("Authorization") != "Bearer reg-token")
            {
                return TestResponse.Json(401, "{}",
                    ("WWW-Authenticate", $"Bearer realm=\"{registry.BaseUrl}/token\",service=\"lab\",scope=\"repository:{Repo}:pull\""));
            }
            // Relative first hop on the registry itself, then off to the storage host.
            return r.Path.StartsWith("/v2/", StringComparison.Ordinal)
                ? TestResponse.Of(307, ("Location", "/internal/blob"))
                : TestResponse.Of(307, ("Location", $"{storage.BaseUrl}/signed/blob?sig=abc"));
        });
        using (registry)
        {
            var store = await FetchAsync(registry.Authority, blob);

            Assert.True(store.Exists(Digest.ComputeSha256(blob)));
            Assert.Equal("Bearer reg-token", registry.Requests.Single(r => r.Path == "/internal/blob").Header("Authorization"));
            var atStorage = Assert.Single(storage.Requests);
            Assert.Equal("/signed/blob?sig=abc", atStorage.Target);
            Assert.Equal("127.0.0.2", atStorage.LocalAddress);
            Assert.Null(atStorage.Header("Authorization"));
        }
    }

    [Fact]
    public async Task RedirectLoopsAreBounded()
    {
        using var server = new TestHttpServer(r => TestResponse.Of(302, ("Location", r.Path + "x")));
        var e = await Assert.ThrowsAsync<RegistryException>(() => FetchAsync(server.Authority, RandomBlob(10)));
        Assert.Contains("more than 10 redirects", e.Message, StringComparison.Ordinal);
        Assert.Equal(11, server.Requests.Count);
    }

    [Fact]
    public async Task WrongBytesAreADigestMismatchAndNothingIsCommitted()
    {
        var blob = RandomBlob(10_000);
        var wrong = RandomBlob(10_001)[..10_000];
        using var server = new TestHttpServer(r => BlobResponse(wrong, r));

        var store = new InMemoryContentStore();
        var e = await Assert.ThrowsAsync<DigestMismatchException>(() => FetchAsync(server.Authority, blob, store: store));

        Assert.Contains(Digest.ComputeSha256(blob).ToString(), e.Message, StringComparison.Ordinal);
        Assert.StartsWith($"pull {server.Authority}/{Repo}@", e.Message, StringComparison.Ordinal);
        Assert.Empty(store.List());
    }

    [Fact]
    public async Task MoreBytesThanTheDescriptorSaysIsAMismatch()
    {
        var blob = RandomBlob(10_000);
        using var server = new TestHttpServer(r => new TestResponse { Body = [.. blob, 1, 2, 3] });
        var store = new InMemoryContentStore();

        await Assert.ThrowsAsync<DigestMismatchException>(() => FetchAsync(server.Authority, blob, store: store));

        Assert.Empty(store.List());
        Assert.Single(server.Requests);
    }

    [Fact]
    public async Task ServiceUnavailableThenSuccess()
    {
        var blob = RandomBlob(1000);
        int calls = 0;
        using var server = new TestHttpServer(r => Interlocked.Increment(ref calls) <= 2
            ? TestResponse.Json(503, "{\"errors\":[{\"code\":\"UNAVAILABLE\",\"message\":\"try later\"}]}")
            : BlobResponse(blob, r));

        var store = await FetchAsync(server.Authority, blob);

        Assert.True(store.Exists(Digest.ComputeSha256(blob)));
        Assert.Equal(3, server.Requests.Count);
    }

    [Fact]
    public async Task TooManyRequestsWaitsForRetryAfter()
    {
        var blob = RandomBlob(1000);
        int calls = 0;
        using var server = new TestHttpServer(r => Interlocked.Increment(ref calls) == 1
            ? TestResponse.Json(429, "{\"errors\":[{\"code\":\"TOOMANYREQUESTS\",\"message\":\"slow down\"}]}", ("Retry-After", "1"))
            : BlobResponse(blob, r));

        var sw = Stopwatch.StartNew();
        var store = await FetchAsync(server.Authority, blob);

        Assert.True(store.Exists(Digest.ComputeSha256(blob)));
        Assert.True(sw.Elapsed >= TimeSpan.FromMilliseconds(950), $"took {sw.Elapsed}");
    }

    [Fact]
    public async Task RetryAfterBeyondTheCapFailsAtOnce()
    {
        using var server = new TestHttpServer(_ => TestResponse.Of(429, ("Retry-After", "30")));

        var e = await Assert.ThrowsAsync<RegistryException>(() => FetchAsync(server.Authority, RandomBlob(10)));

        Assert.EndsWith("toomanyrequests: rate limited, retry after 30s", e.Message, StringComparison.Ordinal);
        Assert.Single(server.Requests);
    }

    [Fact]
    public async Task PersistentFailureGivesUpAfterMaxAttempts()
    {
        using var server = new TestHttpServer(_ => TestResponse.Of(502));

        var e = await Assert.ThrowsAsync<RegistryException>(() => FetchAsync(server.Authority, RandomBlob(10)));

        Assert.Equal(5, server.Requests.Count);
        Assert.Contains("502", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task UnknownBlobIsNotRetried()
    {
        using var server = new TestHttpServer(_ =>
            TestResponse.Json(404, "{\"errors\":[{\"code\":\"BLOB_UNKNOWN\",\"message\":\"blob unknown to registry\",\"detail\":\"sha256:x\"}]}"));
        var blob = RandomBlob(10);

        var e = await Assert.ThrowsAsync<RegistryException>(() => FetchAsync(server.Authority, blob));

        Assert.Equal($"pull {server.Authority}/{Repo}@{Digest.ComputeSha256(blob)}: blob unknown to registry (BLOB_UNKNOWN)", e.Message);
        Assert.Single(server.Requests);
    }

    /// <summary>Progress&lt;T&gt; posts to the thread pool; tests want the values in order, now.</summary>
    private sealed class SyncProgress(List<long> into) : IProgress<long>
    {
        public void Report(long value)
        {
            lock (into)
                into.Add(value);
        }
    }
}
