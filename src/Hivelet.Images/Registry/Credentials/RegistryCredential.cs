namespace Hivelet.Images.Registry.Credentials;

/// <summary>
/// What we know for one registry: a username and password, or an identity (OAuth2 refresh) token.
/// ToString never shows the secrets.
/// </summary>
public sealed class RegistryCredential
{
    public RegistryCredential(string? username, string? password, string? identityToken = null)
    {
        Username = username;
        Password = password;
        IdentityToken = identityToken;
    }

    public string? Username { get; }

    public string? Password { get; }

    /// <summary>Docker's "identitytoken": a refresh token for the OAuth2 POST flow.</summary>
    public string? IdentityToken { get; }

    public bool HasPassword => !string.IsNullOrEmpty(Username) && !string.IsNullOrEmpty(Password);

    public bool HasIdentityToken => !string.IsNullOrEmpty(IdentityToken);

    public override string ToString() => $"credential for \"{Username}\"";
}
