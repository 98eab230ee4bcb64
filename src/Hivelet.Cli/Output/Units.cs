using System.Globalization;

namespace Hivelet.Cli.Output;

/// <summary>Docker's human-readable sizes (decimal units: 1 kB = 1000 B) and ages.</summary>
public static class Units
{
    private static readonly string[] Suffixes = ["B", "kB", "MB", "GB", "TB", "PB"];

    public static string HumanSize(double bytes)
    {
        int i = 0;
        while (bytes >= 1000 && i < Suffixes.Length - 1)
        {
            bytes /= 1000;
            i++;
        }
        // Docker prints 4 significant digits: "1.234MB", "12.35MB", "123.5MB".
        return bytes.ToString(bytes < 10 ? "0.###" : bytes < 100 ? "0.##" : "0.#", CultureInfo.InvariantCulture) + Suffixes[i];
    }

    /// <summary>
    /// Docker's units.HumanSizeWithPrecision: Go's %.{precision}g of the scaled value ("2B", "4.26MB",
    /// "120kB"); ps --size prints with precision 3.
    /// </summary>
    public static string HumanSize(double bytes, int precision)
    {
        int i = 0;
        while (bytes >= 1000 && i < Suffixes.Length - 1)
        {
            bytes /= 1000;
            i++;
        }
        // .NET's G and Go's %g agree on when to switch to an exponent (999.9 at precision 3 is "1e+03"); only the letter's case differs.
        return bytes.ToString("G" + precision.ToString(CultureInfo.InvariantCulture), CultureInfo.InvariantCulture)
            .Replace('E', 'e') + Suffixes[i];
    }

    public static string HumanDuration(TimeSpan d)
    {
        double seconds = d.TotalSeconds;
        if (seconds < 1) return "Less than a second";
        if (seconds < 2) return "1 second";
        if (seconds < 60) return $"{(int)seconds} seconds";
        double minutes = d.TotalMinutes;
        if (minutes < 2) return "About a minute";
        if (minutes < 60) return $"{(int)minutes} minutes";
        double hours = d.TotalHours;
        if (hours < 2) return "About an hour";
        if (hours < 48) return $"{(int)hours} hours";
        if (hours < 24 * 7 * 2) return $"{(int)(hours / 24)} days";
        if (hours < 24 * 30 * 2) return $"{(int)(hours / 24 / 7)} weeks";
        if (hours < 24 * 365 * 2) return $"{(int)(hours / 24 / 30)} months";
        return $"{(int)(hours / 24 / 365)} years";
    }

    public static string Ago(DateTimeOffset? when, DateTimeOffset now) =>
        when is { } w && w > DateTimeOffset.UnixEpoch ? HumanDuration(now - w) + " ago" : "N/A";

    /// <summary>
    /// Go's time.Time.String() for whole seconds in the local zone, as Docker prints CreatedAt:
    /// "2026-12-08 03:40:12 +0000 UTC", "2026-12-08 04:40:12 +0100 CET". A zone without an abbreviation
    /// shows its offset twice, as Go does.
    /// </summary>
    public static string GoTime(DateTimeOffset when, TimeZoneInfo? zone = null)
    {
        zone ??= TimeZoneInfo.Local;
        var local = TimeZoneInfo.ConvertTime(when, zone);
        var o = local.Offset;
        var offset = (o < TimeSpan.Zero ? "-" : "+") + o.Duration().ToString("hhmm", CultureInfo.InvariantCulture);
        // Without ICU the names are the zone file's abbreviations, except for UTC's long name.
        var name = zone.IsDaylightSavingTime(local) ? zone.DaylightName : zone.StandardName;
        if (o == TimeSpan.Zero && (zone.Id is "UTC" or "Etc/UTC" or "Universal" or "Zulu" || name.Contains(' ', StringComparison.Ordinal)))
            name = "UTC";
        else if (name.Length == 0 || name.Contains(' ', StringComparison.Ordinal))
            name = offset;
        return local.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture) + " " + offset + " " + name;
    }
}
