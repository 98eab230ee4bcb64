using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace Hivelet.Images.References;

/// <summary>
/// Where a reference's domain is reached: the API host (Docker Hub's domain is not its API host)
/// and whether plain HTTP may be used for it.
/// </summary>
public static class RegistryHost
{
    public const string DockerHubApiHost = "registry-1.docker.io";

    /// <summary>"docker.io" -> "registry-1.docker.io"; every other domain is its own API host.</summary>
    public static string ApiHost(string domain) =>
        domain is ImageReference.DockerHubDomain or "index.docker.io" ? DockerHubApiHost : domain;

    /// <summary>
    /// True for loopback registries (localhost, 127.0.0.0/8, ::1), which Docker has treated as
    /// insecure without configuration since 1.3.2, and for domains listed in
    /// <paramref name="insecureRegistries"/>. As in Docker's insecure-registries setting, an entry is
    /// a domain matched exactly, port included ("host:5000"), or an IP network in CIDR form
    /// ("10.0.0.0/8"); unlike Docker, CIDR entries match only literal IP domains (no DNS lookup).
    /// </summary>
    public static bool AllowsPlainHttp(string domain, IEnumerable<string>? insecureRegistries = null)
    {
        var (host, _) = SplitHostPort(domain);
        var address = ParseAddress(host);
        if (host.Equals("localhost", StringComparison.OrdinalIgnoreCase) ||
            (address is not null && IPAddress.IsLoopback(address)))
            return true;
        if (insecureRegistries is null)
            return false;

        foreach (var entry in insecureRegistries)
        {
            var item = entry.Trim();
            if (item.Length == 0)
                continue;
            if (item.Equals(domain, StringComparison.OrdinalIgnoreCase))
                return true;
            if (address is not null && InNetwork(address, item))
                return true;
        }
        return false;
    }

    /// <summary>"[::1]:5000" -> ("::1", 5000); "localhost" -> ("localhost", null).</summary>
    public static (string Host, int? Port) SplitHostPort(string domain)
    {
        if (domain.StartsWith('['))
        {
            int close = domain.IndexOf(']', StringComparison.Ordinal);
            if (close > 0)
                return (domain[1..close], ParsePort(domain[(close + 1)..]));
            return (domain, null);
        }
        int colon = domain.LastIndexOf(':');
        return colon < 0 ? (domain, null) : (domain[..colon], ParsePort(domain[colon..]));
    }

    /// <summary>
    /// CIDR membership that, like Go's net.ParseCIDR, ignores host bits in the entry
    /// ("10.1.0.0/8" means 10.0.0.0/8), which .NET's IPNetwork refuses.
    /// </summary>
    private static bool InNetwork(IPAddress address, string cidr)
    {
        int slash = cidr.IndexOf('/', StringComparison.Ordinal);
        if (slash < 0 ||
            !IPAddress.TryParse(cidr.AsSpan(0, slash), out var network) ||
            !int.TryParse(cidr.AsSpan(slash + 1), NumberStyles.None, CultureInfo.InvariantCulture, out int prefix))
            return false;
        if (network.IsIPv4MappedToIPv6)
            network = network.MapToIPv4();
        if (network.AddressFamily != address.AddressFamily)
            return false;
        var a = address.GetAddressBytes();
        var n = network.GetAddressBytes();
        if (prefix > a.Length * 8)
            return false;
        for (int bit = 0; bit < prefix; bit++)
        {
            int mask = 0x80 >> (bit % 8);
            if ((a[bit / 8] & mask) != (n[bit / 8] & mask))
                return false;
        }
        return true;
    }

    private static int? ParsePort(string suffix) =>
        suffix.Length > 1 && suffix[0] == ':' &&
        int.TryParse(suffix.AsSpan(1), NumberStyles.None, CultureInfo.InvariantCulture, out var port)
            ? port
            : null;

    private static IPAddress? ParseAddress(string host)
    {
        if (!IPAddress.TryParse(host, out var address))
            return null;
        // IPAddress also accepts forms such as "127.1"; a registry domain must be dotted-quad or IPv6.
        if (address.AddressFamily == AddressFamily.InterNetwork && host.Count(c => c == '.') != 3)
            return null;
        return address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address;
    }
}
