using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;

namespace Hivelet.EndToEnd.Tests.Harness;

/// <summary>
/// Terminates TLS on a loopback address and forwards the plain bytes to a backend on loopback, so
/// an in-test HTTP server (HttpListener has no TLS on Linux) can be reached over https. HttpListener
/// matches the Host header's host against its prefix, so the backend listens on the same address.
/// </summary>
public sealed class TlsProxy : IDisposable
{
    private readonly TcpListener _listener;
    private readonly X509Certificate2 _certificate;
    private readonly IPEndPoint _backend;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;

    public TlsProxy(IPAddress address, X509Certificate2 certificate, IPEndPoint backend)
    {
        _certificate = certificate;
        _backend = backend;
        _listener = new TcpListener(address, 0);
        _listener.Start();
        Authority = $"{address}:{((IPEndPoint)_listener.LocalEndpoint).Port}";
        _loop = Task.Run(AcceptAsync);
    }

    /// <summary>"127.0.0.2:PORT".</summary>
    public string Authority { get; }

    public void Dispose()
    {
        _stop.Cancel();
        _listener.Stop();
        try
        {
            _loop.Wait(TimeSpan.FromSeconds(5));
        }
        catch (AggregateException)
        {
        }
        _stop.Dispose();
    }

    private async Task AcceptAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            TcpClient client;
            try
            {
                client = await _listener.AcceptTcpClientAsync(_stop.Token);
            }
            catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
            {
                return;
            }
            _ = Task.Run(() => ServeAsync(client));
        }
    }

    private async Task ServeAsync(TcpClient client)
    {
        using (client)
        using (var backend = new TcpClient())
        {
            try
            {
                using var tls = new SslStream(client.GetStream());
                await tls.AuthenticateAsServerAsync(new SslServerAuthenticationOptions { ServerCertificate = _certificate }, _stop.Token);
                await backend.ConnectAsync(_backend, _stop.Token);
                var plain = backend.GetStream();
                var up = PumpAsync(tls, plain);
                var down = PumpAsync(plain, tls);
                await Task.WhenAny(up, down);
            }
            catch (Exception e) when (e is IOException or SocketException or OperationCanceledException
                                          or System.Security.Authentication.AuthenticationException or ObjectDisposedException)
            {
                // A client that refused our certificate or went away: the test sees that on its side.
            }
        }
    }

    private async Task PumpAsync(Stream from, Stream to)
    {
        var buffer = new byte[16384];
        int n;
        while ((n = await from.ReadAsync(buffer, _stop.Token)) > 0)
        {
            await to.WriteAsync(buffer.AsMemory(0, n), _stop.Token);
            await to.FlushAsync(_stop.Token);
        }
    }
}
