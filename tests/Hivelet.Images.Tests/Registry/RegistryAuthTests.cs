using Hivelet.Images.Registry;
using Hivelet.Images.Registry.Credentials;
using static Hivelet.Images.Tests.Registry.RegistryTestKit;

namespace Hivelet.Images.Tests.Registry;

/// <summary>A registry with a token server: tokens are valid per scope string, until revoked.</summary>
internal sealed class BearerRegistry : IDisposable
{
    private readonly object _lock = new();
    private int _serial;

    public BearerRegistry(string? realmHost = null, long? expiresIn = 300, string tokenField = "token")
    {
        Server = new TestHttpServer(Handle);
        TokenServer = realmHost is null ? Server : new TestHttpServer(Handle, realmHost);
        ExpiresIn = expiresIn;
        TokenField = tokenField;
    }

    public TestHttpServer Server { get; }
    public TestHttpServer TokenServer { get; }
    public long? ExpiresIn { get; }
    public string TokenField { get; }

    /// <summary>Valid tokens and the scopes each grants.</summary>
    public Dictionary<string, HashSet<string>> Tokens { get; } = [];

    /// <summary>When set, the token endpoint wants these Basic credentials ("user:pass") and refuses others.</summary>
    public string? RequiredBasic { get; set; }

    public List<TestRequest> TokenRequests { get; } = [];

    /// <summary>How long the token endpoint takes, to make concurrent callers overlap.</summary>
    public TimeSpan TokenDelay { get; set; }

    public void RevokeAll()
    {
        lock (_lock)
            Tokens.Clear();
    }

    private TestResponse Handle(TestRequest r)
    {
        if (r.Path == "/token")
        {
            Thread.Sleep(TokenDelay);
            lock (_lock)
            {
                TokenRequests.Add(r);
                if (RequiredBasic is not null && r.Header("Authorization") != "Basic " + Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes(RequiredBasic)))
                    return TestResponse.Json(401, "{\"details\":\"incorrect username or password\"}");
                var token = $"tok-{++_serial}";
                Tokens[token] = [.. r.QueryValues("scope")];
                var expires = ExpiresIn is { } e ? $",\"expires_in\":{e}" : "";
                return TestResponse.Json(200, $"{{\"{TokenField}\":\"{token}\"{expires}}}");
            }
        }
        string need = r.Path == "/v2/" ? "" : r.Path.Contains("/blobs/uploads/", StringComparison.Ordinal) || r.Method == "PUT"
            ? $"repository:{Repo}:pull,push"
            : $"repository:{Repo}:pull";
        var auth = r.Header("Authorization");
        bool ok;
        lock (_lock)
        {
            ok = auth is not null && auth.StartsWith("Bearer ", StringComparison.Ordinal) &&
                 Tokens.TryGetValue(auth[7..], out var granted) && (need == "" || granted.Contains(need));
        }
        if (!ok)
        {
            var scope = need == "" ? "" : $",scope=\"{need}\"";
            return TestResponse.Json(401, "{\"errors\":[{\"code\":\"UNAUTHORIZED\",\"message\":\"authentication required\"}]}",
                ("WWW-Authenticate", $"Bearer realm=\"{TokenServer.BaseUrl}/token\",service=\"lab\"{scope}"));
        }
        if (r.Path == "/v2/")
            return TestResponse.Json(200, "{}");
        if (r.Path.Contains("/manifests/", StringComparison.Ordinal))
            return ManifestResponse();
        return TestResponse.Of(404);
    }

    public void Dispose()
    {
        Server.Dispose();
        if (TokenServer != Server)
            TokenServer.Dispose();
    }
}

