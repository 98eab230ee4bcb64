using System.Globalization;

namespace Hivelet.Runtime.Logs;

/// <summary>The json-file log of a container and its rotated predecessors (CONTRACT.md: x.log, x.log.1, ...).</summary>
public static class LogFiles
{
    /// <summary>
    /// Existing files oldest first: the highest-numbered rotation, ..., <c>.1</c>, then the current
    /// file. Gaps stop the walk (a number past a gap is a leftover of an earlier, larger max-file).
    /// </summary>
    public static IReadOnlyList<string> OldestFirst(string logPath)
    {
        var files = new List<string>();
        for (int i = 1; i < 10_000 && File.Exists(Rotated(logPath, i)); i++)
            files.Add(Rotated(logPath, i));
        files.Reverse();
        if (File.Exists(logPath))
            files.Add(logPath);
        return files;
    }

    public static string Rotated(string logPath, int n) => logPath + "." + n.ToString(CultureInfo.InvariantCulture);

    /// <summary>The log path of a container: BUNDLE/&lt;id&gt;-json.log.</summary>
    public static string PathFor(string bundleDir, string containerId) =>
        System.IO.Path.Combine(bundleDir, containerId + "-json.log");
}
