namespace Hivelet.EndToEnd.Tests.Harness;

/// <summary>
/// One registry shared by a test collection. A missing peer fails every test in the collection
/// with the package to install; with HIVELET_E2E_SKIP_PEERS=1 the tests are skipped instead
/// (by <see cref="E2EFactAttribute"/>) and the fixture stays empty.
/// </summary>
public abstract class RegistryFixtureBase(bool withAuth) : IAsyncLifetime
{
    private RegistryServer? _server;
    private PeerMissingException? _missing;

    public RegistryServer Registry =>
        _server ?? throw new InvalidOperationException("the registry fixture did not start", _missing);

    public async Task InitializeAsync()
    {
        try
        {
            _server = await RegistryServer.StartAsync(withAuth);
        }
        catch (PeerMissingException e) when (Peers.SkipWhenMissing)
        {
            _missing = e;
        }
    }

    public Task DisposeAsync()
    {
        _server?.Dispose();
        return Task.CompletedTask;
    }
}

/// <summary>An open registry (no auth).</summary>
public sealed class RegistryFixture() : RegistryFixtureBase(withAuth: false);

/// <summary>A registry with htpasswd Basic auth; the user is in <see cref="RegistryServer.Credential"/>.</summary>
public sealed class AuthRegistryFixture() : RegistryFixtureBase(withAuth: true);

[CollectionDefinition(Name)]
public sealed class RegistryCollection : ICollectionFixture<RegistryFixture>
{
    public const string Name = "registry";
}

[CollectionDefinition(Name)]
public sealed class AuthRegistryCollection : ICollectionFixture<AuthRegistryFixture>
{
    public const string Name = "auth-registry";
}
