using System.Net;
using System.Text;

namespace Hivelet.Runtime.Spec;

/// <summary>The /etc/hosts, /etc/resolv.conf and /etc/hostname a container gets (runtime.md C10).</summary>
public static class EtcFiles
{
    /// <summary>Docker's fallback when the host has no usable nameserver (libnetwork resolvconf).</summary>
    public static readonly IReadOnlyList<string> FallbackNameservers = ["8.8.8.8", "8.8.4.4"];

    public static string Hostname(string hostname) => hostname + "\n";

    /// <summary>
    /// Docker's base entries. Docker then adds "IP hostname" for the container's address; with
    /// `--network none` there is no address, and Docker writes no line for the hostname, which makes
    /// tools that resolve their own name (sudo, some JVMs) wait for DNS. hivelet maps it to 127.0.1.1,
    /// the Debian convention for a host without a fixed address, which answers at once on the container's lo.
    /// With `--network host` the host's own /etc/hosts is used, as Docker does.
    /// </summary>
    public static string Hosts(string hostname, bool hostNetwork, string? hostHostsFile)
    {
        if (hostNetwork && hostHostsFile != null)
            return hostHostsFile;
        var sb = new StringBuilder();
        sb.Append("127.0.0.1\tlocalhost\n");
        sb.Append("::1\tlocalhost ip6-localhost ip6-loopback\n");
        sb.Append("fe00::\tip6-localnet\n");
        sb.Append("ff00::\tip6-mcastprefix\n");
        sb.Append("ff02::1\tip6-allnodes\n");
        sb.Append("ff02::2\tip6-allrouters\n");
        sb.Append("127.0.1.1\t").Append(hostname).Append('\n');
        return sb.ToString();
    }

    /// <summary>
    /// The host's resolv.conf: as is with a host network (its loopback resolver is reachable there);
    /// otherwise without loopback nameservers, which would point into the container's own lo, and
    /// with Google's public DNS when none is left (Docker's rule).
    /// </summary>
    public static string ResolvConf(string? hostResolvConf, bool hostNetwork, out bool usedFallback)
    {
        usedFallback = false;
        var text = hostResolvConf ?? "";
        if (hostNetwork)
            return text;
        var sb = new StringBuilder();
        bool any = false;
        var lines = text.Split('\n');
        int count = text.Length == 0 ? 0 : text.EndsWith('\n') ? lines.Length - 1 : lines.Length;
        foreach (var raw in lines.Take(count))
        {
            var line = raw.TrimEnd('\r');
            var fields = line.Split([' ', '\t'], StringSplitOptions.RemoveEmptyEntries);
            if (fields.Length >= 2 && fields[0] == "nameserver")
            {
                if (IsLoopback(fields[1]))
                    continue;
                any = true;
            }
            sb.Append(line).Append('\n');
        }
        if (!any)
        {
            usedFallback = true;
            foreach (var ns in FallbackNameservers)
                sb.Append("nameserver ").Append(ns).Append('\n');
        }
        return sb.ToString();
    }

    private static bool IsLoopback(string address)
    {
        var a = address;
        int pct = a.IndexOf('%');
        if (pct >= 0)
            a = a[..pct];
        return IPAddress.TryParse(a, out var ip) && IPAddress.IsLoopback(ip);
    }

    /// <summary>
    /// The host's resolv.conf; where it only points at systemd-resolved's stub (127.0.0.53), the real
    /// upstream list systemd-resolved keeps, as Docker does.
    /// </summary>
    public static string? ReadHostResolvConf(string path = "/etc/resolv.conf", string resolvedPath = "/run/systemd/resolve/resolv.conf")
    {
        var text = TryRead(path);
        if (text != null && text.Contains("nameserver 127.0.0.53", StringComparison.Ordinal))
            return TryRead(resolvedPath) ?? text;
        return text;
    }

    internal static string? TryRead(string path)
    {
        try
        {
            return File.ReadAllText(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }
}
