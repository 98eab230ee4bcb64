using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using Hivelet.Images.Registry.Tls;
using Microsoft.Extensions.Logging;

namespace Hivelet.Images.Registry;

/// <summary>
/// One HTTP exchange with timeouts, nothing more: no auth, no redirects, no retries. Network
/// failures become <see cref="RegistryException"/>s that say whether a retry may help.
/// </summary>
internal sealed class RegistryTransport
{
    private readonly HttpClientPool _http;
    private readonly RegistryClientOptions _options;
    private readonly ILogger _logger;

    public RegistryTransport(HttpClientPool http, RegistryClientOptions options, ILogger logger)
    {
        _http = http;
        _options = options;
        _logger = logger;
    }

    public RegistryClientOptions Options => _options;

    public ILogger Logger => _logger;

    public async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, HttpCompletionOption completion,
        CancellationToken ct)
    {
        request.Headers.UserAgent.Add(new ProductInfoHeaderValue(_options.UserAgent, null));
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(_options.RequestTimeout);
        HttpResponseMessage response;
        try
        {
            // With ResponseHeadersRead the token only covers the headers; body reads have their own.
            response = await _http.For(request.RequestUri!).SendAsync(request, completion, timeout.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            throw new RegistryException(
                $"registry {request.RequestUri!.Authority} did not answer within {_options.RequestTimeout.TotalSeconds:0}s",
                isTransient: true);
        }
        catch (HttpRequestException e) when (_http.Trust.TakeFailure(request.RequestUri!) is { } refused)
        {
            throw new RegistryException($"registry {request.RequestUri!.Authority} is not reachable: {refused}", inner: e);
        }
        catch (HttpRequestException e)
        {
            throw Unreachable(request.RequestUri!, e, ClientCertificateHint(request.RequestUri!, e));
        }
        RegistryLog.Response(_logger, request.Method.Method, Redact(request.RequestUri!), (int)response.StatusCode);
        LogWarnings(request.RequestUri!, response);
        return response;
    }

    /// <summary>OCI "Warning: 299 - \"text\"" headers are for people: shown, never acted on.</summary>
    private void LogWarnings(Uri uri, HttpResponseMessage response)
    {
        if (!response.Headers.NonValidated.TryGetValues("Warning", out var values))
            return;
        int total = 0;
        foreach (var value in values)
        {
            total += value.Length;
            if (total > 4096)
                break;
            if (value.StartsWith("299 ", StringComparison.Ordinal))
                RegistryLog.RegistryWarning(_logger, uri.Authority, value[4..].Trim());
        }
    }

    /// <summary>"registry 127.0.0.1:5999 is not reachable: Connection refused", or "... failed to answer: ..."
    /// when the connection broke after it was made.</summary>
    /// <summary>
    /// A registry that wants a client certificate drops a TLS 1.3 connection after the handshake;
    /// say where the certificate goes when none is configured.
    /// </summary>
    private string? ClientCertificateHint(Uri uri, HttpRequestException e)
    {
        if (uri.Scheme != Uri.UriSchemeHttps || _http.Trust.For(uri.Authority) is { ClientCertificates.Count: > 0 })
            return null;
        for (Exception? x = e; x is not null; x = x.InnerException)
        {
            if (x is System.Security.Authentication.AuthenticationException ||
                x.Message.Contains("certificate", StringComparison.OrdinalIgnoreCase) ||
                x.Message.Contains("SSL", StringComparison.Ordinal))
            {
                return $"if the registry requires a client certificate, put client.cert and client.key in {_http.Trust.SuggestedDirectory(uri.Authority)}";
            }
        }
        return null;
    }

    internal static RegistryException Unreachable(Uri uri, Exception e, string? hint = null)
    {
        var socket = FindInner<SocketException>(e);
        var cause = socket?.Message ?? Innermost(e).Message;
        // Refused, unknown host, no route: the next attempt will fail the same way, so fail now.
        bool transient = socket?.SocketErrorCode is not (SocketError.ConnectionRefused or SocketError.HostNotFound
            or SocketError.HostUnreachable or SocketError.NetworkUnreachable or SocketError.NoData)
            && e is not HttpRequestException
            {
                HttpRequestError: HttpRequestError.NameResolutionError
                or HttpRequestError.SecureConnectionError or HttpRequestError.ProxyTunnelError
            };
        bool connecting = e is HttpRequestException
        {
            HttpRequestError: HttpRequestError.ConnectionError
            or HttpRequestError.NameResolutionError or HttpRequestError.SecureConnectionError or HttpRequestError.ProxyTunnelError
        };
        var what = connecting ? "is not reachable" : "failed to answer";
        var suffix = hint is null ? "" : $" ({hint})";
        return new RegistryException($"registry {uri.Authority} {what}: {cause}{suffix}", isTransient: transient, inner: e);
    }

    /// <summary>A URL for logs: no query, which may carry signatures of pre-signed storage URLs.</summary>
    internal static string Redact(Uri uri) => uri.GetLeftPart(UriPartial.Path);

    internal static T? FindInner<T>(Exception e) where T : Exception
    {
        for (Exception? x = e; x is not null; x = x.InnerException)
        {
            if (x is T t)
                return t;
        }
        return null;
    }

    private static Exception Innermost(Exception e)
    {
        while (e.InnerException is not null)
            e = e.InnerException;
        return e;
    }

    internal static bool IsRedirect(HttpStatusCode status) => status is HttpStatusCode.MovedPermanently
        or HttpStatusCode.Found or HttpStatusCode.SeeOther or HttpStatusCode.TemporaryRedirect
        or HttpStatusCode.PermanentRedirect;
}
