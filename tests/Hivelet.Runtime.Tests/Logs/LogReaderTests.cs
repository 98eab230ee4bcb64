using System.Text;
using Hivelet.Runtime.Logs;

namespace Hivelet.Runtime.Tests.Logs;

public class LogReaderTests
{
    private static List<string> ReadAll(string path, LogReadOptions options, Func<bool>? running = null)
    {
        var seen = new List<string>();
        new LogReader().Read(path, options, e => seen.Add((e.Stream == LogStream.Stderr ? "E:" : "") + Encoding.UTF8.GetString(e.Text).TrimEnd('\n')),
            running ?? (() => false), CancellationToken.None);
        return seen;
    }

    [Fact]
    public void Reads_rotations_oldest_first_then_the_current_file_with_streams()
    {
        using var dir = new LogTestDir();
        dir.Write(dir.LogPath + ".2", LogTestDir.Line("a"));
        dir.Write(dir.LogPath + ".1", LogTestDir.Line("b", "stderr"));
        dir.Write(dir.LogPath, LogTestDir.Line("c"));
        Assert.Equal(["a", "E:b", "c"], ReadAll(dir.LogPath, new LogReadOptions()));
    }

    [Fact]
    public void Malformed_lines_are_skipped()
    {
        using var dir = new LogTestDir();
        dir.Write(dir.LogPath, LogTestDir.Line("a"), "{\"log\":\"trunc\n", "\n", "garbage\n", LogTestDir.Line("b"), "{\"log\":\"half");
        Assert.Equal(["a", "b"], ReadAll(dir.LogPath, new LogReadOptions()));
    }

    [Fact]
    public void Tail_since_and_until_filter()
    {
        using var dir = new LogTestDir();
        dir.Write(dir.LogPath + ".1", LogTestDir.Line("s1", second: 1), LogTestDir.Line("s2", second: 2));
        dir.Write(dir.LogPath, LogTestDir.Line("s3", second: 3), LogTestDir.Line("s4", second: 4));
        var t = new DateTimeOffset(2026, 11, 25, 3, 0, 0, TimeSpan.Zero);
        Assert.Equal(["s2", "s3", "s4"], ReadAll(dir.LogPath, new LogReadOptions { Tail = 3 }));
        Assert.Equal(["s3", "s4"], ReadAll(dir.LogPath, new LogReadOptions { Since = t.AddSeconds(3) }));
        Assert.Equal(["s1", "s2"], ReadAll(dir.LogPath, new LogReadOptions { Until = t.AddSeconds(3) }));
        Assert.Equal(["s3"], ReadAll(dir.LogPath, new LogReadOptions { Tail = 3, Since = t.AddSeconds(3), Until = t.AddSeconds(3.5) }));
        Assert.Empty(ReadAll(dir.LogPath, new LogReadOptions { Tail = 0 }));
    }

    [Fact]
    public void A_missing_log_is_empty()
    {
        using var dir = new LogTestDir();
        Assert.Empty(ReadAll(dir.LogPath, new LogReadOptions()));
        Assert.Empty(ReadAll(dir.LogPath, new LogReadOptions { Follow = true }));
    }

    [Fact]
    public async Task Follow_sees_new_lines_across_a_rotation_and_ends_when_the_container_stops()
    {
        using var dir = new LogTestDir();
        dir.Write(dir.LogPath, LogTestDir.Line("old"));
        var seen = new List<string>();
        var gotLine = new SemaphoreSlim(0);
        bool running = true;
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var reader = Task.Run(() => new LogReader().Read(dir.LogPath,
            new LogReadOptions { Follow = true, Tail = 1, PollInterval = TimeSpan.FromMilliseconds(20) },
            e =>
            {
                lock (seen)
                    seen.Add(Encoding.UTF8.GetString(e.Text).TrimEnd('\n'));
                gotLine.Release();
            },
            () => Volatile.Read(ref running), cts.Token));

        Assert.True(await gotLine.WaitAsync(TimeSpan.FromSeconds(10)));
        // A line written in two pieces is delivered once, whole.
        dir.Append(dir.LogPath, LogTestDir.Line("new")[..10]);
        await Task.Delay(100);
        dir.Append(dir.LogPath, LogTestDir.Line("new")[10..]);
        Assert.True(await gotLine.WaitAsync(TimeSpan.FromSeconds(10)));
        // Rotation as the monitor does it: the last line goes to the old file, then a rename, then a new file.
        dir.Append(dir.LogPath, LogTestDir.Line("before-rotate"));
        File.Move(dir.LogPath, dir.LogPath + ".1");
        dir.Write(dir.LogPath, LogTestDir.Line("after-rotate"));
        Assert.True(await gotLine.WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.True(await gotLine.WaitAsync(TimeSpan.FromSeconds(10)));
        dir.Append(dir.LogPath, LogTestDir.Line("last"));
        Volatile.Write(ref running, false);
        await reader.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(["old", "new", "before-rotate", "after-rotate", "last"], seen);
    }

    [Fact]
    public void Writer_prints_text_on_its_stream_with_optional_timestamps()
    {
        var line = Encoding.UTF8.GetBytes(LogTestDir.Line("hi", "stderr").TrimEnd('\n'));
        Assert.True(JsonLogParser.TryParse(line, out var e));
        using var stdout = new MemoryStream();
        using var stderr = new MemoryStream();
        new LogWriter(stdout, stderr, timestamps: true, flushEachEntry: false).Write(e);
        Assert.Equal(0, stdout.Length);
        Assert.Equal("2026-11-25T03:00:00.123456789Z hi\n", Encoding.UTF8.GetString(stderr.ToArray()));
    }
}
