using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Hivelet.Images.Tests.Registry;

/// <summary>A request as the test server saw it.</summary>
public sealed class TestRequest
{
    public required string Method { get; init; }

    /// <summary>Path and query as sent ("/v2/lab/x/manifests/latest?x=1").</summary>
    public required string Target { get; init; }

    public required Dictionary<string, string> Headers { get; init; }

    public required byte[] Body { get; init; }

    public required string LocalAddress { get; init; }

    public string Path => Target.Split('?')[0];

    public string Query => Target.Contains('?', StringComparison.Ordinal) ? Target[(Target.IndexOf('?', StringComparison.Ordinal) + 1)..] : "";

    public string? Header(string name) => Headers.TryGetValue(name, out var v) ? v : null;

    /// <summary>All values of a query parameter, unescaped.</summary>
    public List<string> QueryValues(string name) =>
        Query.Split('&', StringSplitOptions.RemoveEmptyEntries)
            .Select(p => p.Split('=', 2))
            .Where(p => Uri.UnescapeDataString(p[0]) == name)
            .Select(p => p.Length > 1 ? Uri.UnescapeDataString(p[1].Replace('+', ' ')) : "")
            .ToList();
}

/// <summary>What the test server answers; DropAfter/StallAfter misbehave on purpose mid-body.</summary>
public sealed class TestResponse
{
    public int Status { get; init; } = 200;

    public List<KeyValuePair<string, string>> Headers { get; init; } = [];

    public byte[] Body { get; init; } = [];

    /// <summary>Announce the full length, send this many body bytes, then close the connection.</summary>
    public int? DropAfter { get; init; }

    /// <summary>Send this many body bytes, then go silent (until the server is disposed or 20 s pass).</summary>
    public int? StallAfter { get; init; }

    public static TestResponse Json(int status, string json, params (string Name, string Value)[] headers) => new()
    {
        Status = status,
        Body = Encoding.UTF8.GetBytes(json),
        Headers = [new("Content-Type", "application/json"), .. headers.Select(h => new KeyValuePair<string, string>(h.Name, h.Value))],
    };

    public static TestResponse Of(int status, params (string Name, string Value)[] headers) => new()
    {
        Status = status,
        Headers = [.. headers.Select(h => new KeyValuePair<string, string>(h.Name, h.Value))],
    };
}

/// <summary>
/// A tiny HTTP/1.1 server on a loopback address and an ephemeral port, one request per connection,
/// playing whatever registry behaviour a test scripts. It records every request and counts the body
/// bytes it really sent.
/// </summary>
public sealed class TestHttpServer : IDisposable
{
    private readonly TcpListener _listener;
    private readonly Func<TestRequest, TestResponse> _handler;
    private readonly CancellationTokenSource _stop = new();
    private readonly List<TestRequest> _requests = [];
    private readonly Task _loop;
    private long _bodyBytesSent;

    public TestHttpServer(Func<TestRequest, TestResponse> handler, string address = "127.0.0.1")
    {
        _handler = handler;
        _listener = new TcpListener(IPAddress.Parse(address), 0);
        _listener.Start();
        Port = ((IPEndPoint)_listener.LocalEndpoint).Port;
        Authority = $"{address}:{Port}";
        _loop = Task.Run(AcceptLoopAsync);
    }

    public int Port { get; }

    /// <summary>"127.0.0.1:PORT", usable as a registry domain.</summary>
    public string Authority { get; }

    public string BaseUrl => $"http://{Authority}";

    public long BodyBytesSent => Interlocked.Read(ref _bodyBytesSent);

