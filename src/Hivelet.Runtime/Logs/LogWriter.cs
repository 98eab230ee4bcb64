using System.Text;

namespace Hivelet.Runtime.Logs;

/// <summary>Writes entries as `docker logs` prints them: the text on its stream, `-t` puts the time in front.</summary>
public sealed class LogWriter(Stream stdout, Stream stderr, bool timestamps, bool flushEachEntry)
{
    public void Write(LogEntry entry)
    {
        var target = entry.Stream == LogStream.Stderr ? stderr : stdout;
        if (timestamps)
        {
            target.Write(Encoding.UTF8.GetBytes(JsonLogParser.FormatRfc3339Nano(entry)));
            target.Write(" "u8);
        }
        target.Write(entry.Text);
        // Followed output must appear as it comes, not when a buffer fills.
        if (flushEachEntry)
            target.Flush();
    }
}
