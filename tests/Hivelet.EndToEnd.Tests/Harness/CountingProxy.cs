using System.Net;
using System.Net.Sockets;

namespace Hivelet.EndToEnd.Tests.Harness;

/// <summary>
/// A TCP proxy on 127.0.0.1 (ephemeral port) in front of a local server. It counts the bytes the
/// server sends to clients and can hold them once a budget is reached, so a test can kill a
/// download at a known point without racing it. Dispose closes every connection.
/// </summary>
public sealed class CountingProxy : IDisposable
{
    private const int ChunkSize = 16 * 1024;

    private readonly TcpListener _listener;
    private readonly int _targetPort;
    private readonly CancellationTokenSource _stop = new();
    private readonly List<TcpClient> _connections = [];
    private readonly Lock _lock = new();
    private readonly Task _acceptLoop;
    private long _downstream;
    private long _holdAfter = long.MaxValue;
    private TaskCompletionSource _released = NewReleased();

    public CountingProxy(int targetPort)
    {
        _targetPort = targetPort;
        _listener = new TcpListener(IPAddress.Loopback, 0);
        _listener.Start();
        Port = ((IPEndPoint)_listener.LocalEndpoint).Port;
        _acceptLoop = Task.Run(AcceptLoopAsync);
    }

    public int Port { get; }

    /// <summary>"127.0.0.1:PORT", the registry part of references that go through the proxy.</summary>
    public string Host => $"127.0.0.1:{Port}";

    /// <summary>Bytes passed from the server to clients so far.</summary>
    public long DownstreamBytes => Interlocked.Read(ref _downstream);

    /// <summary>Stops passing server bytes once <paramref name="bytes"/> have gone through in total.</summary>
    public void HoldAfter(long bytes)
    {
        lock (_lock)
        {
            _holdAfter = bytes;
            _released = NewReleased();
        }
    }

    /// <summary>Lets traffic flow freely again.</summary>
    public void Release()
    {
        lock (_lock)
        {
            _holdAfter = long.MaxValue;
            _released.TrySetResult();
        }
    }

    public void ResetCount() => Interlocked.Exchange(ref _downstream, 0);

    /// <summary>Waits (bounded) until at least <paramref name="bytes"/> went downstream.</summary>
    public async Task WaitForBytesAsync(long bytes, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (DownstreamBytes < bytes)
        {
            if (DateTime.UtcNow > deadline)
                throw new TimeoutException($"proxy passed only {DownstreamBytes} of the {bytes} bytes awaited within {timeout.TotalSeconds:F0}s");
            await Task.Delay(20);
        }
    }

    public void Dispose()
    {
        _stop.Cancel();
        Release();
        _listener.Stop();
        lock (_lock)
        {
            foreach (var c in _connections)
                c.Dispose();
            _connections.Clear();
        }
        try
        {
            _acceptLoop.Wait(TimeSpan.FromSeconds(5));
        }
        catch (AggregateException)
        {
        }
        _stop.Dispose();
    }

    private static TaskCompletionSource NewReleased() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    private async Task AcceptLoopAsync()
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
        var server = new TcpClient();
        lock (_lock)
        {
            _connections.Add(client);
            _connections.Add(server);
        }
        try
        {
            await server.ConnectAsync(IPAddress.Loopback, _targetPort, _stop.Token);
            var up = PumpAsync(client.GetStream(), server.GetStream(), counted: false);
            var down = PumpAsync(server.GetStream(), client.GetStream(), counted: true);
            await Task.WhenAny(up, down);
        }
        catch (Exception e) when (e is IOException or SocketException or OperationCanceledException or ObjectDisposedException)
        {
        }
        finally
        {
            lock (_lock)
            {
                _connections.Remove(client);
                _connections.Remove(server);
            }
            client.Dispose();
            server.Dispose();
        }
    }

    private async Task PumpAsync(NetworkStream from, NetworkStream to, bool counted)
    {
        var buffer = new byte[ChunkSize];
        try
        {
            while (!_stop.IsCancellationRequested)
            {
                int n = await from.ReadAsync(buffer, _stop.Token);
                if (n == 0)
                    break;
                int offset = 0;
                while (counted && offset < n)
                {
                    // Pass only up to the hold point, then wait for Release (or the end of the test).
                    Task wait;
                    long allowed;
                    lock (_lock)
                    {
                        allowed = _holdAfter - DownstreamBytes;
                        wait = _released.Task;
                    }
                    if (allowed <= 0)
                    {
                        await wait.WaitAsync(_stop.Token);
                        continue;
                    }
                    int take = (int)Math.Min(allowed, n - offset);
                    await to.WriteAsync(buffer.AsMemory(offset, take), _stop.Token);
                    Interlocked.Add(ref _downstream, take);
                    offset += take;
                }
                if (!counted)
                    await to.WriteAsync(buffer.AsMemory(0, n), _stop.Token);
            }
        }
        catch (Exception e) when (e is IOException or SocketException or OperationCanceledException or ObjectDisposedException)
        {
        }
        finally
        {
            // Half-close so the other side sees the end of this direction.
            try
            {
                to.Socket.Shutdown(SocketShutdown.Send);
            }
            catch (Exception e) when (e is SocketException or ObjectDisposedException)
            {
            }
        }
    }
}
