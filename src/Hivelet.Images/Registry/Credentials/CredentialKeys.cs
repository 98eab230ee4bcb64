namespace Hivelet.Images.Registry.Credentials;

/// <summary>How registries are keyed in auth files (docker/cli getAuthConfigKey, ConvertToHostname).</summary>
public static class CredentialKeys
{
    /// <summary>"https://index.docker.io/v1/" for Docker Hub, else the registry "host[:port]" as given.</summary>
    public static string For(string registry) =>
        RegistryEndpoint.IsDockerHub(registry) ? RegistryEndpoint.DockerHubAuthKey : registry.ToLowerInvariant();

    /// <summary>Whether a stored key, possibly a legacy URL ("https://host:5000/v1/"), names this registry.</summary>
    public static bool Matches(string storedKey, string registry)
    {
        var host = ToHostname(storedKey);
        if (RegistryEndpoint.IsDockerHub(registry))
            return RegistryEndpoint.IsDockerHub(host);
        return host.Equals(registry, StringComparison.OrdinalIgnoreCase);
    }

    /// <summary>Strips a scheme and a path: "https://host:5000/v1/" -> "host:5000".</summary>
    public static string ToHostname(string key)
    {
        var s = key;
        int scheme = s.IndexOf("://", StringComparison.Ordinal);
        if (scheme >= 0)
            s = s[(scheme + 3)..];
        int slash = s.IndexOf('/', StringComparison.Ordinal);
        return slash >= 0 ? s[..slash] : s;
    }

    /// <summary>Exact key first, then any key that converts to the same hostname.</summary>
    internal static TValue? Find<TValue>(IReadOnlyDictionary<string, TValue> map, string registry, out string? key)
        where TValue : class
    {
        key = For(registry);
        if (map.TryGetValue(key, out var exact))
            return exact;
        foreach (var (k, v) in map)
        {
            if (Matches(k, registry))
            {
                key = k;
                return v;
            }
        }
        key = null;
        return null;
    }
}
