using System.Collections.Concurrent;
using System.Net;
using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Hivelet.Errors;

namespace Hivelet.Images.Registry.Tls;

/// <summary>
/// Per-registry TLS trust the way Docker reads /etc/docker/certs.d: a directory named after the
/// registry ("host" for port 443, else "host:port") under each certs root holds CA certificates
/// (*.crt, trusted besides the system store) and client certificates for mutual TLS (*.cert with
/// the *.key of the same name). hivelet's own root comes first, then Docker's, so existing lab
/// setups work. A registry with such a directory is spoken to over https even on loopback.
/// </summary>
public sealed class RegistryTrust
{
    internal const string UnknownAuthority = "x509: certificate signed by unknown authority";

    public static readonly IReadOnlyList<string> DefaultRoots = ["/etc/hivelet/certs.d", "/etc/docker/certs.d"];

    private readonly ConcurrentDictionary<string, TrustProfile?> _profiles = new(StringComparer.OrdinalIgnoreCase);
    private readonly ConcurrentDictionary<string, string> _failures = new(StringComparer.OrdinalIgnoreCase);

    public RegistryTrust(IReadOnlyList<string>? roots = null)
    {
        Roots = roots ?? DefaultRoots;
    }

    public IReadOnlyList<string> Roots { get; }

    /// <summary>Where a CA for <paramref name="authority"/> belongs, for error messages.</summary>
    public string SuggestedDirectory(string authority) => Path.Combine(Roots.Count > 0 ? Roots[0] : DefaultRoots[0], authority);

    /// <summary>Whether any certs root has a directory for this registry ("host[:port]").</summary>
    public bool HasDirectory(string authority) => Roots.Any(r => Directory.Exists(Path.Combine(r, authority)));

    /// <summary>The trust for "host[:port]" (URI authority form), or null when no certs directory names it.</summary>
    public TrustProfile? For(string authority) => _profiles.GetOrAdd(authority, Load);

    /// <summary>
    /// Why the last TLS handshake with <paramref name="uri"/>'s host was refused (once), with a hint
    /// on how to trust it; null when no certificate was refused.
    /// </summary>
    public string? TakeFailure(Uri uri)
    {
        if (!_failures.TryRemove(uri.Authority, out var reason) && !_failures.TryRemove(uri.IdnHost, out reason))
            return null;
        return reason == UnknownAuthority
            ? $"{reason} (to trust the registry's CA, put it in {SuggestedDirectory(uri.Authority)}/ca.crt)"
            : reason;
    }

    /// <summary>
    /// The certificate check for connections to <paramref name="authority"/>: the system store, or
    /// failing that the registry's own CAs; the host name must always match. A refusal records the
    /// reason in Go's words ("x509: certificate signed by unknown authority") for the error message.
    /// </summary>
    internal bool Validate(string authority, TrustProfile? profile, X509Certificate? certificate, X509Chain? chain,
        SslPolicyErrors errors)
    {
        if (errors == SslPolicyErrors.None)
            return true;
        if (certificate is null || (errors & SslPolicyErrors.RemoteCertificateNotAvailable) != 0)
            return Refuse(authority, "the server sent no certificate");
        using var leaf = new X509Certificate2(certificate);
        if ((errors & SslPolicyErrors.RemoteCertificateNameMismatch) != 0)
        {
            var host = HostOf(authority);
            var names = Names(leaf);
            return Refuse(authority, names.Count == 0
                ? $"x509: certificate is not valid for {host}"
                : $"x509: certificate is valid for {string.Join(", ", names)}, not {host}");
        }
        if (profile is { Authorities.Count: > 0 })
        {
            using var custom = new X509Chain();
            custom.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
            custom.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
            custom.ChainPolicy.CustomTrustStore.AddRange(profile.Authorities);
            if (chain is not null)
            {
                foreach (var element in chain.ChainElements)
                    custom.ChainPolicy.ExtraStore.Add(element.Certificate);
            }
            if (custom.Build(leaf))
                return true;
            if (custom.ChainStatus.Any(s => s.Status == X509ChainStatusFlags.NotTimeValid))
                return Refuse(authority, "x509: certificate has expired or is not yet valid");
        }
        else if (chain?.ChainStatus.Any(s => s.Status == X509ChainStatusFlags.NotTimeValid) == true)
        {
            return Refuse(authority, "x509: certificate has expired or is not yet valid");
        }
        return Refuse(authority, UnknownAuthority);
    }

    private bool Refuse(string authority, string reason)
    {
        _failures[authority] = reason;
        return false;
    }

