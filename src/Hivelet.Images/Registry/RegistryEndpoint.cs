using System.Net;

namespace Hivelet.Images.Registry;

/// <summary>Where a registry named in a reference is actually reached.</summary>
public static class RegistryEndpoint
{
    public const string DockerHubApiHost = "registry-1.docker.io";

    /// <summary>The key Docker uses for Docker Hub in config.json "auths".</summary>
    public const string DockerHubAuthKey = "https://index.docker.io/v1/";

    public static bool IsDockerHub(string domain) =>
        domain is "docker.io" or "index.docker.io" or DockerHubApiHost;

    /// <summary>
    /// https://host, except plain http for loopback (localhost, 127.0.0.0/8, ::1) and for registries
    /// listed as insecure; docker.io is served by registry-1.docker.io.
    /// </summary>
    public static Uri Resolve(string domain, ISet<string>? insecure = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(domain);
        if (IsDockerHub(domain))
            return new Uri("https://" + DockerHubApiHost + "/");
        var host = HostOf(domain);
        bool plain = IsLoopback(host) ||
                     (insecure is not null && (insecure.Contains(domain) || insecure.Contains(host)));
        return new Uri((plain ? "http://" : "https://") + domain + "/");
    }

    /// <summary>"host" of "host:port", "[::1]:5000" -> "::1".</summary>
    public static string HostOf(string domain)
    {
        if (domain.StartsWith('['))
        {
            int end = domain.IndexOf(']', StringComparison.Ordinal);
            return end > 0 ? domain[1..end] : domain;
        }
        int colon = domain.LastIndexOf(':');
        return colon > 0 && domain.IndexOf(':') == colon ? domain[..colon] : domain;
    }

    public static bool IsLoopback(string host) =>
        host.Equals("localhost", StringComparison.OrdinalIgnoreCase) ||
        (IPAddress.TryParse(host, out var ip) && IPAddress.IsLoopback(ip));
}
