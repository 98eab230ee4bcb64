using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Hivelet.EndToEnd.Tests.Harness;

/// <summary>
/// A certificate authority made per run with System.Security.Cryptography, issuing server and client
/// certificates; everything is written as PEM files into a temp directory deleted on dispose.
/// </summary>
public sealed class TestCertificates : IDisposable
{
    private readonly TempDirectory _dir;
    private readonly ECDsa _caKey;

    public TestCertificates(string name)
    {
        _dir = new TempDirectory("hivelet-e2e-certs");
        _caKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN={name}", _caKey, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, false));
        Authority = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(2));
        AuthorityPath = _dir.Combine(name + "-ca.crt");
        File.WriteAllText(AuthorityPath, Authority.ExportCertificatePem() + "\n");
    }

    public X509Certificate2 Authority { get; }

    /// <summary>PEM of the CA certificate.</summary>
    public string AuthorityPath { get; }

    /// <summary>A server certificate for the IP addresses given; returns (certificate PEM path, key PEM path).</summary>
    public (string Certificate, string Key) IssueServer(string name, params IPAddress[] addresses)
    {
        var san = new SubjectAlternativeNameBuilder();
        foreach (var address in addresses)
            san.AddIpAddress(address);
        return Issue(name, san.Build(), new Oid("1.3.6.1.5.5.7.3.1"));
    }

    /// <summary>A client certificate for mutual TLS; returns (certificate PEM path, key PEM path).</summary>
    public (string Certificate, string Key) IssueClient(string name) => Issue(name, null, new Oid("1.3.6.1.5.5.7.3.2"));

    /// <summary>The server certificate with its key, for an in-test TLS listener.</summary>
    public static X509Certificate2 Load((string Certificate, string Key) files)
    {
        using var pem = X509Certificate2.CreateFromPemFile(files.Certificate, files.Key);
        return X509CertificateLoader.LoadPkcs12(pem.Export(X509ContentType.Pkcs12), null);
    }

    public void Dispose()
    {
        Authority.Dispose();
        _caKey.Dispose();
        _dir.Dispose();
    }

    private (string, string) Issue(string name, X509Extension? san, Oid usage)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN={name}", key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature | X509KeyUsageFlags.KeyAgreement, true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([usage], false));
        if (san is not null)
            request.CertificateExtensions.Add(san);
        var serial = RandomNumberGenerator.GetBytes(12);
        serial[0] &= 0x7f;
        using var certificate = request.Create(Authority, DateTimeOffset.UtcNow.AddHours(-1), DateTimeOffset.UtcNow.AddDays(1), serial);
        var certPath = _dir.Combine(name + ".cert");
        var keyPath = _dir.Combine(name + ".key");
        File.WriteAllText(certPath, certificate.ExportCertificatePem() + "\n");
        File.WriteAllText(keyPath, key.ExportPkcs8PrivateKeyPem() + "\n");
        return (certPath, keyPath);
    }
}
