using System.Net;
using Hivelet.Errors;
using Hivelet.Images.Registry.Auth;
using Microsoft.Extensions.Logging;

namespace Hivelet.Images.Registry;

/// <summary>
/// A registry v2 / OCI distribution client for one registry host. Get one from
/// <see cref="RegistryClientFactory"/>, which shares the connection pool, credentials and tokens.
/// Redirects are followed by hand so the registry's Authorization header never reaches another host.
/// </summary>
public sealed partial class RegistryClient
{
    private const int MaxRedirects = 10;

    private readonly RegistryTransport _transport;
    private readonly RegistryAuthenticator _auth;
    private readonly RegistryClientOptions _options;
    private readonly ILogger _logger;

    internal RegistryClient(string domain, Uri baseUri, RegistryTransport transport, RegistryAuthenticator auth)
    {
        Domain = domain;
        BaseUri = baseUri;
        _transport = transport;
        _auth = auth;
        _options = transport.Options;
        _logger = transport.Logger;
    }

    /// <summary>The registry as named in references ("docker.io", "127.0.0.1:5000").</summary>
    public string Domain { get; }

    /// <summary>Where it is reached ("https://registry-1.docker.io/", "http://127.0.0.1:5000/").</summary>
    public Uri BaseUri { get; }

    /// <summary>GET /v2/: checks that this is a v2 registry and that our credentials (if any) work.</summary>
    public Task PingAsync(CancellationToken ct = default) =>
        WithRetriesAsync(null, async () =>
        {
            using var response = await SendAsync(u => new HttpRequestMessage(HttpMethod.Get, u), Endpoint("v2/"), [],
                HttpCompletionOption.ResponseContentRead, ct).ConfigureAwait(false);
            if (response.StatusCode == HttpStatusCode.NotFound)
            {
                throw new RegistryException($"registry {Domain} is not a registry v2 endpoint (HTTP 404 on /v2/)",
                    HttpStatusCode.NotFound);
            }
            if (!response.IsSuccessStatusCode)
            {
                var e = await Error(response, ct).ConfigureAwait(false);
                throw Wrap($"registry {Domain}", e);
            }
            return true;
        }, ct);

    internal Uri Endpoint(string relative) => new(BaseUri, relative);

    /// <summary>
    /// Sends a request built by <paramref name="build"/>, authorizing it when it goes to the registry
    /// itself; after a 401 it learns the challenge and sends once more.
    /// </summary>
    internal async Task<HttpResponseMessage> SendAsync(Func<Uri, HttpRequestMessage> build, Uri uri,
        IReadOnlyList<string> scopes, HttpCompletionOption completion, CancellationToken ct)
    {
        bool toRegistry = IsRegistry(uri);
        for (int round = 0; ; round++)
        {
            var request = build(uri);
            HttpResponseMessage response;
            try
            {
                var applied = toRegistry ? await _auth.ApplyAsync(request, scopes, ct).ConfigureAwait(false) : null;
                response = await _transport.SendAsync(request, completion, ct).ConfigureAwait(false);
                if (response.StatusCode != HttpStatusCode.Unauthorized || !toRegistry || round > 0)
                    return response;
                var retryScopes = _auth.OnUnauthorized(response, scopes, applied);
                if (retryScopes is null)
                    return response;
                scopes = retryScopes;
            }
            finally
            {
                request.Dispose();
            }
            response.Dispose();
        }
    }

    /// <summary>GET or HEAD that follows up to 10 redirects, refusing https to http downgrades.</summary>
    internal async Task<HttpResponseMessage> SendFollowingRedirectsAsync(HttpMethod method, Uri uri,
        IReadOnlyList<string> scopes, Action<HttpRequestMessage>? decorate, CancellationToken ct)
    {
        for (int hop = 0; ; hop++)
        {
            var response = await SendAsync(u =>
            {
                var r = new HttpRequestMessage(method, u);
                decorate?.Invoke(r);
                return r;
            }, uri, scopes, HttpCompletionOption.ResponseHeadersRead, ct).ConfigureAwait(false);
            if (!RegistryTransport.IsRedirect(response.StatusCode) || response.Headers.Location is null)
                return response;
            var next = response.Headers.Location.IsAbsoluteUri
                ? response.Headers.Location
                : new Uri(uri, response.Headers.Location);
            response.Dispose();
            if (hop >= MaxRedirects)
                throw new RegistryException($"more than {MaxRedirects} redirects, last to {next.Authority}");
            if (next.Scheme is not ("http" or "https") || (uri.Scheme == Uri.UriSchemeHttps && next.Scheme != Uri.UriSchemeHttps))
                throw new RegistryException($"refusing redirect from {uri.Scheme}://{uri.Authority} to {next.Scheme}://{next.Authority}");
            RegistryLog.Redirect(_logger, RegistryTransport.Redact(uri), RegistryTransport.Redact(next));
            uri = next;
        }
    }

