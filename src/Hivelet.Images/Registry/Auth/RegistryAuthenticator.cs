using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Hivelet.Images.Registry.Credentials;
using Microsoft.Extensions.Logging;

namespace Hivelet.Images.Registry.Auth;

/// <summary>What was put on a request, so a 401 can tell a stale token from a wrong password.</summary>
internal sealed record AppliedAuth(CachedToken? Token, bool Basic);

/// <summary>
/// Authorization for one registry host. It learns the scheme from the registry's 401 challenge,
/// then authorizes later requests up front: Basic with the stored credentials, or a Bearer token
/// from the challenge's realm for the request's scopes.
/// <para>
/// Realm rule: the realm URL comes from the registry and may point anywhere, so credentials are sent
/// to it only when the realm is https, or when it is on the registry's own host and the registry
/// itself is spoken to over plain http (the credentials would cross that same link anyway). Otherwise
/// the token is requested anonymously (login fails instead of doing that).
/// </para>
/// </summary>
internal sealed class RegistryAuthenticator
{
    private const int MaxTokenBody = 1024 * 1024;

    private readonly string _domain;
    private readonly Uri _registry;
    private readonly RegistryTransport _transport;
    private readonly Func<RegistryCredential?> _credentials;
    private readonly TokenCache _tokens;
    private readonly bool _requireCredentialsSent;
    private readonly ILogger _logger;
    private volatile AuthChallenge? _challenge;

    public RegistryAuthenticator(string domain, Uri registry, RegistryTransport transport,
        Func<RegistryCredential?> credentials, TokenCache tokens, bool requireCredentialsSent = false)
    {
        _domain = domain;
        _registry = registry;
        _transport = transport;
        _credentials = credentials;
        _tokens = tokens;
        _requireCredentialsSent = requireCredentialsSent;
        _logger = transport.Logger;
    }

