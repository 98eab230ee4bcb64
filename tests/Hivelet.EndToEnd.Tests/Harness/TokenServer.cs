using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json;

namespace Hivelet.EndToEnd.Tests.Harness;

/// <summary>
/// A Bearer token server for docker-registry's `auth.token` (images research §7.4) on 127.0.0.1:
/// answers GET /token?service=…&amp;scope=… with an RS256 JWT whose x5c header holds a self-signed
/// certificate made per run, granting every requested action. Records each request so tests can
/// check the scopes asked for and how often a token was fetched.
/// </summary>
public sealed class TokenServer : IDisposable
{
    public const string Service = "hivelet-e2e-registry";
    public const string Issuer = "hivelet-e2e-issuer";

    private readonly HttpListener _listener;
    private readonly RSA _key;
    private readonly X509Certificate2 _certificate;
    private readonly TempDirectory _dir;
    private readonly ConcurrentQueue<TokenRequest> _requests = new();
    private readonly Task _loop;

    private TokenServer(HttpListener listener, RSA key, X509Certificate2 certificate, TempDirectory dir, string host, int port)
    {
        Port = port;
        _listener = listener;
        _key = key;
        _certificate = certificate;
        _dir = dir;
        Realm = $"http://{host}:{port}/token";
        _loop = Task.Run(ServeAsync);
    }

    public string Realm { get; }

    public int Port { get; }

    /// <summary>PEM file of the signing certificate: the registry's rootcertbundle.</summary>
    public string CertificatePath => _dir.Combine("token.crt");

    public IReadOnlyList<TokenRequest> Requests => [.. _requests];