    /// <summary>Same scheme, host and port as the registry: only then does it get our Authorization.</summary>
    internal bool IsRegistry(Uri uri) =>
        Uri.Compare(uri, BaseUri, UriComponents.SchemeAndServer, UriFormat.Unescaped,
            StringComparison.OrdinalIgnoreCase) == 0;

    /// <summary>
    /// Runs <paramref name="action"/> again after transient failures with exponential backoff
    /// (Retry-After honoured up to <see cref="RegistryClientOptions.MaxRetryAfter"/>), and puts
    /// <paramref name="subject"/> in front of the final error.
    /// </summary>
    internal async Task<T> WithRetriesAsync<T>(string? subject, Func<Task<T>> action, CancellationToken ct)
    {
        for (int attempt = 1; ; attempt++)
        {
            try
            {
                return await action().ConfigureAwait(false);
            }
            catch (RegistryException e) when (e.IsTransient && attempt < _options.MaxAttempts &&
                                              RetryDelay(attempt, e.RetryAfter) is { } delay)
            {
                RegistryLog.Retrying(_logger, subject ?? $"registry {Domain}", attempt, e.Message,
                    (long)delay.TotalMilliseconds);
                await Task.Delay(delay, _options.TimeProvider, ct).ConfigureAwait(false);
            }
            catch (RegistryException e) when (subject is not null)
            {
                throw Wrap(subject, e);
            }
            catch (DigestMismatchException e) when (subject is not null && !e.Message.StartsWith(subject, StringComparison.Ordinal))
            {
                throw new DigestMismatchException($"{subject}: {e.Message}");
            }
        }
    }

    /// <summary>Backoff for the attempt that just failed; null when the registry wants us to wait too long.</summary>
    internal TimeSpan? RetryDelay(int attempt, TimeSpan? retryAfter)
    {
        if (retryAfter is { } wanted)
            return wanted <= _options.MaxRetryAfter ? wanted : null;
        var backoff = _options.InitialBackoff * Math.Pow(2, attempt - 1);
        return backoff < _options.MaxBackoff ? backoff : _options.MaxBackoff;
    }

    internal Task<RegistryException> Error(HttpResponseMessage response, CancellationToken ct) =>
        RegistryErrors.FromResponseAsync(response, _options.TimeProvider, ct);

    internal static RegistryException Wrap(string subject, RegistryException e) =>
        e.Message.StartsWith(subject + ":", StringComparison.Ordinal)
            ? e
            : new RegistryException($"{subject}: {e.Message}", e.StatusCode, e.ErrorCode, e.RetryAfter, e.IsTransient,
                e.InnerException);

    /// <summary>Repository names become URL paths: allow only the reference grammar's characters.</summary>
    internal static void ValidateRepository(string repository)
    {
        bool ok = repository.Length > 0 && repository[0] != '/' && repository[^1] != '/';
        foreach (var c in repository)
            ok &= c is (>= 'a' and <= 'z') or (>= '0' and <= '9') or '.' or '_' or '-' or '/';
        foreach (var part in repository.Split('/'))
            ok &= part.Length > 0 && part != "." && part != "..";
        if (!ok)
            throw new InvalidInputException($"invalid repository name \"{repository}\"");
    }

    /// <summary>A tag ([A-Za-z0-9_][A-Za-z0-9_.-]{0,127}) or a valid digest.</summary>
    internal static void ValidateReference(string reference)
    {
        if (Oci.Digest.TryParse(reference, out _))
            return;
        bool ok = reference.Length is > 0 and <= 128 && reference[0] is not ('.' or '-');
        foreach (var c in reference)
            ok &= c is (>= 'a' and <= 'z') or (>= 'A' and <= 'Z') or (>= '0' and <= '9') or '_' or '.' or '-';
        if (!ok)
            throw new InvalidInputException($"invalid tag or digest \"{reference}\"");
    }

    private static string Separator(string reference) => Oci.Digest.TryParse(reference, out _) ? "@" : ":";

    internal string Subject(string operation, string repository, string reference) =>
        $"{operation} {Domain}/{repository}{Separator(reference)}{reference}";
}
