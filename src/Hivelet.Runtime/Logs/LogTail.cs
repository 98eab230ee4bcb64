namespace Hivelet.Runtime.Logs;

/// <summary>Where `--tail N` starts: a file of <see cref="LogFiles.OldestFirst"/> and a byte offset in it.</summary>
public readonly record struct LogPosition(int FileIndex, long Offset);

public static class LogTail
{
    private const int ChunkSize = 64 * 1024;

    /// <summary>
    /// The start of the last <paramref name="lines"/> lines across <paramref name="files"/> (oldest
    /// first), found by reading backwards from the end in 64 KiB chunks: only the tail of a big log is
    /// read. One line is one entry; a final line without its newline counts too.
    /// </summary>
    public static LogPosition FindStart(IReadOnlyList<string> files, int lines)
    {
        ArgumentNullException.ThrowIfNull(files);
        if (files.Count == 0)
            return new LogPosition(0, 0);
        if (lines <= 0)
            return new LogPosition(files.Count - 1, SafeLength(files[^1]));
        int found = 0;
        var buffer = new byte[ChunkSize];
        for (int f = files.Count - 1; f >= 0; f--)
        {
            FileStream stream;
            try
            {
                stream = new FileStream(files[f], FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, 1);
            }
            catch (FileNotFoundException)
            {
                continue;
            }
            using (stream)
            {
                long size = stream.Length;
                if (size == 0)
                    continue;
                long end = size;
                while (end > 0)
                {
                    int count = (int)Math.Min(ChunkSize, end);
                    long start = end - count;
                    stream.Position = start;
                    stream.ReadExactly(buffer, 0, count);
                    for (int i = count - 1; i >= 0; i--)
                    {
                        long at = start + i;
                        // The newline that ends the file terminates its last line; every other one starts a line.
                        if (buffer[i] == (byte)'\n' && at != size - 1 && ++found == lines)
                            return new LogPosition(f, at + 1);
                    }
                    end = start;
                }
                // The first line of the file starts at 0.
                if (++found == lines)
                    return new LogPosition(f, 0);
            }
        }
        return new LogPosition(0, 0);
    }

    private static long SafeLength(string path)
    {
        try
        {
            return new FileInfo(path).Length;
        }
        catch (FileNotFoundException)
        {
            return 0;
        }
    }
}
