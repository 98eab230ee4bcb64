using Hivelet.Interop;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Hivelet.Runtime.Logs;

/// <summary>What `logs` asked for. Tail null = all lines.</summary>
public sealed record LogReadOptions
{
    public int? Tail { get; init; }
    public DateTimeOffset? Since { get; init; }
    public DateTimeOffset? Until { get; init; }
    public bool Follow { get; init; }

    /// <summary>How often a followed log is polled for new lines and rotation.</summary>
    public TimeSpan PollInterval { get; init; } = TimeSpan.FromMilliseconds(150);
}

/// <summary>
/// Reads a container's json-file log and its rotations, oldest first, and with Follow keeps reading
/// the current file as the monitor appends to it, across rotations (the old file is read to its end
/// through the open descriptor before the new one is opened), until the container has exited and the
/// log is drained. Malformed lines (a monitor killed mid-write) are skipped.
/// </summary>
public sealed class LogReader(ILogger? logger = null)
{
    private readonly ILogger _logger = logger ?? NullLogger.Instance;

    /// <param name="logPath">BUNDLE/&lt;id&gt;-json.log.</param>
    /// <param name="onEntry">Called for each entry that passes the filters, in order.</param>
    /// <param name="isRunning">Whether the container may still write (running or restarting); polled while following.</param>
    public void Read(string logPath, LogReadOptions options, Action<LogEntry> onEntry, Func<bool> isRunning, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(onEntry);
        ArgumentNullException.ThrowIfNull(isRunning);
        var files = LogFiles.OldestFirst(logPath);
        var start = options.Tail is { } tail ? LogTail.FindStart(files, tail) : new LogPosition(0, 0);
        var sink = new Filter(options, onEntry);

        // Rotated files are complete: read them through. The current one is the last in the list.
        for (int i = start.FileIndex; i < files.Count - 1 && !sink.Done; i++)
            ReadWhole(files[i], i == start.FileIndex ? start.Offset : 0, sink, ct);
        if (sink.Done)
            return;

        bool startsInCurrent = files.Count > 0 && start.FileIndex == files.Count - 1;
        long offset = startsInCurrent ? start.Offset : 0;
        if (!options.Follow)
        {
            if (files.Count > 0 && files[^1] == logPath)
                ReadWhole(logPath, offset, sink, ct);
            return;
        }
        Follow(logPath, files.Count > 0 && files[^1] == logPath ? offset : 0, options, sink, isRunning, ct);
    }

    private void ReadWhole(string path, long offset, Filter sink, CancellationToken ct)
    {
        FileStream stream;
        try
        {
            stream = Open(path);
        }
        catch (FileNotFoundException)
        {
            // Rotated away between the listing and now: its lines are in the next file's predecessor.
            return;
        }
        using (stream)
        {
            stream.Position = Math.Min(offset, stream.Length);
            var lines = new LineReader(stream, path);
            while (!sink.Done && lines.Next(out var line, out long at, final: true))
            {
                ct.ThrowIfCancellationRequested();
                Deliver(line, path, at, sink);
            }
        }
    }

