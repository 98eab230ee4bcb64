using System.Net;
using System.Text;
using System.Text.Json;
using Hivelet.EndToEnd.Tests.Harness;
using Hivelet.Fixtures;

namespace Hivelet.EndToEnd.Tests;

/// <summary>
/// Registries on https with a CA made per run: Debian's docker-registry with http.tls (and clientcas
/// for mutual TLS), trust given to hivelet through a certs.d root named by HIVELET_CERTS_D.
/// </summary>
public sealed class TlsRegistryTests : IDisposable
{
    private readonly TestCertificates _ca = new("hivelet-e2e-ca");
    private readonly TempDirectory _certsD = new("hivelet-e2e-certsd");

    public void Dispose()
    {
        _certsD.Dispose();
        _ca.Dispose();
    }

    [E2EFact(Peers.Registry)]
    public async Task Push_and_pull_over_https_with_the_registry_CA_in_certs_d()
    {
        using var registry = await RegistryServer.StartWithTlsAsync(ServerTls());
        var image = ImageFactory.Build(VerbImages.Alpha());
        using var cli = Cli(registry, trust: true);
        var target = $"{registry.Host}/tls/alpha:v1";
        await VerbImages.LoadAsync(cli, image, "lab/alpha:v1");
        await cli.RunOkAsync("tag", "lab/alpha:v1", target);

        await cli.RunOkAsync("push", target);

        using var fresh = Cli(registry, trust: true);
        await fresh.RunOkAsync("pull", target);
        using var inspect = JsonDocument.Parse((await fresh.RunOkAsync("image", "inspect", target)).Stdout);
        Assert.Equal(image.ImageId.ToString(), inspect.RootElement[0].GetProperty("Id").GetString());
        // The manifest digest is the one hivelet pushed (a docker-save archive is loaded as a Docker v2 manifest).
        Assert.StartsWith($"{registry.Host}/tls/alpha@sha256:", Assert.Single(ImageVerbTests.Strings(inspect.RootElement[0].GetProperty("RepoDigests"))),
            StringComparison.Ordinal);
    }

    [E2EFact(Peers.Registry)]
    public async Task A_certificate_from_an_unknown_CA_is_refused_naming_the_host_and_where_the_CA_goes()
    {
        using var registry = await RegistryServer.StartWithTlsAsync(ServerTls());
        using var other = new TestCertificates("hivelet-e2e-other-ca");
        using var cli = Cli(registry, trust: false);
        // The directory exists (so the registry is spoken to over https) but trusts another CA.
        File.Copy(other.AuthorityPath, Path.Combine(TrustDir(registry), "ca.crt"));

        var result = await cli.RunAsync("pull", $"{registry.Host}/tls/none:v1");

        Assert.Equal(125, result.ExitCode);
        Assert.Contains("x509: certificate signed by unknown authority", result.Stderr, StringComparison.Ordinal);
        Assert.Contains(registry.Host, result.Stderr, StringComparison.Ordinal);
        Assert.Contains(Path.Combine(_certsD.Path, registry.Host), result.Stderr, StringComparison.Ordinal);
    }

    [E2EFact(Peers.Registry)]
    public async Task A_certificate_for_another_name_is_refused_as_a_name_mismatch()
    {
        var files = _ca.IssueServer("wrong-name", IPAddress.Parse("127.0.0.2"));
        using var registry = await RegistryServer.StartWithTlsAsync(new RegistryTls(files.Certificate, files.Key));
        using var cli = Cli(registry, trust: true);

        var result = await cli.RunAsync("pull", $"{registry.Host}/tls/none:v1");

        Assert.Equal(125, result.ExitCode);
        Assert.Contains("x509: certificate is valid for 127.0.0.2, not 127.0.0.1", result.Stderr, StringComparison.Ordinal);
    }

    [E2EFact(Peers.Registry)]
    public async Task Mutual_TLS_works_with_client_cert_and_key_and_fails_without()
    {
        using var clientCa = new TestCertificates("hivelet-e2e-client-ca");
        var server = _ca.IssueServer("registry", IPAddress.Loopback);
        using var registry = await RegistryServer.StartWithTlsAsync(new RegistryTls(server.Certificate, server.Key, clientCa.AuthorityPath));
        var image = ImageFactory.Build(VerbImages.Beta());
        var target = $"{registry.Host}/tls/mutual:v1";

        using (var without = Cli(registry, trust: true))
        {
            var refused = await without.RunAsync("pull", target);
            Assert.Equal(125, refused.ExitCode);
            Assert.Contains(registry.Host, refused.Stderr, StringComparison.Ordinal);
            Assert.Single(ImageVerbTests.Lines((await without.RunOkAsync("images")).Stdout));
        }

        var client = clientCa.IssueClient("client");
        File.Copy(client.Certificate, Path.Combine(TrustDir(registry), "client.cert"));
        File.Copy(client.Key, Path.Combine(TrustDir(registry), "client.key"));
        using var cli = Cli(registry, trust: true);
        await VerbImages.LoadAsync(cli, image, "lab/beta:v1");
        await cli.RunOkAsync("tag", "lab/beta:v1", target);
        await cli.RunOkAsync("push", target);
        using var fresh = Cli(registry, trust: true);
        await fresh.RunOkAsync("pull", target);
        using var inspect = JsonDocument.Parse((await fresh.RunOkAsync("image", "inspect", target)).Stdout);
        Assert.Equal(image.ImageId.ToString(), inspect.RootElement[0].GetProperty("Id").GetString());
    }