public sealed class RegistryAuthTests
{
    [Fact]
    public async Task BearerTokenIsFetchedOnceAndReusedForTheSameScope()
    {
        using var reg = new BearerRegistry();
        using var factory = new RegistryClientFactory(null, FastOptions());
        var client = factory.Get(reg.Server.Authority);

        var first = await client.GetManifestAsync(Repo, "latest");
        var second = await client.GetManifestAsync(Repo, "v2");

        Assert.Equal(Manifest, first.Content);
        Assert.Equal("application/vnd.oci.image.manifest.v1+json", first.MediaType);
        Assert.Equal(ManifestDigest, second.Digest);
        var tokenRequest = Assert.Single(reg.TokenRequests);
        Assert.Equal(["lab"], tokenRequest.QueryValues("service"));
        Assert.Equal([$"repository:{Repo}:pull"], tokenRequest.QueryValues("scope"));
        Assert.Null(tokenRequest.Header("Authorization"));
        // One 401 to learn the challenge, then every request carries the token up front.
        Assert.Equal(3, reg.Server.Requests.Count(r => r.Path.Contains("/manifests/", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task ConcurrentRequestsShareOneTokenFetch()
    {
        using var reg = new BearerRegistry { TokenDelay = TimeSpan.FromMilliseconds(300) };
        using var factory = new RegistryClientFactory(null, FastOptions());
        var client = factory.Get(reg.Server.Authority);
        await client.PingAsync();
        var pingTokens = reg.TokenRequests.Count;

        await Task.WhenAll(Enumerable.Range(0, 6).Select(i => client.GetManifestAsync(Repo, $"t{i}")));

        Assert.Equal(pingTokens + 1, reg.TokenRequests.Count);
    }

    [Fact]
    public async Task NoSecretReachesTheLog()
    {
        using var reg = new BearerRegistry { RequiredBasic = "alice:s3cret-pw" };
        var creds = new MemoryCredentials();
        creds.Store(reg.Server.Authority, new RegistryCredential("alice", "s3cret-pw"));
        var log = new ListLogger();
        using var factory = new RegistryClientFactory(creds, FastOptions(), log);

        await factory.Get(reg.Server.Authority).GetManifestAsync(Repo, "latest");
        reg.RevokeAll();
        await factory.Get(reg.Server.Authority).GetManifestAsync(Repo, "latest");

        Assert.NotEmpty(log.Lines);
        Assert.All(log.Lines, l =>
        {
            Assert.DoesNotContain("s3cret-pw", l, StringComparison.Ordinal);
            Assert.DoesNotContain("tok-", l, StringComparison.Ordinal);
            Assert.DoesNotContain(Convert.ToBase64String("alice:s3cret-pw"u8.ToArray()), l, StringComparison.Ordinal);
        });
    }

    [Fact]
    public async Task ExpiredTokenIsReplaced()
    {
        var time = new ManualTime();
        using var reg = new BearerRegistry(expiresIn: 120);
        using var factory = new RegistryClientFactory(null, FastOptions(time));
        var client = factory.Get(reg.Server.Authority);

        await client.GetManifestAsync(Repo, "latest");
        time.Advance(TimeSpan.FromSeconds(100));
        await client.GetManifestAsync(Repo, "latest");
        Assert.Single(reg.TokenRequests);
        time.Advance(TimeSpan.FromSeconds(20));
        await client.GetManifestAsync(Repo, "latest");
        Assert.Equal(2, reg.TokenRequests.Count);
    }

    [Fact]
    public async Task MissingExpiresInMeansSixtySecondsAndAccessTokenIsAccepted()
    {
        var time = new ManualTime();
        using var reg = new BearerRegistry(expiresIn: null, tokenField: "access_token");
        using var factory = new RegistryClientFactory(null, FastOptions(time));
        var client = factory.Get(reg.Server.Authority);

        await client.GetManifestAsync(Repo, "latest");
        time.Advance(TimeSpan.FromSeconds(40));
        await client.GetManifestAsync(Repo, "latest");
        Assert.Single(reg.TokenRequests);
        time.Advance(TimeSpan.FromSeconds(21));
        await client.GetManifestAsync(Repo, "latest");
        Assert.Equal(2, reg.TokenRequests.Count);
    }

    [Fact]
    public async Task RejectedCachedTokenIsDroppedAndTheRequestRetriedOnce()
    {
        using var reg = new BearerRegistry();
        using var factory = new RegistryClientFactory(null, FastOptions());
        var client = factory.Get(reg.Server.Authority);

        await client.GetManifestAsync(Repo, "latest");
        reg.RevokeAll();
        var again = await client.GetManifestAsync(Repo, "latest");

        Assert.Equal(ManifestDigest, again.Digest);
        Assert.Equal(2, reg.TokenRequests.Count);
    }

    [Fact]
    public async Task PushAsksForPullAndPushScope()
    {
        using var reg = new BearerRegistry();
        using var factory = new RegistryClientFactory(null, FastOptions());
        var client = factory.Get(reg.Server.Authority);

        var digest = await client.PutManifestAsync(Repo, "latest", Manifest, Hivelet.Images.Oci.MediaTypes.OciManifest);

        Assert.Equal(ManifestDigest, digest);
        Assert.Contains(reg.TokenRequests, t => t.QueryValues("scope").SequenceEqual([$"repository:{Repo}:pull,push"]));
    }

    [Fact]
    public async Task ScopesNamedInTheChallengeAreAddedToTheTokenRequest()
    {
        TestHttpServer server = null!;
        var tokenScopes = new List<List<string>>();
        server = new TestHttpServer(r =>
        {
            if (r.Path == "/token")
            {
                lock (tokenScopes)
                    tokenScopes.Add(r.QueryValues("scope"));
                return TestResponse.Json(200, "{\"token\":\"wide\"}");
            }
            if (r.Method == "PUT")
                return r.Header("Authorization") == "Bearer wide"
                    ? TestResponse.Of(201)
                    : TestResponse.Json(401, "{}", ("WWW-Authenticate",
                        $"Bearer realm=\"{server.BaseUrl}/token\",service=\"lab\",scope=\"repository:lab/x:pull,push repository:lab/up:pull\",error=\"insufficient_scope\""));
            return TestResponse.Of(500);
        });
        using (server)
        {
            using var factory = new RegistryClientFactory(null, FastOptions());

            await factory.Get(server.Authority).PutManifestAsync(Repo, "v1", Manifest, Hivelet.Images.Oci.MediaTypes.OciManifest);

            Assert.Equal(["repository:lab/up:pull", "repository:lab/x:pull,push"], Assert.Single(tokenScopes));
        }
    }

    [Fact]
    public async Task CredentialsGoToATokenRealmOnTheRegistryHost()
    {
        using var reg = new BearerRegistry { RequiredBasic = "alice:s3cret" };
        var creds = new MemoryCredentials();
        creds.Store(reg.Server.Authority, new RegistryCredential("alice", "s3cret"));
        using var factory = new RegistryClientFactory(creds, FastOptions());

        await factory.Get(reg.Server.Authority).GetManifestAsync(Repo, "latest");

        Assert.Equal("Basic YWxpY2U6czNjcmV0", Assert.Single(reg.TokenRequests).Header("Authorization"));
    }

    [Fact]
    public async Task CredentialsAreWithheldFromAPlainHttpRealmOnAnotherHost()
    {
        using var reg = new BearerRegistry(realmHost: "127.0.0.2");
        var creds = new MemoryCredentials();
        creds.Store(reg.Server.Authority, new RegistryCredential("alice", "s3cret"));
        using var factory = new RegistryClientFactory(creds, FastOptions());

        await factory.Get(reg.Server.Authority).GetManifestAsync(Repo, "latest");

        var tokenRequest = Assert.Single(reg.TokenRequests);
        Assert.Equal("127.0.0.2", tokenRequest.LocalAddress);
        Assert.Null(tokenRequest.Header("Authorization"));
    }

    [Fact]
    public async Task BasicAuthRegistry()
    {
        using var server = new TestHttpServer(r => r.Header("Authorization") == "Basic YWxpY2U6czNjcmV0"
            ? ManifestResponse()
            : TestResponse.Json(401, "{\"errors\":[{\"code\":\"UNAUTHORIZED\",\"message\":\"authentication required\"}]}",
                ("WWW-Authenticate", "Basic realm=\"lab-registry\"")));
        var creds = new MemoryCredentials();
        creds.Store(server.Authority, new RegistryCredential("alice", "s3cret"));
        using var factory = new RegistryClientFactory(creds, FastOptions());
        var client = factory.Get(server.Authority);

        await client.GetManifestAsync(Repo, "latest");
        await client.GetManifestAsync(Repo, "latest");

        Assert.Equal(3, server.Requests.Count);
        Assert.Null(server.Requests[0].Header("Authorization"));
    }

    [Fact]
    public async Task BasicAuthWithoutCredentialsSaysUnauthorized()
    {
        using var server = new TestHttpServer(_ => TestResponse.Json(401,
            "{\"errors\":[{\"code\":\"UNAUTHORIZED\",\"message\":\"authentication required\"}]}",
            ("WWW-Authenticate", "Basic realm=\"lab-registry\"")));
        using var factory = new RegistryClientFactory(null, FastOptions());

        var e = await Assert.ThrowsAsync<RegistryException>(() => factory.Get(server.Authority).GetManifestAsync(Repo, "latest"));

        Assert.Equal($"pull {server.Authority}/{Repo}:latest: unauthorized: authentication required", e.Message);
        Assert.Single(server.Requests);
    }

    [Fact]
    public async Task LoginWithAWrongPasswordStoresNothing()
    {
        using var reg = new BearerRegistry { RequiredBasic = "alice:s3cret" };
        using var dir = new TempDir();
        var store = new HiveletCredentialStore(dir.Path);
        using var factory = new RegistryClientFactory(store, FastOptions());

        var e = await Assert.ThrowsAsync<RegistryException>(() => factory.LoginAsync(reg.Server.Authority, "alice", "wrong"));

        Assert.Equal($"login to {reg.Server.Authority}: unauthorized: incorrect username or password", e.Message);
        Assert.DoesNotContain("wrong", e.ToString(), StringComparison.Ordinal);
        Assert.Null(store.Get(reg.Server.Authority));

        await factory.LoginAsync(reg.Server.Authority, "alice", "s3cret");
        Assert.Equal("alice", store.Get(reg.Server.Authority)?.Username);
        Assert.True(factory.Logout(reg.Server.Authority));
        Assert.Null(store.Get(reg.Server.Authority));
    }

    [Fact]
    public async Task LoginAgainstBasicAuthRegistry()
    {
        using var server = new TestHttpServer(r => r.Header("Authorization") == "Basic YWxpY2U6czNjcmV0"
            ? TestResponse.Json(200, "{}")
            : TestResponse.Json(401, "{}", ("WWW-Authenticate", "Basic realm=\"lab-registry\"")));
        var store = new MemoryCredentials();
        using var factory = new RegistryClientFactory(store, FastOptions());

        var e = await Assert.ThrowsAsync<RegistryException>(() => factory.LoginAsync(server.Authority, "alice", "nope"));
        Assert.Equal($"login to {server.Authority}: unauthorized: incorrect username or password", e.Message);
        Assert.Null(store.Get(server.Authority));

        await factory.LoginAsync(server.Authority, "alice", "s3cret");
        Assert.Equal("s3cret", store.Get(server.Authority)?.Password);
    }

    [Fact]
    public async Task LoginRefusesToSendCredentialsToAForeignPlainHttpRealm()
    {
        using var reg = new BearerRegistry(realmHost: "127.0.0.2");
        var store = new MemoryCredentials();
        using var factory = new RegistryClientFactory(store, FastOptions());

        var e = await Assert.ThrowsAsync<RegistryException>(() => factory.LoginAsync(reg.Server.Authority, "alice", "s3cret"));

        Assert.Contains("refusing to send credentials", e.Message, StringComparison.Ordinal);
        Assert.Empty(reg.TokenRequests);
        Assert.Null(store.Get(reg.Server.Authority));
    }

    [Fact]
    public async Task IdentityTokenUsesTheOAuth2RefreshGrant()
    {
        TestHttpServer server = null!;
        var forms = new List<string>();
        server = new TestHttpServer(r =>
        {
            if (r.Path == "/token")
            {
                lock (forms)
                    forms.Add(System.Text.Encoding.UTF8.GetString(r.Body));
                return r.Method == "POST"
                    ? TestResponse.Json(200, "{\"access_token\":\"oauth-tok\",\"expires_in\":300}")
                    : TestResponse.Of(400);
            }
            return r.Header("Authorization") == "Bearer oauth-tok"
                ? ManifestResponse()
                : TestResponse.Json(401, "{}", ("WWW-Authenticate", $"Bearer realm=\"{server.BaseUrl}/token\",service=\"lab\""));
        });
        using (server)
        {
            var creds = new MemoryCredentials();
            creds.Store(server.Authority, new RegistryCredential(null, null, "refresh-123"));
            using var factory = new RegistryClientFactory(creds, FastOptions());

            await factory.Get(server.Authority).GetManifestAsync(Repo, "latest");

            var form = Assert.Single(forms);
            Assert.Contains("grant_type=refresh_token", form, StringComparison.Ordinal);
            Assert.Contains("refresh_token=refresh-123", form, StringComparison.Ordinal);
            Assert.Contains("scope=repository%3Alab%2Fx%3Apull", form, StringComparison.Ordinal);
        }
    }
}

/// <summary>Collects formatted log lines at every level.</summary>
internal sealed class ListLogger : Microsoft.Extensions.Logging.ILogger<RegistryClient>
{
    public List<string> Lines { get; } = [];

    public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

    public bool IsEnabled(Microsoft.Extensions.Logging.LogLevel logLevel) => true;

    public void Log<TState>(Microsoft.Extensions.Logging.LogLevel logLevel, Microsoft.Extensions.Logging.EventId eventId,
        TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        lock (Lines)
            Lines.Add($"{eventId.Id} {formatter(state, exception)} {exception}");
    }
}