    private static List<string> Names(X509Certificate2 certificate)
    {
        var names = new List<string>();
        foreach (var extension in certificate.Extensions)
        {
            if (extension is X509SubjectAlternativeNameExtension san)
            {
                names.AddRange(san.EnumerateDnsNames());
                names.AddRange(san.EnumerateIPAddresses().Select(ip => ip.ToString()));
            }
        }
        if (names.Count == 0 && certificate.GetNameInfo(X509NameType.DnsName, false) is { Length: > 0 } cn)
            names.Add(cn);
        return names;
    }

    private static string HostOf(string authority) => RegistryEndpoint.HostOf(authority);

    private TrustProfile? Load(string authority)
    {
        var directories = Roots.Select(r => Path.Combine(r, authority)).Where(Directory.Exists).ToList();
        if (directories.Count == 0)
            return null;
        var authorities = new X509Certificate2Collection();
        var clients = new X509Certificate2Collection();
        foreach (var dir in directories)
        {
            foreach (var file in Directory.EnumerateFiles(dir).Order(StringComparer.Ordinal))
            {
                try
                {
                    if (file.EndsWith(".crt", StringComparison.Ordinal))
                    {
                        authorities.ImportFromPemFile(file);
                    }
                    else if (file.EndsWith(".cert", StringComparison.Ordinal))
                    {
                        var key = Path.ChangeExtension(file, ".key");
                        if (!File.Exists(key))
                            throw new InvalidInputException($"client certificate {file} has no key {Path.GetFileName(key)} beside it");
                        clients.Add(LoadClientCertificate(file, key));
                    }
                    else if (file.EndsWith(".key", StringComparison.Ordinal) && !File.Exists(Path.ChangeExtension(file, ".cert")))
                    {
                        throw new InvalidInputException($"key {file} has no client certificate {Path.GetFileNameWithoutExtension(file)}.cert beside it");
                    }
                }
                catch (CryptographicException e)
                {
                    throw new InvalidInputException($"read TLS trust for {authority}: {file}: {e.Message}");
                }
                catch (InvalidInputException e)
                {
                    throw new InvalidInputException($"read TLS trust for {authority}: {e.Message}");
                }
                catch (IOException e)
                {
                    throw new HiveletException($"read TLS trust for {authority}: {file}", e);
                }
            }
        }
        return new TrustProfile(authority, directories, authorities, clients);
    }

    /// <summary>
    /// A PEM certificate and key as one certificate with a private key. OpenSSL's TLS needs the key
    /// in a form it can use for the handshake, so it is round-tripped through PKCS#12.
    /// </summary>
    private static X509Certificate2 LoadClientCertificate(string certificate, string key)
    {
        using var pem = X509Certificate2.CreateFromPemFile(certificate, key);
        return X509CertificateLoader.LoadPkcs12(pem.Export(X509ContentType.Pkcs12), null);
    }
}

/// <summary>What certs.d says about one registry.</summary>
public sealed record TrustProfile(string Authority, IReadOnlyList<string> Directories,
    X509Certificate2Collection Authorities, X509Certificate2Collection ClientCertificates);

/// <summary>One HttpClient per registry with a trust directory, one shared by all others.</summary>
internal sealed class HttpClientPool : IDisposable
{
    private readonly RegistryTrust _trust;
    private readonly RegistryClientOptions _options;
    private readonly ConcurrentDictionary<string, HttpClient> _clients = new(StringComparer.OrdinalIgnoreCase);
    private readonly HttpClient _shared;

    public HttpClientPool(RegistryTrust trust, RegistryClientOptions options)
    {
        _trust = trust;
        _options = options;
        _shared = Create(null);
    }

    public RegistryTrust Trust => _trust;

    public HttpClient For(Uri uri)
    {
        if (uri.Scheme != Uri.UriSchemeHttps)
            return _shared;
        var profile = _trust.For(uri.Authority);
        return profile is null ? _shared : _clients.GetOrAdd(uri.Authority, _ => Create(profile));
    }

    public void Dispose()
    {
        _shared.Dispose();
        foreach (var client in _clients.Values)
            client.Dispose();
    }

    private HttpClient Create(TrustProfile? profile)
    {
        var handler = new SocketsHttpHandler
        {
            // Redirects are followed by RegistryClient so it decides per host whether auth goes along.
            AllowAutoRedirect = false,
            UseCookies = false,
            AutomaticDecompression = DecompressionMethods.None,
            ConnectTimeout = _options.RequestTimeout,
            PooledConnectionIdleTimeout = TimeSpan.FromSeconds(60),
            SslOptions = new SslClientAuthenticationOptions
            {
                ClientCertificates = profile?.ClientCertificates,
                RemoteCertificateValidationCallback = (sender, certificate, chain, errors) =>
                {
                    var authority = profile?.Authority ?? (sender as SslStream)?.TargetHostName ?? "";
                    return _trust.Validate(authority, profile, certificate, chain, errors);
                },
            },
        };
        return new HttpClient(handler) { Timeout = Timeout.InfiniteTimeSpan };
    }
}
