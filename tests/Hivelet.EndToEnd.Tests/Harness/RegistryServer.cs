using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;

namespace Hivelet.EndToEnd.Tests.Harness;

/// <summary>
/// Debian's docker-registry (distribution 2.8.2) on 127.0.0.1 with a free port and temporary
/// storage; optionally with htpasswd Basic auth for a user made up per run. Dispose stops the
/// process and deletes its data.
/// </summary>
public sealed class RegistryServer : IDisposable
{
    private const int StartAttempts = 3;
    private static readonly TimeSpan ReadyTimeout = TimeSpan.FromSeconds(20);

    private readonly TempDirectory _dir;
    private readonly Process _process;
    private readonly ConcurrentQueue<string> _log;

    private RegistryServer(TempDirectory dir, Process process, ConcurrentQueue<string> log, int port,
        NetworkCredential? credential, bool tls)
    {
        Tls = tls;
        _dir = dir;
        _process = process;
        _log = log;
        Port = port;
        Credential = credential;
    }

    public int Port { get; }

    /// <summary>"127.0.0.1:PORT", the registry part of image references.</summary>
    public string Host => $"127.0.0.1:{Port}";

    public Uri BaseUri => new($"{(Tls ? "https" : "http")}://{Host}/");

    /// <summary>Started with http.tls: it speaks https only.</summary>
    public bool Tls { get; }

    /// <summary>The user allowed in when the registry was started with auth; null for an open one.</summary>
    public NetworkCredential? Credential { get; }

    public string StorageDirectory => _dir.Combine("data");

    /// <summary>The registry's recent log lines, for failure messages.</summary>
    public string RecentLog => string.Join('\n', _log);

    public static Task<RegistryServer> StartAsync(bool withAuth = false) => StartAsync(withAuth, tokenAuth: null);

    /// <summary>A registry that trusts <paramref name="tokens"/> for Bearer token auth (no user of its own).</summary>
    public static Task<RegistryServer> StartWithTokenAuthAsync(TokenServer tokens) => StartAsync(false, tokens);

    /// <summary>
    /// A registry on https with <paramref name="tls"/>'s certificate (and client CAs for mutual TLS),
    /// optionally with htpasswd auth, or token auth whose realm is <paramref name="realm"/>.
    /// </summary>
    public static Task<RegistryServer> StartWithTlsAsync(RegistryTls tls, bool withAuth = false, TokenServer? tokens = null,
        string? realm = null) => StartAsync(withAuth, tokens, tls, realm);