    private void Follow(string path, long offset, LogReadOptions options, Filter sink, Func<bool> isRunning, CancellationToken ct)
    {
        FileStream? stream = null;
        LineReader? lines = null;
        ulong inode = 0;
        try
        {
            while (!sink.Done)
            {
                ct.ThrowIfCancellationRequested();
                // Decided before reading: whatever was written before the container stopped gets read.
                bool running = isRunning();
                if (stream is null)
                {
                    stream = TryOpen(path, out inode);
                    if (stream is not null)
                    {
                        stream.Position = Math.Min(offset, stream.Length);
                        lines = new LineReader(stream, path);
                    }
                }
                if (lines is not null)
                {
                    while (!sink.Done && lines.Next(out var line, out long at, final: false))
                        Deliver(line, path, at, sink);
                    if (sink.Done)
                        return;
                    // A new file under the name: the monitor rotated. What it wrote to the old file
                    // before the rename was just read through the old descriptor.
                    if (Sys.TryLStat(path, out var now) == 0 && now.Inode != inode)
                    {
                        LogsLog.Rotated(_logger, path);
                        while (!sink.Done && lines.Next(out var line, out long at, final: true))
                            Deliver(line, path, at, sink);
                        stream!.Dispose();
                        stream = null;
                        lines = null;
                        offset = 0;
                        continue;
                    }
                    if (stream!.Length < stream.Position)
                    {
                        LogsLog.Truncated(_logger, path);
                        stream.Position = 0;
                        lines = new LineReader(stream, path);
                        continue;
                    }
                }
                if (!running)
                {
                    // Drained after the container stopped: a partial last line is delivered as is.
                    while (lines is not null && !sink.Done && lines.Next(out var line, out long at, final: true))
                        Deliver(line, path, at, sink);
                    return;
                }
                if (ct.WaitHandle.WaitOne(options.PollInterval))
                    ct.ThrowIfCancellationRequested();
            }
        }
        finally
        {
            stream?.Dispose();
        }
    }

    private void Deliver(ReadOnlySpan<byte> line, string path, long at, Filter sink)
    {
        if (line.IsEmpty)
            return;
        if (JsonLogParser.TryParse(line, out var entry))
            sink.Offer(entry);
        else
            LogsLog.MalformedLine(_logger, path, at);
    }

    private static FileStream Open(string path) =>
        new(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, 1);

    private static FileStream? TryOpen(string path, out ulong inode)
    {
        inode = 0;
        try
        {
            var stream = Open(path);
            if (Sys.TryFStat(stream.SafeFileHandle, out var st) == 0)
                inode = st.Inode;
            return stream;
        }
        catch (FileNotFoundException)
        {
            return null;
        }
        catch (DirectoryNotFoundException)
        {
            return null;
        }
    }

    /// <summary>--since and --until: entries before since are skipped, the first one after until ends the read.</summary>
    private sealed class Filter(LogReadOptions options, Action<LogEntry> onEntry)
    {
        public bool Done { get; private set; }

        public void Offer(LogEntry entry)
        {
            if (options.Until is { } until && entry.Time > until)
            {
                Done = true;
                return;
            }
            if (options.Since is { } since && entry.Time < since)
                return;
            onEntry(entry);
        }
    }

    /// <summary>
    /// Splits a file into '\n'-terminated lines. A trailing piece without its newline is held back
    /// (the monitor may be writing it) unless <c>final</c>, when it is returned as a line.
    /// </summary>
    private sealed class LineReader(FileStream stream, string path)
    {
        private byte[] _buffer = new byte[64 * 1024];
        private int _start;
        private int _end;
        private long _bufferOffset = stream.Position;

        public bool Next(out ReadOnlySpan<byte> line, out long offset, bool final)
        {
            while (true)
            {
                int nl = _buffer.AsSpan(_start, _end - _start).IndexOf((byte)'\n');
                if (nl >= 0)
                {
                    line = _buffer.AsSpan(_start, nl);
                    offset = _bufferOffset + _start;
                    _start += nl + 1;
                    return true;
                }
                if (!Fill())
                {
                    if (final && _end > _start)
                    {
                        line = _buffer.AsSpan(_start, _end - _start);
                        offset = _bufferOffset + _start;
                        _start = _end;
                        return true;
                    }
                    line = default;
                    offset = 0;
                    return false;
                }
            }
        }

        private bool Fill()
        {
            if (_start > 0)
            {
                Buffer.BlockCopy(_buffer, _start, _buffer, 0, _end - _start);
                _bufferOffset += _start;
                _end -= _start;
                _start = 0;
            }
            if (_end == _buffer.Length)
                Array.Resize(ref _buffer, _buffer.Length * 2);
            int n;
            try
            {
                n = stream.Read(_buffer, _end, _buffer.Length - _end);
            }
            catch (IOException e)
            {
                throw new IOException($"read log `{path}`: {e.Message}", e);
            }
            _end += n;
            return n > 0;
        }
    }
}
