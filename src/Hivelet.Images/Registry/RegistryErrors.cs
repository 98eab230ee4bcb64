using System.Net;
using System.Text;
using System.Text.Json;

namespace Hivelet.Images.Registry;

/// <summary>
/// Turns an unsuccessful response into a plain message: the distribution error body when there is
/// one ("manifest unknown (MANIFEST_UNKNOWN)", "denied: ..."), else the status.
/// </summary>
internal static class RegistryErrors
{
    private const int MaxBody = 64 * 1024;
    private const int MaxMessage = 300;

    public static async Task<RegistryException> FromResponseAsync(HttpResponseMessage response, TimeProvider time,
        CancellationToken ct)
    {
        byte[] body = [];
        try
        {
            body = await ReadCappedAsync(response.Content, MaxBody, ct).ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or HttpRequestException)
        {
            // The status alone still makes a useful message.
        }
        return FromStatus(response.StatusCode, body, RetryAfter(response, time));
    }

    public static RegistryException FromStatus(HttpStatusCode status, ReadOnlySpan<byte> body, TimeSpan? retryAfter)
    {
        var entries = ParseErrors(body);
        string cause = entries.Count > 0
            ? string.Join("; ", entries.Take(3).Select(DescribeEntry))
            : DescribeStatus(status);
        if (status == HttpStatusCode.TooManyRequests && retryAfter is { } wait)
            cause += $", retry after {Math.Ceiling(wait.TotalSeconds):0}s";
        return new RegistryException(cause, status, entries.Count > 0 ? entries[0].Code : null, retryAfter,
            IsTransient(status));
    }

    public static bool IsTransient(HttpStatusCode status) => status is HttpStatusCode.RequestTimeout
        or HttpStatusCode.TooManyRequests or HttpStatusCode.InternalServerError or HttpStatusCode.BadGateway
        or HttpStatusCode.ServiceUnavailable or HttpStatusCode.GatewayTimeout;

    public static TimeSpan? RetryAfter(HttpResponseMessage response, TimeProvider time)
    {
        var header = response.Headers.RetryAfter;
        if (header?.Delta is { } delta)
            return delta < TimeSpan.Zero ? TimeSpan.Zero : delta;
        if (header?.Date is { } date)
        {
            var wait = date - time.GetUtcNow();
            return wait < TimeSpan.Zero ? TimeSpan.Zero : wait;
        }
        return null;
    }

    internal static async Task<byte[]> ReadCappedAsync(HttpContent content, int cap, CancellationToken ct)
    {
        await using var stream = await content.ReadAsStreamAsync(ct).ConfigureAwait(false);
        var buffer = new MemoryStream();
        var chunk = new byte[16 * 1024];
        int n;
        while (buffer.Length < cap && (n = await stream.ReadAsync(chunk.AsMemory(0, (int)Math.Min(chunk.Length, cap - buffer.Length)), ct).ConfigureAwait(false)) > 0)
            buffer.Write(chunk, 0, n);
        return buffer.ToArray();
    }

    private static List<(string Code, string? Message)> ParseErrors(ReadOnlySpan<byte> body)
    {
        var result = new List<(string, string?)>();
        if (body.IsEmpty)
            return result;
        try
        {
            var parsed = JsonSerializer.Deserialize(body, RegistryJsonContext.Default.ErrorResponse);
            foreach (var e in parsed?.Errors ?? [])
            {
                var code = string.IsNullOrWhiteSpace(e.Code) ? "UNKNOWN" : Clean(e.Code).ToUpperInvariant();
                result.Add((code, string.IsNullOrWhiteSpace(e.Message) ? null : Clean(e.Message)));
            }
        }
        catch (JsonException)
        {
            // Not the distribution format (an HTML error page from a proxy, say): fall back to the status.
        }
        return result;
    }

    private static string DescribeEntry((string Code, string? Message) e) => e.Code switch
    {
        "DENIED" => "denied: " + (e.Message ?? "requested access to the resource is denied"),
        "UNAUTHORIZED" => "unauthorized: " + (e.Message ?? "authentication required"),
        "TOOMANYREQUESTS" => "toomanyrequests: " + (e.Message ?? "rate limited"),
        _ => $"{e.Message ?? e.Code.ToLowerInvariant().Replace('_', ' ')} ({e.Code})",
    };

    private static string DescribeStatus(HttpStatusCode status) => status switch
    {
        HttpStatusCode.Unauthorized => "unauthorized: authentication required",
        HttpStatusCode.Forbidden => "denied: requested access to the resource is denied",
        HttpStatusCode.NotFound => "not found (HTTP 404)",
        HttpStatusCode.TooManyRequests => "toomanyrequests: rate limited",
        _ => $"unexpected HTTP status {(int)status} ({status})",
    };

    /// <summary>One line, bounded: a registry's text must not break or flood our messages.</summary>
    private static string Clean(string s)
    {
        var sb = new StringBuilder(Math.Min(s.Length, MaxMessage));
        foreach (var c in s)
        {
            if (sb.Length >= MaxMessage)
            {
                sb.Append('…');
                break;
            }
            sb.Append(char.IsControl(c) ? ' ' : c);
        }
        return sb.ToString().Trim();
    }
}
