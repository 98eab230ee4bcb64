using System.Text.Json;
using Hivelet.Errors;

namespace Hivelet.Images.Registry.Credentials;

/// <summary>
/// Reads "auths" from Docker's config.json ($DOCKER_CONFIG/config.json, else ~/.docker/config.json)
/// so a board already logged in with docker needs no second login. hivelet never edits Docker's
/// file. A credential helper named there (credHelpers for the registry, else credsStore) is asked
/// first, as Docker does, and keeps what `hivelet login` stores for that registry.
/// </summary>
public sealed class DockerConfigCredentials
{
    public DockerConfigCredentials(string? configPath = null)
    {
        Path = configPath ?? DefaultPath();
    }

    public string Path { get; }

    public static string DefaultPath()
    {
        var dir = Environment.GetEnvironmentVariable("DOCKER_CONFIG");
        if (string.IsNullOrEmpty(dir))
            dir = System.IO.Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".docker");
        return System.IO.Path.Combine(dir, "config.json");
    }

    /// <summary>The helper Docker would use for <paramref name="registry"/>, or null.</summary>
    public CredentialHelper? HelperFor(string registry)
    {
        var file = AuthFileIo.Read(Path);
        if (file is null)
            return null;
        if (file.CredHelpers is { } helpers && CredentialKeys.Find(helpers, registry, out _) is { Length: > 0 } name)
            return new CredentialHelper(name, Path);
        return string.IsNullOrEmpty(file.CredsStore) ? null : new CredentialHelper(file.CredsStore, Path);
    }

    public RegistryCredential? Get(string registry)
    {
        if (HelperFor(registry)?.Get(CredentialKeys.For(registry)) is { } fromHelper)
            return fromHelper;
        var file = AuthFileIo.Read(Path);
        if (file?.Auths is null)
            return null;
        var entry = CredentialKeys.Find(file.Auths, registry, out var key);
        return entry?.ToCredential(Path, key!);
    }
}

/// <summary>Reading and parsing an auth file; a missing file is no credentials, a broken one an error.</summary>
internal static class AuthFileIo
{
    public static AuthFile? Read(string path)
    {
        byte[] bytes;
        try
        {
            bytes = File.ReadAllBytes(path);
        }
        catch (FileNotFoundException)
        {
            return null;
        }
        catch (DirectoryNotFoundException)
        {
            return null;
        }
        catch (UnauthorizedAccessException e)
        {
            throw new HiveletException($"read credentials {path}: permission denied", e);
        }
        if (bytes.Length == 0)
            return null;
        try
        {
            return JsonSerializer.Deserialize(bytes, CredentialsJsonContext.Default.AuthFile);
        }
        catch (JsonException e)
        {
            // JsonException messages quote no content, only positions.
            throw new InvalidInputException($"read credentials {path}: invalid JSON at line {e.LineNumber + 1}");
        }
    }
}
