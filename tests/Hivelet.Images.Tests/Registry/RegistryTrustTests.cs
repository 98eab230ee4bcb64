using System.Net;
using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Hivelet.Errors;
using Hivelet.Images.Registry.Tls;

namespace Hivelet.Images.Tests.Registry;

public sealed class RegistryTrustTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("hivelet-certsd-").FullName;
    private readonly ECDsa _caKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
    private readonly X509Certificate2 _ca;

    public RegistryTrustTests()
    {
        var request = new CertificateRequest("CN=unit-ca", _caKey, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign, true));
        _ca = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1));
    }

    public void Dispose()
    {
        _ca.Dispose();
        _caKey.Dispose();
        Directory.Delete(_root, recursive: true);
    }

    [Fact]
    public void A_registry_without_a_directory_has_no_profile()
    {
        var trust = new RegistryTrust([_root]);
        Assert.False(trust.HasDirectory("reg.lan:5000"));
        Assert.Null(trust.For("reg.lan:5000"));
    }

    [Fact]
    public void Reads_CAs_and_client_pairs_from_every_root_in_order()
    {
        var second = Path.Combine(_root, "docker");
        var dir = Dir(Path.Combine(_root, "hivelet"), "reg.lan:5000");
        File.WriteAllText(Path.Combine(dir, "ca.crt"), _ca.ExportCertificatePem());
        var (cert, key) = Issue("client", null);
        File.WriteAllText(Path.Combine(dir, "client.cert"), cert.ExportCertificatePem());
        File.WriteAllText(Path.Combine(dir, "client.key"), key.ExportPkcs8PrivateKeyPem());
        File.WriteAllText(Path.Combine(Dir(second, "reg.lan:5000"), "other.crt"), cert.ExportCertificatePem());

        var profile = new RegistryTrust([Path.Combine(_root, "hivelet"), second]).For("reg.lan:5000")!;

        Assert.Equal(2, profile.Directories.Count);
        Assert.Equal([_ca.Thumbprint, cert.Thumbprint], profile.Authorities.Select(c => c.Thumbprint));
        var client = Assert.Single(profile.ClientCertificates);
        Assert.True(client.HasPrivateKey);
        cert.Dispose();
        key.Dispose();
    }

    [Fact]
    public void A_key_without_its_certificate_is_an_error_naming_the_file()
    {
        var dir = Dir(_root, "reg.lan");
        using var key = ECDsa.Create();
        File.WriteAllText(Path.Combine(dir, "client.key"), key.ExportPkcs8PrivateKeyPem());

        var e = Assert.Throws<InvalidInputException>(() => new RegistryTrust([_root]).For("reg.lan"));

        Assert.Contains("client.key", e.Message, StringComparison.Ordinal);
        Assert.Contains("client.cert", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_certificate_from_the_registry_CA_is_accepted_and_others_refused_with_go_like_reasons()
    {
        var dir = Dir(_root, "127.0.0.1:5443");
        File.WriteAllText(Path.Combine(dir, "ca.crt"), _ca.ExportCertificatePem());
        var trust = new RegistryTrust([_root]);
        var profile = trust.For("127.0.0.1:5443");
        var (server, key) = Issue("server", IPAddress.Loopback);
        var uri = new Uri("https://127.0.0.1:5443/v2/");

        Assert.True(trust.Validate("127.0.0.1:5443", profile, server, null, SslPolicyErrors.RemoteCertificateChainErrors));
        Assert.Null(trust.TakeFailure(uri));

        var (elsewhere, elsewhereKey) = Issue("elsewhere", IPAddress.Parse("127.0.0.2"));
        Assert.False(trust.Validate("127.0.0.1:5443", profile, elsewhere, null, SslPolicyErrors.RemoteCertificateNameMismatch));
        Assert.Equal("x509: certificate is valid for 127.0.0.2, not 127.0.0.1", trust.TakeFailure(uri));
        elsewhere.Dispose();
        elsewhereKey.Dispose();

        Assert.False(trust.Validate("127.0.0.1:5443", null, server, null, SslPolicyErrors.RemoteCertificateChainErrors));
        var reason = trust.TakeFailure(uri)!;
        Assert.StartsWith("x509: certificate signed by unknown authority", reason, StringComparison.Ordinal);
        Assert.Contains(Path.Combine(_root, "127.0.0.1:5443", "ca.crt"), reason, StringComparison.Ordinal);
        Assert.Null(trust.TakeFailure(uri));
        server.Dispose();
        key.Dispose();
    }

    private static byte[] Serial()
    {
        var serial = RandomNumberGenerator.GetBytes(8);
        serial[0] &= 0x7f;
        return serial;
    }

    private static string Dir(string root, string name)
    {
        var dir = Path.Combine(root, name);
        Directory.CreateDirectory(dir);
        return dir;
    }

    private (X509Certificate2, ECDsa) Issue(string name, IPAddress? address)
    {
        var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN={name}", key, HashAlgorithmName.SHA256);
        if (address is not null)
        {
            var san = new SubjectAlternativeNameBuilder();
            san.AddIpAddress(address);
            request.CertificateExtensions.Add(san.Build());
        }
        var cert = request.Create(_ca, DateTimeOffset.UtcNow.AddHours(-1), DateTimeOffset.UtcNow.AddHours(1), Serial());
        return (cert, key);
    }
}
