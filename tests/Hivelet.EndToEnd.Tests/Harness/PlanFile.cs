using System.Text;

namespace Hivelet.EndToEnd.Tests.Harness;

/// <summary>
/// Writes the native plan format of native/CONTRACT.md (records `KEY=VALUE\0`, fields split by
/// \x1f) so that tests can drive `hivelet __run` and `hivelet __exec` without the managed side.
/// </summary>
public sealed class PlanFile
{
    public const char FieldSeparator = '\x1f';

    private readonly List<KeyValuePair<string, string>> _records = [];

    public PlanFile() => Add("version", "1");

    /// <summary>Appends a record; several fields are joined with the field separator.</summary>
    public PlanFile Add(string key, params string[] fields)
    {
        var value = string.Join(FieldSeparator, fields);
        if (key.Contains('=') || key.Contains('\0') || value.Contains('\0'))
            throw new ArgumentException($"plan record {key}: NUL or '=' in the key, or NUL in the value");
        _records.Add(new(key, value));
        return this;
    }

    /// <summary>Replaces every record of <paramref name="key"/> with one.</summary>
    public PlanFile Set(string key, params string[] fields) => Remove(key).Add(key, fields);

    public PlanFile Remove(string key)
    {
        _records.RemoveAll(r => r.Key == key);
        return this;
    }

    /// <summary>argv: one `arg` record each, replacing any earlier command.</summary>
    public PlanFile Command(params string[] argv)
    {
        Remove("arg");
        foreach (var a in argv)
            Add("arg", a);
        return this;
    }

    public byte[] ToBytes()
    {
        var sb = new StringBuilder();
        foreach (var (key, value) in _records)
            sb.Append(key).Append('=').Append(value).Append('\0');
        return Encoding.UTF8.GetBytes(sb.ToString());
    }

    public string Write(string path)
    {
        File.WriteAllBytes(path, ToBytes());
        return path;
    }
}
