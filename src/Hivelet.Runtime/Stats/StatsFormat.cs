using System.Globalization;

namespace Hivelet.Runtime.Stats;

/// <summary>
/// The cells of `docker stats`: "0.50%", "1.5MiB / 7.6GiB" (binary units, 4 significant digits, as
/// Docker's units.BytesSize), "1.2kB / 0B" (decimal units, 3 significant digits, as
/// units.HumanSizeWithPrecision) for network and block I/O.
/// </summary>
public static class StatsFormat
{
    private static readonly string[] Binary = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];
    private static readonly string[] Decimal = ["B", "kB", "MB", "GB", "TB", "PB"];

    public static string Percent(double value) => value.ToString("0.00", CultureInfo.InvariantCulture) + "%";

    public static string BytesSize(double bytes) => Scaled(bytes, 1024, Binary, 4);

    public static string HumanSize(double bytes) => Scaled(bytes, 1000, Decimal, 3);

    public static string Pair(string a, string b) => a + " / " + b;

    public static string[] Cells(string id, string name, StatsRow row)
    {
        ArgumentNullException.ThrowIfNull(row);
        return
        [
            id.Length > 12 ? id[..12] : id,
            name.TrimStart('/'),
            Percent(row.CpuPercent),
            Pair(BytesSize(row.MemoryUsage), BytesSize(row.MemoryLimit)),
            Percent(row.MemoryPercent),
            Pair(HumanSize(row.NetRx), HumanSize(row.NetTx)),
            Pair(HumanSize(row.BlockRead), HumanSize(row.BlockWrite)),
            row.Pids.ToString(CultureInfo.InvariantCulture),
        ];
    }

    public static readonly string[] Header =
        ["CONTAINER ID", "NAME", "CPU %", "MEM USAGE / LIMIT", "MEM %", "NET I/O", "BLOCK I/O", "PIDS"];

    // Go's "%.Ng": N significant digits, trailing zeros dropped (values stay below the base, so no exponent).
    private static string Scaled(double value, double step, string[] units, int digits)
    {
        int i = 0;
        while (value >= step && i < units.Length - 1)
        {
            value /= step;
            i++;
        }
        if (value == 0)
            return "0" + units[i];
        int intDigits = value >= 1 ? (int)Math.Floor(Math.Log10(value)) + 1 : 1;
        int decimals = Math.Max(0, digits - intDigits);
        var rounded = Math.Round(value, decimals, MidpointRounding.ToEven);
        var text = rounded.ToString("F" + decimals.ToString(CultureInfo.InvariantCulture), CultureInfo.InvariantCulture);
        if (text.Contains('.', StringComparison.Ordinal))
            text = text.TrimEnd('0').TrimEnd('.');
        return text + units[i];
    }
}
