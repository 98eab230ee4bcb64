using System.Globalization;
using System.Text;
using Hivelet.Errors;

namespace Hivelet.Runtime.Spec;

/// <summary>
/// Builds a plan file (native/CONTRACT.md): KEY=VALUE records each ended by NUL, multi-field values
/// joined by \x1f. Values that would break the framing are refused, never escaped.
/// </summary>
public sealed class PlanWriter
{
    public const char FieldSeparator = '\x1f';

    private readonly List<KeyValuePair<string, string>> _records = [];

    public IReadOnlyList<KeyValuePair<string, string>> Records => _records;

    /// <summary>Refuses NUL and \x1f in user input that ends up in a plan.</summary>
    public static void CheckValue(string value, string what)
    {
        if (value.Contains('\0') || value.Contains(FieldSeparator))
            throw new InvalidInputException($"invalid {what} \"{value.Replace("\0", "\\0", StringComparison.Ordinal).Replace("\x1f", "\\x1f", StringComparison.Ordinal)}\": contains a NUL or \\x1f byte");
    }

    public PlanWriter Add(string key, string value)
    {
        CheckValue(value, key);
        _records.Add(new(key, value));
        return this;
    }

    public PlanWriter Add(string key, long value) => Add(key, value.ToString(CultureInfo.InvariantCulture));

    public PlanWriter Add(string key, bool value) => Add(key, value ? "1" : "0");

    public PlanWriter AddHex(string key, ulong value) => Add(key, value.ToString("x", CultureInfo.InvariantCulture));

    /// <summary>A multi-field record; no field may contain NUL or \x1f.</summary>
    public PlanWriter AddFields(string key, params string[] fields)
    {
        foreach (var f in fields)
            CheckValue(f, key);
        _records.Add(new(key, string.Join(FieldSeparator, fields)));
        return this;
    }

    public byte[] ToBytes()
    {
        var sb = new StringBuilder();
        foreach (var (k, v) in _records)
            sb.Append(k).Append('=').Append(v).Append('\0');
        return Encoding.UTF8.GetBytes(sb.ToString());
    }

    /// <summary>Decodes a plan (tests, diagnostics): records in order.</summary>
    public static List<KeyValuePair<string, string>> Parse(ReadOnlySpan<byte> bytes)
    {
        var list = new List<KeyValuePair<string, string>>();
        foreach (var rec in Encoding.UTF8.GetString(bytes).Split('\0'))
        {
            if (rec.Length == 0)
                continue;
            int eq = rec.IndexOf('=');
            if (eq <= 0)
                throw new FormatException($"plan record without '=': {rec}");
            list.Add(new(rec[..eq], rec[(eq + 1)..]));
        }
        return list;
    }
}
