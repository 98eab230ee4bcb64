namespace Hivelet.Images.Registry.Credentials;

/// <summary>
/// Lookup order: hivelet's auth.json, then Docker's config.json. Store and Erase touch only
/// hivelet's file, so "hivelet logout" never edits Docker's configuration.
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

    public void Store(string registry, RegistryCredential credential) => _own.Store(registry, credential);

    public bool Erase(string registry) => _own.Erase(registry);
}
