using Hivelet.Images.Registry;

namespace Hivelet.Images.Tests.Registry;

public sealed class RegistryEndpointTests
{
    [Theory]
    [InlineData("docker.io", "https://registry-1.docker.io/")]
    [InlineData("index.docker.io", "https://registry-1.docker.io/")]
    [InlineData("ghcr.io", "https://ghcr.io/")]
    [InlineData("registry.lan:5000", "https://registry.lan:5000/")]
    [InlineData("localhost:5000", "http://localhost:5000/")]
    [InlineData("localhost", "http://localhost/")]
    [InlineData("127.0.0.1:5000", "http://127.0.0.1:5000/")]
    [InlineData("127.1.2.3:80", "http://127.1.2.3/")]
    [InlineData("[::1]:5000", "http://[::1]:5000/")]
    [InlineData("insecure.lan:5000", "http://insecure.lan:5000/")]
    [InlineData("insecure-host.lan:443", "http://insecure-host.lan:443/")]
    [InlineData("128.0.0.1:5000", "https://128.0.0.1:5000/")]
    public void ResolvesSchemeAndHost(string domain, string expected)
    {
        var insecure = new HashSet<string>(StringComparer.OrdinalIgnoreCase) { "insecure.lan:5000", "insecure-host.lan" };
        Assert.Equal(expected, RegistryEndpoint.Resolve(domain, insecure).ToString());
    }

    [Theory]
    [InlineData("host:5000", "host")]
    [InlineData("host", "host")]
    [InlineData("[::1]:5000", "::1")]
    [InlineData("[::1]", "::1")]
    public void HostOfStripsThePort(string domain, string host) => Assert.Equal(host, RegistryEndpoint.HostOf(domain));
}
