using System.Globalization;
using System.Text;

namespace Hivelet.Runtime.Tests.Logs;

/// <summary>A temp directory with a json-file log and its rotations, removed on dispose.</summary>
internal sealed class LogTestDir : IDisposable
{
    public LogTestDir()
    {
        Path = Directory.CreateTempSubdirectory("hivelet-logs-").FullName;
        LogPath = System.IO.Path.Combine(Path, "abc-json.log");
    }

    public string Path { get; }
    public string LogPath { get; }

    public static string Line(string text, string stream = "stdout", int second = 0) =>
        $"{{\"log\":\"{text}\\n\",\"stream\":\"{stream}\",\"time\":\"2026-11-25T03:00:{second.ToString("00", CultureInfo.InvariantCulture)}.123456789Z\"}}\n";

    public void Write(string file, params string[] lines) =>
        File.WriteAllText(file, string.Concat(lines), new UTF8Encoding(false));

    public void Append(string file, string text) => File.AppendAllText(file, text, new UTF8Encoding(false));

    public void Dispose() => Directory.Delete(Path, recursive: true);
}
