namespace Hivelet.Images.Registry.Credentials;

/// <summary>
/// Lookup order: hivelet's auth.json, then Docker's config.json (its credential helper, then its
/// auths). Store and Erase go to the credential helper when Docker's config names one for the
/// registry, else to hivelet's file; Docker's config.json itself is never edited.
/// </summary>
public sealed class CredentialChain : ICredentialStore
{
    private readonly ICredentialStore _own;
    private readonly DockerConfigCredentials? _docker;

    public CredentialChain(ICredentialStore own, DockerConfigCredentials? docker)
    {
        _own = own;
        _docker = docker;
    }

    /// <summary>The usual chain for a hivelet root: &lt;root&gt;/auth.json then Docker's default file.</summary>
    public static CredentialChain ForRoot(string root) =>
        new(new HiveletCredentialStore(root), new DockerConfigCredentials());

    public RegistryCredential? Get(string registry) => _own.Get(registry) ?? _docker?.Get(registry);

    public void Store(string registry, RegistryCredential credential)
    {
        if (_docker?.HelperFor(registry) is { } helper)
        {
            helper.Store(CredentialKeys.For(registry), credential);
            // An older entry in hivelet's file would shadow what the helper now holds.
            _own.Erase(registry);
            return;
        }
        _own.Store(registry, credential);
    }

    public bool Erase(string registry)
    {
        bool erased = _own.Erase(registry);
        if (_docker?.HelperFor(registry) is { } helper)
            erased |= helper.Erase(CredentialKeys.For(registry));
        return erased;
    }
}