    public IReadOnlyList<TestRequest> Requests
    {
        get
        {
            lock (_requests)
                return _requests.ToList();
        }
    }

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
            // The loop ends with the listener's exception; nothing to report.
        }
        _stop.Dispose();
    }

    private async Task AcceptLoopAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            TcpClient client;
            try
            {
                client = await _listener.AcceptTcpClientAsync(_stop.Token);
            }
            catch (Exception) when (_stop.IsCancellationRequested)
            {
                return;
            }
            catch (SocketException)
            {
                return;
            }
            _ = Task.Run(() => ServeAsync(client));
        }
    }

    private async Task ServeAsync(TcpClient client)
    {
        using (client)
        {
            try
            {
                var stream = client.GetStream();
                var request = await ReadRequestAsync(stream, ((IPEndPoint)client.Client.LocalEndPoint!).Address.ToString());
                if (request is null)
                    return;
                lock (_requests)
                    _requests.Add(request);
                var response = _handler(request);
                await WriteResponseAsync(stream, request, response);
            }
            catch (Exception e) when (e is IOException or SocketException or OperationCanceledException or ObjectDisposedException)
            {
                // The client went away; that is its business.
            }
        }
    }

    private async Task WriteResponseAsync(NetworkStream stream, TestRequest request, TestResponse response)
    {
        var head = new StringBuilder();
        head.Append("HTTP/1.1 ").Append(response.Status).Append(' ').Append(Reason(response.Status)).Append("\r\n");
        foreach (var (name, value) in response.Headers)
            head.Append(name).Append(": ").Append(value).Append("\r\n");
        if (!response.Headers.Any(h => h.Key.Equals("Content-Length", StringComparison.OrdinalIgnoreCase)))
            head.Append("Content-Length: ").Append(response.Body.Length).Append("\r\n");
        head.Append("Connection: close\r\n\r\n");
        await stream.WriteAsync(Encoding.ASCII.GetBytes(head.ToString()), _stop.Token);
        if (request.Method == "HEAD")
            return;
        int limit = response.DropAfter ?? response.StallAfter ?? response.Body.Length;
        limit = Math.Min(limit, response.Body.Length);
        await stream.WriteAsync(response.Body.AsMemory(0, limit), _stop.Token);
        await stream.FlushAsync(_stop.Token);
        Interlocked.Add(ref _bodyBytesSent, limit);
        if (response.StallAfter is not null)
            await Task.Delay(TimeSpan.FromSeconds(20), _stop.Token);
    }

    private static async Task<TestRequest?> ReadRequestAsync(NetworkStream stream, string local)
    {
        var buffer = new List<byte>();
        var one = new byte[1];
        while (!EndsWithBlankLine(buffer))
        {
            if (await stream.ReadAsync(one) == 0)
                return null;
            buffer.Add(one[0]);
            if (buffer.Count > 64 * 1024)
                throw new IOException("request head too large");
        }
        var lines = Encoding.ASCII.GetString(buffer.ToArray()).Split("\r\n");
        var first = lines[0].Split(' ');
        var headers = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var line in lines.Skip(1).Where(l => l.Length > 0))
        {
            int colon = line.IndexOf(':', StringComparison.Ordinal);
            var name = line[..colon].Trim();
            var value = line[(colon + 1)..].Trim();
            headers[name] = headers.TryGetValue(name, out var prev) ? prev + ", " + value : value;
        }
        byte[] body = [];
        if (headers.TryGetValue("Content-Length", out var len) && int.Parse(len) > 0)
        {
            body = new byte[int.Parse(len)];
            await stream.ReadExactlyAsync(body);
        }
        else if (headers.TryGetValue("Transfer-Encoding", out var te) && te.Contains("chunked", StringComparison.OrdinalIgnoreCase))
        {
            body = await ReadChunkedAsync(stream);
        }
        return new TestRequest { Method = first[0], Target = first[1], Headers = headers, Body = body, LocalAddress = local };
    }

    private static async Task<byte[]> ReadChunkedAsync(NetworkStream stream)
    {
        var result = new MemoryStream();
        while (true)
        {
            var sizeLine = await ReadLineAsync(stream);
            int size = Convert.ToInt32(sizeLine.Split(';')[0].Trim(), 16);
            if (size == 0)
            {
                await ReadLineAsync(stream);
                return result.ToArray();
            }
            var chunk = new byte[size];
            await stream.ReadExactlyAsync(chunk);
            result.Write(chunk);
            await ReadLineAsync(stream);
        }
    }

    private static async Task<string> ReadLineAsync(NetworkStream stream)
    {
        var sb = new StringBuilder();
        var one = new byte[1];
        while (true)
        {
            if (await stream.ReadAsync(one) == 0)
                throw new IOException("connection closed inside a chunked body");
            if (one[0] == '\n')
                return sb.ToString().TrimEnd('\r');
            sb.Append((char)one[0]);
        }
    }

    private static bool EndsWithBlankLine(List<byte> b) =>
        b.Count >= 4 && b[^4] == '\r' && b[^3] == '\n' && b[^2] == '\r' && b[^1] == '\n';

    private static string Reason(int status) => status switch
    {
        200 => "OK",
        201 => "Created",
        202 => "Accepted",
        204 => "No Content",
        206 => "Partial Content",
        307 => "Temporary Redirect",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        416 => "Range Not Satisfiable",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        503 => "Service Unavailable",
        _ => "Status",
    };
}
