using System.Text.Json;
using System.Text.Json.Serialization;
using Hivelet.Errors;

namespace Hivelet.Cli;

/// <summary>
/// Settings from /etc/hivelet/config.json (or HIVELET_CONFIG / --config), named as in Docker's daemon.json
/// so lab admins can copy what they know. A missing file means defaults; a malformed one is an error.
/// </summary>
public sealed class HiveletConfig
{
    public const string DefaultPath = "/etc/hivelet/config.json";

    [JsonPropertyName("insecure-registries")]
    public List<string> InsecureRegistries { get; set; } = [];

    [JsonPropertyName("max-concurrent-downloads")]
    public int MaxConcurrentDownloads { get; set; } = 3;

    [JsonPropertyName("max-concurrent-uploads")]
    public int MaxConcurrentUploads { get; set; } = 5;

    [JsonPropertyName("max-download-attempts")]
    public int MaxDownloadAttempts { get; set; } = 5;

    [JsonPropertyName("storage-driver")]
    public string? StorageDriver { get; set; }

    /// <summary>
    /// Roots of per-registry TLS directories (HOST[:PORT]/*.crt, client.cert, client.key); default
    /// /etc/hivelet/certs.d then /etc/docker/certs.d. The environment variable HIVELET_CERTS_D
    /// (one directory) overrides both.
    /// </summary>
    [JsonPropertyName("registry-certs-dirs")]
    public List<string>? RegistryCertsDirs { get; set; }

    /// <summary>The certs roots in effect: HIVELET_CERTS_D, else the config file's, else the defaults.</summary>
    public IReadOnlyList<string> CertsRoots()
    {
        var env = Environment.GetEnvironmentVariable("HIVELET_CERTS_D");
        if (!string.IsNullOrEmpty(env))
            return [env];
        return RegistryCertsDirs is { Count: > 0 } dirs ? dirs : Images.Registry.Tls.RegistryTrust.DefaultRoots;
    }

    public static HiveletConfig Load(string path)
    {
        if (!File.Exists(path))
            return new HiveletConfig();
        HiveletConfig? config;
        try
        {
            config = JsonSerializer.Deserialize(File.ReadAllBytes(path), HiveletConfigJsonContext.Default.HiveletConfig);
        }
        catch (JsonException e)
        {
            throw new InvalidInputException($"config file {path}: invalid JSON: {e.Message}");
        }
        if (config is null)
            throw new InvalidInputException($"config file {path}: expected a JSON object");
        if (config.MaxConcurrentDownloads is < 1 or > 32)
            throw new InvalidInputException($"config file {path}: max-concurrent-downloads must be between 1 and 32");
        if (config.MaxConcurrentUploads is < 1 or > 32)
            throw new InvalidInputException($"config file {path}: max-concurrent-uploads must be between 1 and 32");
        if (config.MaxDownloadAttempts is < 1 or > 100)
            throw new InvalidInputException($"config file {path}: max-download-attempts must be between 1 and 100");
        return config;
    }
}

[JsonSourceGenerationOptions(ReadCommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true,
    UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow)]
[JsonSerializable(typeof(HiveletConfig))]
internal sealed partial class HiveletConfigJsonContext : JsonSerializerContext;
