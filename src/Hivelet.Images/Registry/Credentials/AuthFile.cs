using System.Text;
using System.Text.Json.Serialization;
using Hivelet.Errors;

namespace Hivelet.Images.Registry.Credentials;

/// <summary>The "auths" part of Docker's config.json; hivelet's auth.json uses the same shape.</summary>
internal sealed class AuthFile
{
    [JsonPropertyName("auths")] public Dictionary<string, AuthEntry>? Auths { get; set; }

    /// <summary>Docker's config.json only: the credential helper for every registry.</summary>
    [JsonPropertyName("credsStore")] public string? CredsStore { get; set; }

    /// <summary>Docker's config.json only: a credential helper per registry, ahead of credsStore.</summary>
    [JsonPropertyName("credHelpers")] public Dictionary<string, string>? CredHelpers { get; set; }
}

internal sealed class AuthEntry
{
    [JsonPropertyName("auth")] public string? Auth { get; set; }
    [JsonPropertyName("username")] public string? Username { get; set; }
    [JsonPropertyName("password")] public string? Password { get; set; }
    [JsonPropertyName("identitytoken")] public string? IdentityToken { get; set; }

    public static AuthEntry From(RegistryCredential c) => new()
    {
        Auth = c.HasPassword ? Convert.ToBase64String(Encoding.UTF8.GetBytes($"{c.Username}:{c.Password}")) : null,
        IdentityToken = c.HasIdentityToken ? c.IdentityToken : null,
    };

    /// <summary>
    /// Decodes like docker/cli decodeAuth: base64 of "user:password", split on the first ':',
    /// trailing NULs trimmed from the password. Errors name the file and key, never the content.
    /// </summary>
    public RegistryCredential? ToCredential(string file, string key)
    {
        string? user = Username, password = Password;
        if (!string.IsNullOrEmpty(Auth))
        {
            string decoded;
            try
            {
                decoded = Encoding.UTF8.GetString(Convert.FromBase64String(Auth));
            }
            catch (FormatException)
            {
                throw new InvalidInputException($"read credentials {file}: entry \"{key}\": \"auth\" is not valid base64");
            }
            int colon = decoded.IndexOf(':', StringComparison.Ordinal);
            if (colon <= 0)
                throw new InvalidInputException($"read credentials {file}: entry \"{key}\": \"auth\" is not user:password");
            user = decoded[..colon];
            password = decoded[(colon + 1)..].TrimEnd('\0');
        }
        if (string.IsNullOrEmpty(user) && string.IsNullOrEmpty(IdentityToken))
            return null;
        return new RegistryCredential(user, password, string.IsNullOrEmpty(IdentityToken) ? null : IdentityToken);
    }
}

[JsonSourceGenerationOptions(WriteIndented = true, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(AuthFile))]
internal sealed partial class CredentialsJsonContext : JsonSerializerContext;