    [Fact]
    public async Task A_redirect_from_https_to_http_is_refused()
    {
        using var backend = new RedirectingServer();
        using var certificate = TestCertificates.Load(_ca.IssueServer("redirector", IPAddress.Loopback));
        using var proxy = new TlsProxy(IPAddress.Loopback, certificate, new IPEndPoint(IPAddress.Loopback, backend.Port));
        Directory.CreateDirectory(Path.Combine(_certsD.Path, proxy.Authority));
        File.Copy(_ca.AuthorityPath, Path.Combine(_certsD.Path, proxy.Authority, "ca.crt"));
        using var cli = new HiveletCli();
        cli.Environment["HIVELET_CERTS_D"] = _certsD.Path;

        var result = await cli.RunAsync("pull", $"{proxy.Authority}/redirect/app:v1");

        Assert.Equal(125, result.ExitCode);
        Assert.Contains($"refusing redirect from https://{proxy.Authority} to http://127.0.0.1:{backend.Port}", result.Stderr, StringComparison.Ordinal);
        Assert.True(backend.Requests.Contains("/v2/redirect/app/manifests/v1"), "the registry was never asked for the manifest");
        Assert.DoesNotContain("/elsewhere", backend.Requests);
    }

    [E2EFact(Peers.Registry)]
    public async Task An_https_token_realm_on_another_host_gets_the_credentials()
    {
        using var tokens = TokenServer.Start("127.0.0.2");
        using var certificate = TestCertificates.Load(_ca.IssueServer("token", IPAddress.Parse("127.0.0.2")));
        using var realm = new TlsProxy(IPAddress.Parse("127.0.0.2"), certificate, new IPEndPoint(IPAddress.Parse("127.0.0.2"), tokens.Port));
        using var registry = await RegistryServer.StartWithTlsAsync(ServerTls(), tokens: tokens, realm: $"https://{realm.Authority}/token");
        using var cli = Cli(registry, trust: true);
        Directory.CreateDirectory(Path.Combine(_certsD.Path, realm.Authority));
        File.Copy(_ca.AuthorityPath, Path.Combine(_certsD.Path, realm.Authority, "ca.crt"));

        var login = await cli.RunAsync(["login", "-u", "token-user", "--password-stdin", registry.Host], stdin: "token-secret\n");
        login.EnsureSuccess();
        var image = ImageFactory.Build(VerbImages.Alpha());
        var target = $"{registry.Host}/tls/private:v1";
        await VerbImages.LoadAsync(cli, image, "lab/alpha:v1");
        await cli.RunOkAsync("tag", "lab/alpha:v1", target);
        await cli.RunOkAsync("push", target);
        await cli.RunOkAsync("rmi", target);
        int before = tokens.Requests.Count;

        await cli.RunOkAsync("pull", target);

        var requests = tokens.Requests.Skip(before).ToList();
        Assert.NotEmpty(requests);
        Assert.All(requests, r => Assert.True(r.HadAuthorization, "the https realm on another host got no credentials"));
        Assert.Contains(requests, r => r.Scopes.Contains("repository:tls/private:pull"));
    }

    private RegistryTls ServerTls()
    {
        var files = _ca.IssueServer("registry", IPAddress.Loopback);
        return new RegistryTls(files.Certificate, files.Key);
    }

    private string TrustDir(RegistryServer registry)
    {
        var dir = Path.Combine(_certsD.Path, registry.Host);
        Directory.CreateDirectory(dir);
        return dir;
    }

    private HiveletCli Cli(RegistryServer registry, bool trust)
    {
        var dir = TrustDir(registry);
        if (trust && !File.Exists(Path.Combine(dir, "ca.crt")))
            File.Copy(_ca.AuthorityPath, Path.Combine(dir, "ca.crt"));
        var cli = new HiveletCli();
        cli.Environment["HIVELET_CERTS_D"] = _certsD.Path;
        return cli;
    }

    /// <summary>A plain HTTP "registry" whose manifests redirect to plain http.</summary>
    private sealed class RedirectingServer : IDisposable
    {
        private readonly HttpListener _listener = new();
        private readonly Task _loop;
        private readonly List<string> _requests = [];

        public RedirectingServer()
        {
            for (int attempt = 1; ; attempt++)
            {
                using (var probe = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0))
                {
                    probe.Start();
                    Port = ((IPEndPoint)probe.LocalEndpoint).Port;
                }
                _listener.Prefixes.Clear();
                _listener.Prefixes.Add($"http://127.0.0.1:{Port}/");
                try
                {
                    _listener.Start();
                    break;
                }
                catch (HttpListenerException) when (attempt < 5)
                {
                }
            }
            _loop = Task.Run(ServeAsync);
        }

        public int Port { get; private set; }

        public List<string> Requests
        {
            get
            {
                lock (_requests)
                    return [.. _requests];
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
                var path = context.Request.Url!.AbsolutePath;
                lock (_requests)
                    _requests.Add(path);
                using var response = context.Response;
                response.Headers["Docker-Distribution-Api-Version"] = "registry/2.0";
                if (path == "/v2/")
                {
                    var body = Encoding.UTF8.GetBytes("{}");
                    response.ContentType = "application/json";
                    response.ContentLength64 = body.Length;
                    response.OutputStream.Write(body);
                }
                else
                {
                    response.StatusCode = 307;
                    response.RedirectLocation = $"http://127.0.0.1:{Port}/elsewhere";
                }
            }
        }
    }
}
