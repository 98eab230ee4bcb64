using System.Text;
using Hivelet.Errors;
using Hivelet.Images.Registry.Credentials;

namespace Hivelet.Images.Tests.Registry;

[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public sealed class CredentialStoreTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    private static string B64(string s) => Convert.ToBase64String(Encoding.UTF8.GetBytes(s));

    [Fact]
    public void HiveletFileRoundTripsWithOwnerOnlyMode()
    {
        var store = new HiveletCredentialStore(_dir.Path);
        Assert.Null(store.Get("127.0.0.1:5000"));

        store.Store("127.0.0.1:5000", new RegistryCredential("alice", "s3:cret"));
        store.Store("docker.io", new RegistryCredential("bob", "pw"));

        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(store.Path));
        Assert.Empty(Directory.GetFiles(_dir.Path, "*.tmp-*"));
        var again = new HiveletCredentialStore(_dir.Path);
        var alice = again.Get("127.0.0.1:5000");
        Assert.Equal("alice", alice?.Username);
        Assert.Equal("s3:cret", alice?.Password);
        Assert.Equal("bob", again.Get("index.docker.io")?.Username);
        Assert.Contains("https://index.docker.io/v1/", File.ReadAllText(store.Path), StringComparison.Ordinal);

        Assert.True(again.Erase("127.0.0.1:5000"));
        Assert.False(again.Erase("127.0.0.1:5000"));
        Assert.Null(again.Get("127.0.0.1:5000"));
        Assert.NotNull(again.Get("docker.io"));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(store.Path));
    }

    [Fact]
    public void StoringReplacesALegacyKeyForTheSameHost()
    {
        File.WriteAllText(_dir.Combine("auth.json"),
            "{\"auths\":{\"http://reg.lan:5000/v1/\":{\"auth\":\"" + B64("old:pw") + "\"}}}");
        var store = new HiveletCredentialStore(_dir.Path);
        store.Store("reg.lan:5000", new RegistryCredential("new", "pw2"));
        Assert.Equal("new", store.Get("reg.lan:5000")?.Username);
        Assert.DoesNotContain("http://reg.lan:5000/v1/", File.ReadAllText(store.Path), StringComparison.Ordinal);
    }

    [Fact]
    public void ReadsDockerConfig()
    {
        var path = _dir.Combine("config.json");
        File.WriteAllText(path, $$"""
            {
              "auths": {
                "https://index.docker.io/v1/": { "auth": "{{B64("hubuser:hub:pass\0\0")}}" },
                "https://legacy.lan:5000/v1/": { "auth": "{{B64("legacy:pw")}}" },
                "reg.lan:5000": { "auth": "{{B64("plain:pw")}}", "identitytoken": "refresh-me" },
                "tok.lan": { "identitytoken": "only-token" }
              },
              "psFormat": "table"
            }
            """);
        var docker = new DockerConfigCredentials(path);

        var hub = docker.Get("docker.io");
        Assert.Equal("hubuser", hub?.Username);
        Assert.Equal("hub:pass", hub?.Password);
        Assert.Equal("legacy", docker.Get("legacy.lan:5000")?.Username);
        Assert.Equal("refresh-me", docker.Get("reg.lan:5000")?.IdentityToken);
        Assert.Equal("plain", docker.Get("REG.lan:5000")?.Username);
        Assert.Equal("only-token", docker.Get("tok.lan")?.IdentityToken);
        Assert.Null(docker.Get("tok.lan")?.Username);
        Assert.Null(docker.Get("legacy.lan"));
        Assert.Null(docker.Get("other.lan"));
    }

    [Fact]
    public void AMissingCredentialHelperIsAClearError()
    {
        var path = _dir.Combine("config.json");
        File.WriteAllText(path, """{ "credsStore": "desktop", "credHelpers": { "reg.lan": "hivelet-test-absent" } }""");
        var docker = new DockerConfigCredentials(path);

        Assert.Equal("hivelet-test-absent", docker.HelperFor("reg.lan")?.Name);
        Assert.Equal("desktop", docker.HelperFor("other.lan")?.Name);
        var e = Assert.Throws<HiveletException>(() => docker.Get("reg.lan"));
        Assert.Contains("docker-credential-hivelet-test-absent", e.Message, StringComparison.Ordinal);
        Assert.Contains(path, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void DockerConfigEnvironmentVariableNamesTheDirectory()
    {
        var old = Environment.GetEnvironmentVariable("DOCKER_CONFIG");
        try
        {
            Environment.SetEnvironmentVariable("DOCKER_CONFIG", _dir.Path);
            Assert.Equal(_dir.Combine("config.json"), DockerConfigCredentials.DefaultPath());
        }
        finally
        {
            Environment.SetEnvironmentVariable("DOCKER_CONFIG", old);
        }
    }

    [Fact]
    public void MissingDockerConfigMeansNoCredentials() =>
        Assert.Null(new DockerConfigCredentials(_dir.Combine("nope/config.json")).Get("docker.io"));

    [Fact]
    public void BrokenEntriesAreErrorsThatDoNotQuoteTheSecret()
    {
        var path = _dir.Combine("config.json");
        File.WriteAllText(path, """{"auths":{"a.lan":{"auth":"not base64 secretvalue!"},"b.lan":{"auth":"bm9jb2xvbg=="}}}""");
        var docker = new DockerConfigCredentials(path);
        var e = Assert.Throws<InvalidInputException>(() => docker.Get("a.lan"));
        Assert.Contains("a.lan", e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("secretvalue", e.Message, StringComparison.Ordinal);
        Assert.Throws<InvalidInputException>(() => docker.Get("b.lan"));

        File.WriteAllText(path, """{"auths":{"a.lan":{"auth":"secretvalue""");
        e = Assert.Throws<InvalidInputException>(() => docker.Get("a.lan"));
        Assert.DoesNotContain("secretvalue", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ChainPrefersHiveletsFileAndWritesOnlyThere()
    {
        var dockerPath = _dir.Combine("docker/config.json");
        Directory.CreateDirectory(_dir.Combine("docker"));
        File.WriteAllText(dockerPath, "{\"auths\":{\"reg.lan\":{\"auth\":\"" + B64("fromdocker:pw") + "\"},\"only.lan\":{\"auth\":\"" + B64("d:pw") + "\"}}}");
        var before = File.ReadAllText(dockerPath);
        var chain = new CredentialChain(new HiveletCredentialStore(_dir.Combine("root")), new DockerConfigCredentials(dockerPath));

        Assert.Equal("fromdocker", chain.Get("reg.lan")?.Username);
        chain.Store("reg.lan", new RegistryCredential("fromhivelet", "pw"));
        Assert.Equal("fromhivelet", chain.Get("reg.lan")?.Username);
        Assert.Equal("d", chain.Get("only.lan")?.Username);
        Assert.False(chain.Erase("only.lan"));
        Assert.True(chain.Erase("reg.lan"));
        Assert.Equal("fromdocker", chain.Get("reg.lan")?.Username);
        Assert.Equal(before, File.ReadAllText(dockerPath));
    }

    [Fact]
    public void CredentialToStringHidesSecrets()
    {
        var text = new RegistryCredential("alice", "hunter2", "tok123").ToString();
        Assert.DoesNotContain("hunter2", text, StringComparison.Ordinal);
        Assert.DoesNotContain("tok123", text, StringComparison.Ordinal);
    }
}