    private static async Task<RegistryServer> StartAsync(bool withAuth, TokenServer? tokenAuth, RegistryTls? tls = null,
        string? realm = null)
    {
        var binary = Peers.Require(Peers.Registry);
        NetworkCredential? credential = null;
        var dir = new TempDirectory("hivelet-e2e-registry");
        try
        {
            Directory.CreateDirectory(dir.Combine("data"));
            if (withAuth)
            {
                credential = new NetworkCredential("hivelet-test", Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(12)));
                await WriteHtpasswdAsync(dir.Combine("htpasswd"), credential);
            }
            Exception? last = null;
            for (int attempt = 1; attempt <= StartAttempts; attempt++)
            {
                // The port is free when probed; another process can take it before the registry
                // binds, so a start that fails is retried with a new port.
                int port = FreePort();
                var config = dir.Combine("config.yml");
                await File.WriteAllTextAsync(config, Config(port, dir.Combine("data"), withAuth ? dir.Combine("htpasswd") : null, tokenAuth, tls, realm));
                var log = new ConcurrentQueue<string>();
                var process = Start(binary, config, log);
                try
                {
                    await WaitReadyAsync(process, port, log, tls is not null);
                    return new RegistryServer(dir, process, log, port, credential, tls is not null);
                }
                catch (InvalidOperationException e)
                {
                    ProcessRunner.Kill(process);
                    process.Dispose();
                    last = e;
                }
            }
            throw new InvalidOperationException($"docker-registry did not start after {StartAttempts} attempts", last);
        }
        catch
        {
            dir.Dispose();
            throw;
        }
    }

    /// <summary>An HttpClient for this registry (with Basic auth when it has a user).</summary>
    public HttpClient CreateClient(bool authenticate = true)
    {
        var client = new HttpClient { BaseAddress = BaseUri, Timeout = TimeSpan.FromSeconds(30) };
        if (authenticate && Credential is not null)
        {
            var token = Convert.ToBase64String(Encoding.UTF8.GetBytes($"{Credential.UserName}:{Credential.Password}"));
            client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Basic", token);
        }
        return client;
    }

    public void Dispose()
    {
        ProcessRunner.Kill(_process);
        _process.Dispose();
        _dir.Dispose();
    }

    private static string Config(int port, string data, string? htpasswd, TokenServer? tokens, RegistryTls? tls, string? realm)
    {
        var sb = new StringBuilder($"""
            version: 0.1
            log:
              level: warn
              accesslog:
                disabled: true
            storage:
              filesystem:
                rootdirectory: {data}
              delete:
                enabled: true
            http:
              addr: 127.0.0.1:{port}
              secret: hivelet-e2e-not-secret

            """);
        if (tls is not null)
        {
            sb.Append($"""
                  tls:
                    certificate: {tls.Certificate}
                    key: {tls.Key}

                """);
            if (tls.ClientCas is not null)
            {
                sb.Append($"""
                        clientcas:
                          - {tls.ClientCas}

                    """);
            }
        }
        if (htpasswd is not null)
        {
            sb.Append($"""
                auth:
                  htpasswd:
                    realm: hivelet-test
                    path: {htpasswd}

                """);
        }
        if (tokens is not null)
        {
            sb.Append($"""
                auth:
                  token:
                    realm: {realm ?? tokens.Realm}
                    service: {TokenServer.Service}
                    issuer: {TokenServer.Issuer}
                    rootcertbundle: {tokens.CertificatePath}

                """);
        }
        return sb.ToString();
    }

    private static async Task WriteHtpasswdAsync(string path, NetworkCredential credential)
    {
        // distribution accepts only bcrypt entries; -i reads the password from stdin, not argv.
        var result = await ProcessRunner.RunAsync(Peers.Require(Peers.Htpasswd), ["-niB", credential.UserName],
            TimeSpan.FromSeconds(30), stdin: credential.Password + "\n");
        if (!result.Succeeded || !result.Stdout.Contains("$2", StringComparison.Ordinal))
            throw new InvalidOperationException($"htpasswd failed with {result.ExitCode}: {result.Stderr}");
        await File.WriteAllTextAsync(path, result.Stdout.Trim() + "\n");
    }

    private static Process Start(string binary, string config, ConcurrentQueue<string> log)
    {
        var psi = new ProcessStartInfo(binary)
        {
            ArgumentList = { "serve", config },
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var key in psi.Environment.Keys.Where(k => k.StartsWith("REGISTRY_", StringComparison.Ordinal)).ToList())
            psi.Environment.Remove(key);
        var process = Process.Start(psi) ?? throw new InvalidOperationException("could not start docker-registry");
        void Keep(object? sender, DataReceivedEventArgs e)
        {
            if (e.Data is null)
                return;
            log.Enqueue(e.Data);
            while (log.Count > 200)
                log.TryDequeue(out _);
        }
        process.OutputDataReceived += Keep;
        process.ErrorDataReceived += Keep;
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return process;
    }

    private static async Task WaitReadyAsync(Process process, int port, ConcurrentQueue<string> log, bool tls)
    {
        if (tls)
        {
            await WaitListeningAsync(process, port, log);
            return;
        }
        using var client = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        var deadline = Stopwatch.StartNew();
        while (deadline.Elapsed < ReadyTimeout)
        {
            if (process.HasExited)
                throw new InvalidOperationException($"docker-registry exited with {process.ExitCode}:\n{string.Join('\n', log)}");
            try
            {
                using var response = await client.GetAsync(new Uri($"http://127.0.0.1:{port}/v2/"));
                if (response.Headers.Contains("Docker-Distribution-Api-Version"))
                    return;
            }
            catch (HttpRequestException)
            {
            }
            catch (TaskCanceledException)
            {
            }
            await Task.Delay(100);
        }
        throw new InvalidOperationException($"docker-registry not ready on port {port} after {ReadyTimeout.TotalSeconds}s:\n{string.Join('\n', log)}");
    }

    /// <summary>A TLS registry (maybe wanting client certificates) is ready once its port accepts connections.</summary>
    private static async Task WaitListeningAsync(Process process, int port, ConcurrentQueue<string> log)
    {
        var deadline = Stopwatch.StartNew();
        while (deadline.Elapsed < ReadyTimeout)
        {
            if (process.HasExited)
                throw new InvalidOperationException($"docker-registry exited with {process.ExitCode}:\n{string.Join('\n', log)}");
            try
            {
                using var socket = new TcpClient();
                await socket.ConnectAsync(IPAddress.Loopback, port);
                return;
            }
            catch (SocketException)
            {
            }
            await Task.Delay(100);
        }
        throw new InvalidOperationException($"docker-registry not listening on port {port} after {ReadyTimeout.TotalSeconds}s:\n{string.Join('\n', log)}");
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}

/// <summary>PEM files for docker-registry's http.tls; <see cref="ClientCas"/> turns on mutual TLS.</summary>
public sealed record RegistryTls(string Certificate, string Key, string? ClientCas = null);