    public async Task<AppliedAuth?> ApplyAsync(HttpRequestMessage request, IReadOnlyList<string> scopes,
        CancellationToken ct)
    {
        var challenge = _challenge;
        if (challenge is null)
            return null;
        if (challenge.IsBasic)
        {
            var cred = _credentials();
            if (cred is not { HasPassword: true })
                return null;
            request.Headers.Authorization = BasicHeader(cred);
            return new AppliedAuth(null, Basic: true);
        }
        var normalized = Scopes.Normalize(scopes);
        var key = TokenCache.KeyFor(_domain, normalized);
        var token = await _tokens.GetOrFetch(key, () => FetchTokenAsync(challenge, normalized, key), ct)
            .ConfigureAwait(false);
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token.Value);
        return new AppliedAuth(token, Basic: false);
    }

    /// <summary>
    /// Reacts to a 401: returns the scopes to retry with, or null when a retry cannot help
    /// (no usable challenge, or Basic credentials that were just refused).
    /// </summary>
    public IReadOnlyList<string>? OnUnauthorized(HttpResponseMessage response, IReadOnlyList<string> scopes,
        AppliedAuth? applied)
    {
        if (!response.Headers.NonValidated.TryGetValues("WWW-Authenticate", out var values))
            return null;
        var challenges = ChallengeParser.Parse(values);
        var bearer = challenges.FirstOrDefault(c => c.IsBearer && !string.IsNullOrEmpty(c.Realm));
        if (bearer is not null)
        {
            if (applied?.Token is { } stale)
            {
                RegistryLog.TokenRejected(_logger, _domain);
                _tokens.Invalidate(stale);
            }
            _challenge = bearer;
            return Scopes.Normalize(scopes.Concat(bearer.Scopes));
        }
        var basic = challenges.FirstOrDefault(c => c.IsBasic);
        if (basic is null || applied?.Basic == true || _credentials() is not { HasPassword: true })
            return null;
        _challenge = basic;
        return scopes;
    }

    private async Task<CachedToken> FetchTokenAsync(AuthChallenge challenge, IReadOnlyList<string> scopes, string key)
    {
        if (!Uri.TryCreate(challenge.Realm, UriKind.Absolute, out var realm) ||
            realm.Scheme is not ("http" or "https"))
        {
            throw new RegistryException($"registry {_domain} sent an invalid token realm \"{challenge.Realm}\"");
        }
        var cred = _credentials();
        if (cred is not null && !MaySendCredentials(realm))
        {
            if (_requireCredentialsSent)
            {
                throw new RegistryException(
                    $"refusing to send credentials to token realm {RegistryTransport.Redact(realm)}: it is neither https nor on {_domain}");
            }
            RegistryLog.CredentialsWithheld(_logger, _domain, RegistryTransport.Redact(realm));
            cred = null;
        }

        HttpResponseMessage response;
        if (cred is { HasIdentityToken: true })
        {
            response = await PostRefreshAsync(realm, challenge.Service, scopes, cred.IdentityToken!).ConfigureAwait(false);
            // OAuth2 is optional for token servers (distribution oauth.md): fall back to GET.
            if (response.StatusCode is HttpStatusCode.NotFound or HttpStatusCode.MethodNotAllowed)
            {
                response.Dispose();
                response = await GetTokenAsync(realm, challenge.Service, scopes, cred).ConfigureAwait(false);
            }
        }
        else
        {
            response = await GetTokenAsync(realm, challenge.Service, scopes, cred).ConfigureAwait(false);
        }

        using (response)
        {
            var time = _transport.Options.TimeProvider;
            if (!response.IsSuccessStatusCode)
            {
                if (cred is not null && response.StatusCode is HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden)
                {
                    throw new RegistryException("unauthorized: incorrect username or password", response.StatusCode,
                        "UNAUTHORIZED");
                }
                var error = await RegistryErrors.FromResponseAsync(response, time, CancellationToken.None)
                    .ConfigureAwait(false);
                throw new RegistryException($"get token from {realm.Authority}: {error.Message}", error.StatusCode,
                    error.ErrorCode, error.RetryAfter, error.IsTransient);
            }
            var body = await RegistryErrors.ReadCappedAsync(response.Content, MaxTokenBody, CancellationToken.None)
                .ConfigureAwait(false);
            TokenResponse? parsed;
            try
            {
                parsed = JsonSerializer.Deserialize(body, RegistryJsonContext.Default.TokenResponse);
            }
            catch (JsonException)
            {
                throw new RegistryException($"get token from {realm.Authority}: response is not valid JSON");
            }
            var token = !string.IsNullOrEmpty(parsed?.AccessToken) ? parsed.AccessToken : parsed?.Token;
            if (string.IsNullOrEmpty(token))
                throw new RegistryException($"get token from {realm.Authority}: response holds no token");
            // distribution token.md: expires_in defaults to 60 seconds. Stop a little early to absorb clock and transit.
            long expiresIn = parsed!.ExpiresIn is > 0 ? parsed.ExpiresIn.Value : 60;
            var margin = TimeSpan.FromSeconds(Math.Min(10, expiresIn / 10.0));
            RegistryLog.TokenFetched(_logger, _domain, string.Join(' ', scopes), expiresIn);
            return new CachedToken(key, token, time.GetUtcNow() + TimeSpan.FromSeconds(expiresIn) - margin);
        }
    }

    private async Task<HttpResponseMessage> GetTokenAsync(Uri realm, string? service, IReadOnlyList<string> scopes,
        RegistryCredential? cred)
    {
        var query = new StringBuilder(realm.Query.TrimStart('?'));
        if (!string.IsNullOrEmpty(service))
            AppendQuery(query, "service", service);
        foreach (var scope in scopes)
            AppendQuery(query, "scope", scope);
        var uri = new UriBuilder(realm) { Query = query.ToString() }.Uri;
        using var request = new HttpRequestMessage(HttpMethod.Get, uri);
        if (cred is { HasPassword: true })
            request.Headers.Authorization = BasicHeader(cred);
        return await _transport.SendAsync(request, HttpCompletionOption.ResponseContentRead, CancellationToken.None)
            .ConfigureAwait(false);
    }

    private async Task<HttpResponseMessage> PostRefreshAsync(Uri realm, string? service, IReadOnlyList<string> scopes,
        string refreshToken)
    {
        var form = new List<KeyValuePair<string, string>>
        {
            new("grant_type", "refresh_token"),
            new("refresh_token", refreshToken),
            new("client_id", _transport.Options.UserAgent),
            new("service", service ?? ""),
        };
        if (scopes.Count > 0)
            form.Add(new("scope", string.Join(' ', scopes)));
        using var request = new HttpRequestMessage(HttpMethod.Post, realm) { Content = new FormUrlEncodedContent(form) };
        return await _transport.SendAsync(request, HttpCompletionOption.ResponseContentRead, CancellationToken.None)
            .ConfigureAwait(false);
    }

    private bool MaySendCredentials(Uri realm) =>
        realm.Scheme == Uri.UriSchemeHttps ||
        (_registry.Scheme == Uri.UriSchemeHttp &&
         string.Equals(realm.IdnHost, _registry.IdnHost, StringComparison.OrdinalIgnoreCase));

    private static void AppendQuery(StringBuilder query, string name, string value)
    {
        if (query.Length > 0)
            query.Append('&');
        query.Append(name).Append('=').Append(Uri.EscapeDataString(value));
    }

    internal static AuthenticationHeaderValue BasicHeader(RegistryCredential cred) =>
        new("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{cred.Username}:{cred.Password}")));
}
