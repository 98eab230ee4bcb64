using System.Text;

namespace Hivelet.EndToEnd.Tests.Monitor;

/// <summary>Writes a plan file (CONTRACT.md): KEY=VALUE records, each ending with NUL.</summary>
public sealed class PlanFile
{
    private readonly List<KeyValuePair<string, string>> _records = [];

    public PlanFile Set(string key, object value)
    {
        _records.RemoveAll(r => r.Key == key);
        _records.Add(new(key, Convert.ToString(value, System.Globalization.CultureInfo.InvariantCulture)!));
        return this;
    }

    public PlanFile Add(string key, string value)
    {
        _records.Add(new(key, value));
        return this;
    }

    /// <summary>Joins fields of a multi-field value with the unit separator.</summary>
    public static string Fields(params string[] fields) => string.Join('\x1f', fields);

    public void WriteTo(string path)
    {
        using var stream = new MemoryStream();
        foreach (var (key, value) in _records)
        {
            stream.Write(Encoding.UTF8.GetBytes($"{key}={value}"));
            stream.WriteByte(0);
        }
        File.WriteAllBytes(path + ".tmp", stream.ToArray());
        File.Move(path + ".tmp", path, overwrite: true);
    }
}
