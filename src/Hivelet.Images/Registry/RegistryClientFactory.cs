using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Headers;
using Hivelet.Errors;
using Hivelet.Images.Registry.Auth;
using Hivelet.Images.Registry.Credentials;
using Hivelet.Images.Registry.Tls;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Hivelet.Images.Registry;

/// <summary>
/// Hands out one <see cref="RegistryClient"/> per registry host, all sharing one connection pool,
/// the credential store, the insecure-registry set and the token cache.
/// </summary>
public sealed class RegistryClientFactory : IDisposable
{
    private readonly HttpClientPool _http;
    private readonly ICredentialStore? _credentials;
    private readonly RegistryClientOptions _options;
    private readonly RegistryTransport _transport;
    private readonly TokenCache _tokens;
    private readonly ConcurrentDictionary<string, RegistryClient> _clients = new(StringComparer.OrdinalIgnoreCase);

    public RegistryClientFactory(ICredentialStore? credentials = null, RegistryClientOptions? options = null,
        ILogger<RegistryClient>? logger = null)
    {
        _credentials = credentials;
        _options = options ?? new RegistryClientOptions();
        _http = new HttpClientPool(_options.Trust, _options);
        _transport = new RegistryTransport(_http, _options, (ILogger?)logger ?? NullLogger.Instance);
        _tokens = new TokenCache(_options.TimeProvider);
    }

    /// <summary>The client for a registry as named in references ("docker.io", "127.0.0.1:5000").</summary>
    public RegistryClient Get(string domain) => _clients.GetOrAdd(domain, d => Create(d, () => _credentials?.Get(d), _tokens, false));

    /// <summary>
    /// Checks the credentials against the registry's /v2/ (and its token server), then stores them.
    /// Nothing is stored when the registry refuses them.
    /// </summary>
    public async Task LoginAsync(string domain, string username, string password, CancellationToken ct = default)
    {
        if (string.IsNullOrEmpty(username) || string.IsNullOrEmpty(password))
            throw new InvalidInputException($"login to {domain}: username and password are required");
        if (_credentials is null)
            throw new InvalidOperationException("login needs a credential store");
        var credential = new RegistryCredential(username, password);
        // A private client and token cache: the candidate credentials must not leak into shared state.
        var probe = Create(domain, () => credential, new TokenCache(_options.TimeProvider), requireCredentialsSent: true);
        try
        {
            await probe.PingAsync(ct).ConfigureAwait(false);
        }
        catch (RegistryException e) when (e.StatusCode is HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden)
        {
            throw new RegistryException($"login to {domain}: unauthorized: incorrect username or password",
                e.StatusCode, e.ErrorCode);
        }
        catch (RegistryException e)
        {
            throw RegistryClient.Wrap($"login to {domain}", e);
        }
        _credentials.Store(domain, credential);
        _clients.TryRemove(domain, out _);
        RegistryLog.CredentialsStored(_transport.Logger, domain);
    }

    /// <summary>Forgets stored credentials; true when there were some.</summary>
    public bool Logout(string domain)
    {
        _clients.TryRemove(domain, out _);
        return _credentials?.Erase(domain) ?? false;
    }

    public void Dispose() => _http.Dispose();

    private RegistryClient Create(string domain, Func<RegistryCredential?> credentials, TokenCache tokens,
        bool requireCredentialsSent)
    {
        // A registry with a certs.d directory is a TLS registry, loopback or not.
        var baseUri = _options.Trust.HasDirectory(domain) && !RegistryEndpoint.IsDockerHub(domain)
            ? new Uri("https://" + domain + "/")
            : RegistryEndpoint.Resolve(domain, _options.InsecureRegistries);
        var auth = new RegistryAuthenticator(domain, baseUri, _transport, credentials, tokens, requireCredentialsSent);
        return new RegistryClient(domain, baseUri, _transport, auth);
    }
}
