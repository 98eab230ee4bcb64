namespace Hivelet.Images.Registry.Credentials;

/// <summary>Credentials by registry ("docker.io", "127.0.0.1:5000").</summary>
public interface ICredentialStore
{
    RegistryCredential? Get(string registry);

    void Store(string registry, RegistryCredential credential);

    /// <summary>True when something was removed.</summary>
    bool Erase(string registry);
}
