namespace Hivelet.EndToEnd.Tests.Lifecycle;

/// <summary>"key=value" lines a container script printed, the last value winning.</summary>
internal static class Facts
{
    public static Dictionary<string, string> Parse(string output)
    {
        var facts = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var line in output.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            var eq = line.IndexOf('=', StringComparison.Ordinal);
            if (eq > 0)
                facts[line[..eq].Trim()] = line[(eq + 1)..].TrimEnd('\r');
        }
        return facts;
    }

    public static string Get(this Dictionary<string, string> facts, string key, string output) =>
        facts.TryGetValue(key, out var value) ? value : throw new Xunit.Sdk.XunitException($"no `{key}=` line in:\n{output}");
}
