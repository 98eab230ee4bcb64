using Hivelet.Errors;

namespace Hivelet.Runtime.Spec;

/// <summary>Environment lists ("NAME=VALUE") with Docker's rules.</summary>
public static class EnvList
{
    public static string Key(string entry)
    {
        int eq = entry.IndexOf('=');
        return eq < 0 ? entry : entry[..eq];
    }

    /// <summary>-e values: "NAME=VALUE" as is; "NAME" takes the caller's value, or is dropped when unset.</summary>
    public static IEnumerable<string> FromFlags(IEnumerable<string> values, string flag)
    {
        foreach (var v in values)
        {
            var e = Normalize(v, flag);
            if (e != null)
                yield return e;
        }
    }

    /// <summary>--env-file: one entry per line; blank lines and lines starting with # are skipped.</summary>
    public static IEnumerable<string> ReadEnvFiles(IEnumerable<string> files)
    {
        var result = new List<string>();
        foreach (var file in files)
        {
            string[] lines;
            try
            {
                lines = File.ReadAllLines(file);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                throw new InvalidInputException($"open {file}: {e.Message}");
            }
            int n = 0;
            foreach (var raw in lines)
            {
                n++;
                var line = raw.TrimStart();
                if (line.Length == 0 || line[0] == '#')
                    continue;
                var e = Normalize(line, $"--env-file {file}:{n}");
                if (e != null)
                    result.Add(e);
            }
        }
        return result;
    }

    private static string? Normalize(string v, string where)
    {
        if (v.Contains('\0'))
            throw new InvalidInputException($"invalid environment variable in {where}: contains a NUL byte");
        int eq = v.IndexOf('=');
        var name = eq < 0 ? v : v[..eq];
        if (name.Length == 0)
            throw new InvalidInputException($"invalid environment variable: {v}");
        if (name.Any(char.IsWhiteSpace))
            throw new InvalidInputException($"variable '{name}' contains whitespaces");
        if (eq >= 0)
            return v;
        var fromHost = Environment.GetEnvironmentVariable(name);
        return fromHost is null ? null : $"{name}={fromHost}";
    }

    /// <summary>Replace-or-append: a later entry replaces an earlier one of the same name in place.</summary>
    public static List<string> Merge(IEnumerable<string> entries)
    {
        var result = new List<string>();
        var index = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var e in entries)
        {
            var k = Key(e);
            if (index.TryGetValue(k, out int i))
            {
                result[i] = e;
            }
            else
            {
                index[k] = result.Count;
                result.Add(e);
            }
        }
        return result;
    }

    public static string? Get(IEnumerable<string> entries, string name)
    {
        string? value = null;
        foreach (var e in entries)
        {
            if (Key(e) == name)
                value = e.Length > name.Length ? e[(name.Length + 1)..] : "";
        }
        return value;
    }
}
