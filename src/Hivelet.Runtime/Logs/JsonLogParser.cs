using System.Globalization;
using System.Text.Json;

namespace Hivelet.Runtime.Logs;

/// <summary>
/// Parses Docker's json-file lines: <c>{"log":"text\n","stream":"stdout","time":"2026-11-25T03:00:00.123456789Z"}</c>.
/// A reader over the bytes, not a serializer: one allocation per line for the text, none for the keys.
/// </summary>
public static class JsonLogParser
{
    /// <summary>False for anything that is not one complete entry (truncated by a crash, corrupted, empty).</summary>
    public static bool TryParse(ReadOnlySpan<byte> line, out LogEntry entry)
    {
        entry = default;
        byte[]? text = null;
        LogStream? stream = null;
        string? rawTime = null;
        try
        {
            var reader = new Utf8JsonReader(line, new JsonReaderOptions { CommentHandling = JsonCommentHandling.Disallow });
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
                return false;
            while (reader.Read())
            {
                if (reader.TokenType == JsonTokenType.EndObject)
                    break;
                if (reader.TokenType != JsonTokenType.PropertyName)
                    return false;
                if (reader.ValueTextEquals("log"u8))
                {
                    if (!reader.Read() || reader.TokenType != JsonTokenType.String)
                        return false;
                    text = GetBytes(ref reader);
                }
                else if (reader.ValueTextEquals("stream"u8))
                {
                    if (!reader.Read() || reader.TokenType != JsonTokenType.String)
                        return false;
                    if (reader.ValueTextEquals("stdout"u8))
                        stream = LogStream.Stdout;
                    else if (reader.ValueTextEquals("stderr"u8))
                        stream = LogStream.Stderr;
                    else
                        return false;
                }
                else if (reader.ValueTextEquals("time"u8))
                {
                    if (!reader.Read() || reader.TokenType != JsonTokenType.String)
                        return false;
                    rawTime = reader.GetString();
                }
                else
                {
                    // Docker adds "attrs" with --log-opt labels/env; skip whatever else is there.
                    if (!reader.Read())
                        return false;
                    reader.Skip();
                }
            }
            if (reader.TokenType != JsonTokenType.EndObject || reader.CurrentDepth != 0)
                return false;
        }
        catch (JsonException)
        {
            return false;
        }
        if (text is null || stream is null || rawTime is null || !TryParseTime(rawTime, out var time))
            return false;
        entry = new LogEntry(stream.Value, time, rawTime, text);
        return true;
    }

    private static byte[] GetBytes(ref Utf8JsonReader reader)
    {
        if (!reader.ValueIsEscaped && !reader.HasValueSequence)
            return reader.ValueSpan.ToArray();
        // Escapes (\n, \", \u0001) need unescaping; the buffer cannot grow beyond the escaped length.
        var buffer = new byte[reader.HasValueSequence ? reader.ValueSequence.Length : reader.ValueSpan.Length];
        int n = reader.CopyString(buffer);
        return n == buffer.Length ? buffer : buffer[..n];
    }

    /// <summary>RFC 3339 with up to 9 fraction digits (more than DateTimeOffset keeps: the rest is dropped).</summary>
    public static bool TryParseTime(string value, out DateTimeOffset time)
    {
        time = default;
        // Cut the fraction to 7 digits (100 ns ticks) so the framework parser accepts it.
        int dot = value.IndexOf('.', StringComparison.Ordinal);
        string normalised = value;
        if (dot > 0)
        {
            int end = dot + 1;
            while (end < value.Length && char.IsAsciiDigit(value[end]))
                end++;
            if (end - dot - 1 > 7)
                normalised = string.Concat(value.AsSpan(0, dot + 8), value.AsSpan(end));
        }
        return DateTimeOffset.TryParse(normalised, CultureInfo.InvariantCulture,
                   DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out time)
               && value.Contains('T', StringComparison.Ordinal);
    }

    /// <summary>
    /// Go's RFC3339Nano as `docker logs -t` prints it: UTC, fraction without trailing zeros
    /// ("...:05.1Z", "...:05Z"). The raw text of the log is used when it is already UTC.
    /// </summary>
    public static string FormatRfc3339Nano(LogEntry entry)
    {
        var raw = entry.RawTime;
        if (!raw.EndsWith('Z'))
            return FormatRfc3339Nano(entry.Time);
        int dot = raw.IndexOf('.', StringComparison.Ordinal);
        if (dot < 0)
            return raw;
        var fraction = raw.AsSpan(dot + 1, raw.Length - dot - 2).TrimEnd('0');
        return fraction.Length == 0 ? string.Concat(raw.AsSpan(0, dot), "Z") : string.Concat(raw.AsSpan(0, dot + 1), fraction, "Z");
    }

    public static string FormatRfc3339Nano(DateTimeOffset time)
    {
        var utc = time.UtcDateTime;
        var s = utc.ToString("yyyy-MM-dd'T'HH:mm:ss", CultureInfo.InvariantCulture);
        var fraction = utc.ToString("fffffff", CultureInfo.InvariantCulture).TrimEnd('0');
        return fraction.Length == 0 ? s + "Z" : s + "." + fraction + "Z";
    }
}