    /// <summary>Starts on 127.0.0.1, or on <paramref name="host"/> (another loopback address).</summary>
    public static TokenServer Start(string host = "127.0.0.1")
    {
        var dir = new TempDirectory("hivelet-e2e-token");
        var key = RSA.Create(2048);
        var request = new CertificateRequest("CN=hivelet-e2e-token", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1));
        File.WriteAllText(dir.Combine("token.crt"), certificate.ExportCertificatePem() + "\n");
        for (int attempt = 1; ; attempt++)
        {
            // HttpListener cannot bind port 0: probe a free port and retry if someone takes it first.
            int port = FreePort();
            var listener = new HttpListener();
            listener.Prefixes.Add($"http://{host}:{port}/");
            try
            {
                listener.Start();
                return new TokenServer(listener, key, certificate, dir, host, port);
            }
            catch (HttpListenerException) when (attempt < 5)
            {
                listener.Close();
            }
            catch
            {
                listener.Close();
                key.Dispose();
                certificate.Dispose();
                dir.Dispose();
                throw;
            }
        }
    }

    public void Dispose()
    {
        _listener.Close();
        try
        {
            _loop.Wait(TimeSpan.FromSeconds(5));
        }
        catch (AggregateException)
        {
        }
        _key.Dispose();
        _certificate.Dispose();
        _dir.Dispose();
    }

    private async Task ServeAsync()
    {
        while (_listener.IsListening)
        {
            HttpListenerContext context;
            try
            {
                context = await _listener.GetContextAsync();
            }
            catch (Exception e) when (e is HttpListenerException or ObjectDisposedException or InvalidOperationException)
            {
                return;
            }
            try
            {
                Answer(context);
            }
            catch (Exception e) when (e is HttpListenerException or IOException)
            {
                // The client went away; the test sees that on its side.
            }
        }
    }

    private void Answer(HttpListenerContext context)
    {
        var query = context.Request.QueryString;
        var scopes = query.GetValues("scope")?.SelectMany(s => s.Split(' ', StringSplitOptions.RemoveEmptyEntries)).ToList() ?? [];
        _requests.Enqueue(new TokenRequest(context.Request.HttpMethod, query["service"], scopes,
            context.Request.Headers["Authorization"] is not null));
        using var response = context.Response;
        if (context.Request.HttpMethod != "GET" || context.Request.Url?.AbsolutePath != "/token")
        {
            response.StatusCode = context.Request.HttpMethod == "GET" ? 404 : 405;
            return;
        }
        var token = Sign(scopes);
        var body = Encoding.UTF8.GetBytes($"{{\"token\":\"{token}\",\"expires_in\":300,\"issued_at\":\"{DateTime.UtcNow:yyyy-MM-ddTHH:mm:ssZ}\"}}");
        response.ContentType = "application/json";
        response.ContentLength64 = body.Length;
        response.OutputStream.Write(body);
    }

    private string Sign(IReadOnlyList<string> scopes)
    {
        var header = Json(w =>
        {
            w.WriteString("typ", "JWT");
            w.WriteString("alg", "RS256");
            w.WriteStartArray("x5c");
            w.WriteStringValue(Convert.ToBase64String(_certificate.RawData));
            w.WriteEndArray();
        });
        long now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        var claims = Json(w =>
        {
            w.WriteString("iss", Issuer);
            w.WriteString("sub", "anonymous");
            w.WriteString("aud", Service);
            w.WriteNumber("exp", now + 300);
            w.WriteNumber("nbf", now - 10);
            w.WriteNumber("iat", now);
            w.WriteString("jti", Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(8)));
            w.WriteStartArray("access");
            foreach (var scope in scopes)
            {
                // type:name:actions where the name may hold a ':' (host:port), so split at the ends.
                int first = scope.IndexOf(':'), last = scope.LastIndexOf(':');
                if (first < 0 || last <= first)
                    continue;
                w.WriteStartObject();
                w.WriteString("type", scope[..first]);
                w.WriteString("name", scope[(first + 1)..last]);
                w.WriteStartArray("actions");
                foreach (var action in scope[(last + 1)..].Split(',', StringSplitOptions.RemoveEmptyEntries))
                    w.WriteStringValue(action);
                w.WriteEndArray();
                w.WriteEndObject();
            }
            w.WriteEndArray();
        });
        var signingInput = $"{Base64Url(header)}.{Base64Url(claims)}";
        var signature = _key.SignData(Encoding.ASCII.GetBytes(signingInput), HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        return $"{signingInput}.{Base64Url(signature)}";
    }

    private static byte[] Json(Action<Utf8JsonWriter> body)
    {
        using var stream = new MemoryStream();
        using (var writer = new Utf8JsonWriter(stream))
        {
            writer.WriteStartObject();
            body(writer);
            writer.WriteEndObject();
        }
        return stream.ToArray();
    }

    private static string Base64Url(byte[] bytes) =>
        Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}

/// <summary>One request the token server saw.</summary>
public sealed record TokenRequest(string Method, string? Service, IReadOnlyList<string> Scopes, bool HadAuthorization);

/// <summary>A token server and a registry that trusts it, shared by a test collection.</summary>
public sealed class TokenRegistryFixture : IAsyncLifetime
{
    private TokenServer? _tokens;
    private RegistryServer? _server;
    private PeerMissingException? _missing;

    public TokenServer Tokens => _tokens ?? throw new InvalidOperationException("the token server did not start", _missing);

    public RegistryServer Registry =>
        _server ?? throw new InvalidOperationException("the token registry fixture did not start", _missing);

    public async Task InitializeAsync()
    {
        _tokens = TokenServer.Start();
        try
        {
            _server = await RegistryServer.StartWithTokenAuthAsync(_tokens);
        }
        catch (PeerMissingException e) when (Peers.SkipWhenMissing)
        {
            _missing = e;
        }
    }

    public Task DisposeAsync()
    {
        _server?.Dispose();
        _tokens?.Dispose();
        return Task.CompletedTask;
    }
}

[CollectionDefinition(Name)]
public sealed class TokenRegistryCollection : ICollectionFixture<TokenRegistryFixture>
{
    public const string Name = "token-registry";
}
