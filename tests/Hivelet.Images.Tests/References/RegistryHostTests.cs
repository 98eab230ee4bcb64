using Hivelet.Images.References;

namespace Hivelet.Images.Tests.References;

public sealed class RegistryHostTests
{
    [Theory]
    [InlineData("docker.io", "registry-1.docker.io")]
    [InlineData("index.docker.io", "registry-1.docker.io")]
    [InlineData("localhost:5000", "localhost:5000")]
    [InlineData("registry.example.com", "registry.example.com")]
    public void MapsDockerHubToItsApiHost(string domain, string host) => Assert.Equal(host, RegistryHost.ApiHost(domain));

    [Theory]
    [InlineData("localhost", true)]
    [InlineData("localhost:5000", true)]
    [InlineData("LOCALHOST:5000", true)]
    [InlineData("127.0.0.1:5000", true)]
    [InlineData("127.5.6.7", true)]
    [InlineData("[::1]:5000", true)]
    [InlineData("[::1]", true)]
    [InlineData("[::ffff:127.0.0.1]:5000", true)]
    [InlineData("128.0.0.1:5000", false)]
    [InlineData("10.0.0.1:5000", false)]
    [InlineData("[::2]:5000", false)]
    [InlineData("docker.io", false)]
    [InlineData("localhost.example.com", false)]
    [InlineData("127.1:5000", false)]
    public void LoopbackIsInsecureByDefault(string domain, bool expected) =>
        Assert.Equal(expected, RegistryHost.AllowsPlainHttp(domain));

    [Theory]
    [InlineData("registry.lan:5000", true)]
    [InlineData("REGISTRY.LAN:5000", true)]
    [InlineData("registry.lan", false)]
    [InlineData("registry.lan:5001", false)]
    [InlineData("10.1.2.3:5000", true)]
    [InlineData("11.1.2.3:5000", false)]
    [InlineData("[fd00::5]:5000", true)]
    [InlineData("plain", true)]
    [InlineData("192.168.7.9", true)]
    [InlineData("192.168.8.9", false)]
    [InlineData("172.16.0.1", false)]
    public void InsecureListMatchesDomainsAndNetworks(string domain, bool expected)
    {
        // "192.168.7.1/24" has host bits set: Docker (Go's ParseCIDR) accepts it as 192.168.7.0/24.
        string[] insecure = ["registry.lan:5000", "10.0.0.0/8", "fd00::/8", " plain ", "", "192.168.7.1/24", "172.16.0.0/99", "bad/8"];
        Assert.Equal(expected, RegistryHost.AllowsPlainHttp(domain, insecure));
    }

    [Theory]
    [InlineData("localhost", "localhost", null)]
    [InlineData("localhost:5000", "localhost", 5000)]
    [InlineData("[::1]:5000", "::1", 5000)]
    [InlineData("[::1]", "::1", null)]
    public void SplitsHostAndPort(string domain, string host, int? port) =>
        Assert.Equal((host, port), RegistryHost.SplitHostPort(domain));
}
