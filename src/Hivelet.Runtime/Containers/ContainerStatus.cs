using System.Globalization;
using System.Text;
using Hivelet.IO;

namespace Hivelet.Runtime.Containers;

/// <summary>
/// BUNDLE/status as the monitor writes it (native/CONTRACT.md "The status file"): key=value lines,
/// unknown keys ignored so an older CLI reads a newer monitor's file.
/// </summary>
public sealed record ContainerStatus
{
    public const string FileName = "status";

    /// <summary>
    /// starting, running, restarting or exited; <see cref="Unknown"/> when the file has no state (cut short: the
    /// monitor replaces non-exited states without fsync), which reads as a monitor that died.
    /// </summary>
    public string State { get; init; } = "exited";
    public int MonitorPid { get; init; }
    public ulong MonitorStart { get; init; }
    public int Pid { get; init; }
    public ulong PidStart { get; init; }
    public DateTimeOffset? StartedAt { get; init; }
    public DateTimeOffset? FinishedAt { get; init; }
    public int ExitCode { get; init; }
    public bool OomKilled { get; init; }
    public int RestartCount { get; init; }
    public string Error { get; init; } = "";

    public const string Unknown = "unknown";

    public bool IsExited => State == "exited";

    public static ContainerStatus Parse(string text)
    {
        var s = new ContainerStatus { State = Unknown };
        foreach (var raw in text.Split('\n'))
        {
            var line = raw.TrimEnd('\r');
            int eq = line.IndexOf('=', StringComparison.Ordinal);
            if (eq <= 0)
                continue;
            var key = line[..eq];
            var value = line[(eq + 1)..];
            s = key switch
            {
                "state" => s with { State = value },
                "monitor_pid" => s with { MonitorPid = Int(value) },
                "monitor_start" => s with { MonitorStart = ULong(value) },
                "pid" => s with { Pid = Int(value) },
                "pid_start" => s with { PidStart = ULong(value) },
                "started_at" => s with { StartedAt = Time(value) },
                "finished_at" => s with { FinishedAt = Time(value) },
                "exit_code" => s with { ExitCode = Int(value) },
                "oom_killed" => s with { OomKilled = value == "1" },
                "restart_count" => s with { RestartCount = Int(value) },
                "error" => s with { Error = value },
                _ => s,
            };
        }
        return s;
    }

    /// <summary>The status of the container in <paramref name="bundleDir"/>, or null when it never started.</summary>
    public static ContainerStatus? Read(string bundleDir)
    {
        var path = Path.Combine(bundleDir, FileName);
        try
        {
            return Parse(File.ReadAllText(path));
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

    public string Format()
    {
        var sb = new StringBuilder();
        void Add(string k, string v) => sb.Append(k).Append('=').Append(v).Append('\n');
        Add("state", State);
        Add("monitor_pid", MonitorPid.ToString(CultureInfo.InvariantCulture));
        Add("monitor_start", MonitorStart.ToString(CultureInfo.InvariantCulture));
        Add("pid", Pid.ToString(CultureInfo.InvariantCulture));
        Add("pid_start", PidStart.ToString(CultureInfo.InvariantCulture));
        Add("started_at", StartedAt is { } a ? FormatTime(a) : "");
        Add("finished_at", FinishedAt is { } f ? FormatTime(f) : "");
        Add("exit_code", ExitCode.ToString(CultureInfo.InvariantCulture));
        Add("oom_killed", OomKilled ? "1" : "0");
        Add("restart_count", RestartCount.ToString(CultureInfo.InvariantCulture));
        Add("error", Error.Replace('\n', ' '));
        return sb.ToString();
    }

    /// <summary>Replaces BUNDLE/status atomically (the managed side only does so when reconciling).</summary>
    public void Write(string bundleDir) => AtomicFile.WriteAllText(Path.Combine(bundleDir, FileName), Format());

    /// <summary>RFC 3339 UTC with 9 fractional digits, like the monitor and Docker's inspect.</summary>
    public static string FormatTime(DateTimeOffset t) =>
        t.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fffffff'00Z'", CultureInfo.InvariantCulture);

    private static int Int(string v) =>
        int.TryParse(v, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var n) ? n : 0;

    private static ulong ULong(string v) =>
        ulong.TryParse(v, NumberStyles.None, CultureInfo.InvariantCulture, out var n) ? n : 0;

    /// <summary>Parses RFC 3339 with up to 9 fractional digits (.NET keeps 7); empty or bad = null.</summary>
    internal static DateTimeOffset? Time(string v)
    {
        if (v.Length == 0)
            return null;
        int dot = v.IndexOf('.', StringComparison.Ordinal);
        if (dot > 0)
        {
            int end = dot + 1;
            while (end < v.Length && char.IsAsciiDigit(v[end]))
                end++;
            if (end - dot - 1 > 7)
                v = v[..(dot + 8)] + v[end..];
        }
        return DateTimeOffset.TryParse(v, CultureInfo.InvariantCulture,
            DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal, out var t) ? t : null;
    }
}
