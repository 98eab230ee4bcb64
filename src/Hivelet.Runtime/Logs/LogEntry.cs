namespace Hivelet.Runtime.Logs;

public enum LogStream
{
    Stdout,
    Stderr,
}

/// <summary>
/// One line of a json-file log. <see cref="RawTime"/> is the time as the monitor wrote it (RFC 3339
/// with nanoseconds), kept because <see cref="DateTimeOffset"/> only holds 100 ns ticks and `logs -t`
/// prints the nanoseconds.
/// </summary>
public readonly record struct LogEntry(LogStream Stream, DateTimeOffset Time, string RawTime, byte[] Text);
