using System.Globalization;
using Hivelet.Errors;

namespace Hivelet.Runtime.Logs;

/// <summary>
/// The `--since`/`--until` values Docker accepts (its timetypes.GetTimestamp): a Go duration relative
/// to now ("10m", "1h30m", "1.5h"), unix seconds with an optional fraction ("1732503600.5"), or an
/// RFC 3339 date/time, possibly shortened ("2026-11-25", "2026-11-25T03:00"); a time without a zone
/// is the local time of the machine, as in Docker's client.
/// </summary>
public static class TimeArgument
{
    public static DateTimeOffset Parse(string value, DateTimeOffset now, string flag)
    {
        ArgumentNullException.ThrowIfNull(value);
        var v = value.Trim();
        if (v.Length == 0)
            throw new InvalidInputException($"invalid value \"{value}\" for flag {flag}: empty time");
        if (v != "0" && TryParseGoDuration(v, out var d))
            return now - d;
        if (TryParseUnix(v, out var unix))
            return unix;
        if (TryParseDate(v, out var date))
            return date;
        throw new InvalidInputException(
            $"invalid value \"{value}\" for flag {flag}: expected a duration (10m), unix seconds or an RFC 3339 time");
    }

    /// <summary>Go's time.ParseDuration: [-+]? then one or more "number unit" (ns us µs ms s m h).</summary>
    public static bool TryParseGoDuration(string s, out TimeSpan duration)
    {
        duration = default;
        int i = 0;
        bool negative = false;
        if (i < s.Length && (s[i] == '-' || s[i] == '+'))
        {
            negative = s[i] == '-';
            i++;
        }
        if (i == s.Length)
            return false;
        decimal totalNs = 0;
        while (i < s.Length)
        {
            int start = i;
            while (i < s.Length && (char.IsAsciiDigit(s[i]) || s[i] == '.'))
                i++;
            if (i == start || !decimal.TryParse(s.AsSpan(start, i - start), NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var number))
                return false;
            int unitStart = i;
            while (i < s.Length && !char.IsAsciiDigit(s[i]) && s[i] != '.')
                i++;
            decimal unitNs = s.AsSpan(unitStart, i - unitStart) switch
            {
                "ns" => 1m,
                "us" or "µs" or "μs" => 1_000m,
                "ms" => 1_000_000m,
                "s" => 1_000_000_000m,
                "m" => 60_000_000_000m,
                "h" => 3_600_000_000_000m,
                _ => -1m,
            };
            if (unitNs < 0)
                return false;
            totalNs += number * unitNs;
        }
        if (totalNs / 100m > TimeSpan.MaxValue.Ticks)
            return false;
        duration = TimeSpan.FromTicks((long)(totalNs / 100m));
        if (negative)
            duration = -duration;
        return true;
    }

    private static bool TryParseUnix(string s, out DateTimeOffset time)
    {
        time = default;
        int dot = s.IndexOf('.', StringComparison.Ordinal);
        var secPart = dot < 0 ? s : s[..dot];
        var fracPart = dot < 0 ? "" : s[(dot + 1)..];
        if (secPart.Length == 0 || fracPart.Length > 9 || !secPart.All(char.IsAsciiDigit) || !fracPart.All(char.IsAsciiDigit))
            return false;
        if (!long.TryParse(secPart, NumberStyles.None, CultureInfo.InvariantCulture, out var seconds)
            || seconds > DateTimeOffset.MaxValue.ToUnixTimeSeconds())
            return false;
        long ticks = fracPart.Length == 0 ? 0 : long.Parse(fracPart.PadRight(9, '0'), CultureInfo.InvariantCulture) / 100;
        time = DateTimeOffset.FromUnixTimeSeconds(seconds).AddTicks(ticks);
        return true;
    }

    private static readonly string[] ZonedFormats =
    [
        "yyyy-MM-dd'T'HH:mm:ss.FFFFFFFK", "yyyy-MM-dd'T'HH:mm:ssK", "yyyy-MM-dd'T'HH:mmK",
    ];

    private static readonly string[] LocalFormats =
    [
        "yyyy-MM-dd'T'HH:mm:ss.FFFFFFF", "yyyy-MM-dd'T'HH:mm:ss", "yyyy-MM-dd'T'HH:mm", "yyyy-MM-dd",
    ];

    private static bool TryParseDate(string s, out DateTimeOffset time)
    {
        // Fractions beyond 100 ns are dropped so the framework parser takes nanosecond input.
        var trimmed = TrimFraction(s);
        if (trimmed.EndsWith('Z') || HasOffset(trimmed))
            return DateTimeOffset.TryParseExact(trimmed, ZonedFormats, CultureInfo.InvariantCulture,
                DateTimeStyles.AdjustToUniversal, out time);
        if (DateTime.TryParseExact(trimmed, LocalFormats, CultureInfo.InvariantCulture, DateTimeStyles.AssumeLocal, out var local))
        {
            time = new DateTimeOffset(local);
            return true;
        }
        time = default;
        return false;
    }

    private static bool HasOffset(string s) =>
        s.Length > 6 && (s[^6] == '+' || s[^6] == '-') && s[^3] == ':';

    private static string TrimFraction(string s)
    {
        int dot = s.IndexOf('.', StringComparison.Ordinal);
        if (dot < 0)
            return s;
        int end = dot + 1;
        while (end < s.Length && char.IsAsciiDigit(s[end]))
            end++;
        return end - dot - 1 > 7 ? string.Concat(s.AsSpan(0, dot + 8), s.AsSpan(end)) : s;
    }
}
