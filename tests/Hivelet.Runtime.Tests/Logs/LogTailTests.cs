using Hivelet.Runtime.Logs;

namespace Hivelet.Runtime.Tests.Logs;

public class LogTailTests
{
    [Fact]
    public void Rotated_files_are_listed_oldest_first_and_stop_at_a_gap()
    {
        using var dir = new LogTestDir();
        foreach (var f in new[] { dir.LogPath, dir.LogPath + ".1", dir.LogPath + ".2", dir.LogPath + ".4" })
            dir.Write(f, LogTestDir.Line("x"));
        Assert.Equal([dir.LogPath + ".2", dir.LogPath + ".1", dir.LogPath], LogFiles.OldestFirst(dir.LogPath));
    }

    [Fact]
    public void Tail_counts_lines_from_the_end_across_files()
    {
        using var dir = new LogTestDir();
        dir.Write(dir.LogPath + ".1", LogTestDir.Line("a"), LogTestDir.Line("b"), LogTestDir.Line("c"));
        dir.Write(dir.LogPath, LogTestDir.Line("d"), LogTestDir.Line("e"));
        var files = LogFiles.OldestFirst(dir.LogPath);
        long lineLength = LogTestDir.Line("a").Length;

        Assert.Equal(new LogPosition(1, lineLength), LogTail.FindStart(files, 1));
        Assert.Equal(new LogPosition(1, 0), LogTail.FindStart(files, 2));
        Assert.Equal(new LogPosition(0, 2 * lineLength), LogTail.FindStart(files, 3));
        Assert.Equal(new LogPosition(0, 0), LogTail.FindStart(files, 5));
        Assert.Equal(new LogPosition(0, 0), LogTail.FindStart(files, 100));
        Assert.Equal(new LogPosition(1, 2 * lineLength), LogTail.FindStart(files, 0));
    }

    [Fact]
    public void Tail_of_a_big_file_crosses_chunk_boundaries()
    {
        using var dir = new LogTestDir();
        var lines = Enumerable.Range(0, 5000).Select(i => LogTestDir.Line("line" + i)).ToArray();
        dir.Write(dir.LogPath, lines);
        var start = LogTail.FindStart([dir.LogPath], 1234);
        long expected = lines.Take(5000 - 1234).Sum(l => (long)l.Length);
        Assert.Equal(new LogPosition(0, expected), start);
    }
}
