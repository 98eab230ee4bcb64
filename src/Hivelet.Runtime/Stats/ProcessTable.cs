using System.Globalization;
using System.Text;

namespace Hivelet.Runtime.Stats;

/// <summary>One `top` row, the columns of `ps -ef`.</summary>
public sealed record ProcessRow(string Uid, int Pid, int Ppid, int Cpu, string Stime, string Tty, string Time, string Cmd);

/// <summary>
/// `ps -ef` for a list of host pids, read from /proc: UID (effective, named through the host's
/// /etc/passwd as ps does), PID, PPID, C (CPU time over lifetime, %), STIME, TTY, TIME, CMD.
/// Times use USER_HZ, which the kernel fixes at 100 in /proc on every architecture.
/// </summary>
public sealed class ProcessTable
{
    private const double UserHz = 100;

    public static readonly string[] Header = ["UID", "PID", "PPID", "C", "STIME", "TTY", "TIME", "CMD"];

    private readonly string _proc;
    private readonly IReadOnlyDictionary<uint, string> _users;

    public ProcessTable(string procRoot = "/proc", string passwdPath = "/etc/passwd")
    {
        _proc = procRoot;
        _users = ReadUsers(passwdPath);
    }

    /// <summary>Rows for the pids that still exist (a process may exit while it is read), in pid order.</summary>
    public IReadOnlyList<ProcessRow> Read(IEnumerable<int> pids, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(pids);
        double uptime = ReadUptime();
        var boot = now - TimeSpan.FromSeconds(uptime);
        var rows = new List<ProcessRow>();
        foreach (var pid in pids.Order())
        {
            var row = TryRead(pid, now, boot, uptime);
            if (row is not null)
                rows.Add(row);
        }
        return rows;
    }

    private ProcessRow? TryRead(int pid, DateTimeOffset now, DateTimeOffset boot, double uptime)
    {
        string dir = Path.Combine(_proc, pid.ToString(CultureInfo.InvariantCulture));
        string stat, status;
        byte[] cmdline;
        try
        {
            stat = File.ReadAllText(Path.Combine(dir, "stat"));
            status = File.ReadAllText(Path.Combine(dir, "status"));
            cmdline = File.ReadAllBytes(Path.Combine(dir, "cmdline"));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
        var parsed = ParseStat(stat);
        if (parsed is null)
            return null;
        var (comm, ppid, ttyNr, ticks, startTicks) = parsed.Value;
        double cpuSeconds = ticks / UserHz;
        double elapsed = uptime - startTicks / UserHz;
        int c = elapsed > 0 ? (int)Math.Min(99, cpuSeconds * 100 / elapsed) : 0;
        var started = boot + TimeSpan.FromSeconds(startTicks / UserHz);
        uint uid = ParseEffectiveUid(status);
        return new ProcessRow(
            _users.TryGetValue(uid, out var name) ? name : uid.ToString(CultureInfo.InvariantCulture),
            pid, ppid, c, FormatStime(started.ToLocalTime(), now.ToLocalTime()), FormatTty(ttyNr),
            FormatCpuTime(cpuSeconds), FormatCmd(cmdline, comm));
    }

    /// <summary>Fields of /proc/PID/stat after the command name, which may itself hold spaces and parentheses.</summary>
    public static (string Comm, int Ppid, long TtyNr, long CpuTicks, long StartTicks)? ParseStat(string stat)
    {
        ArgumentNullException.ThrowIfNull(stat);
        int open = stat.IndexOf('(', StringComparison.Ordinal), close = stat.LastIndexOf(')');
        if (open < 0 || close < open)
            return null;
        var f = stat[(close + 1)..].Split(' ', StringSplitOptions.RemoveEmptyEntries);
        // f[0] state, f[1] ppid, f[4] tty_nr, f[11] utime, f[12] stime, f[19] starttime.
        if (f.Length < 20)
            return null;
        var ci = CultureInfo.InvariantCulture;
        if (!int.TryParse(f[1], ci, out var ppid) || !long.TryParse(f[4], ci, out var tty)
            || !long.TryParse(f[11], ci, out var utime) || !long.TryParse(f[12], ci, out var stime)
            || !long.TryParse(f[19], ci, out var start))
            return null;
        return (stat[(open + 1)..close], ppid, tty, utime + stime, start);
    }

    public static uint ParseEffectiveUid(string status)
    {
        ArgumentNullException.ThrowIfNull(status);
        foreach (var line in status.Split('\n'))
        {
            if (!line.StartsWith("Uid:", StringComparison.Ordinal))
                continue;
            var f = line[4..].Split(['\t', ' '], StringSplitOptions.RemoveEmptyEntries);
            if (f.Length >= 2 && uint.TryParse(f[1], CultureInfo.InvariantCulture, out var euid))
                return euid;
        }
        return 0;
    }

    /// <summary>ps's names for the controlling terminal: pts/N, ttyN, ttySN, or "?".</summary>
    public static string FormatTty(long ttyNr)
    {
        if (ttyNr == 0)
            return "?";
        long major = (ttyNr >> 8) & 0xfff;
        long minor = (ttyNr & 0xff) | ((ttyNr >> 12) & 0xfff00);
        if (major >= 136 && major <= 143)
            return "pts/" + ((major - 136) * 256 + minor).ToString(CultureInfo.InvariantCulture);
        if (major == 4)
            return minor < 64 ? "tty" + minor.ToString(CultureInfo.InvariantCulture) : "ttyS" + (minor - 64).ToString(CultureInfo.InvariantCulture);
        return "?";
    }

    /// <summary>[DD-]HH:MM:SS of CPU time, as ps's TIME.</summary>
    public static string FormatCpuTime(double seconds)
    {
        long s = (long)seconds;
        long days = s / 86400;
        var hms = string.Create(CultureInfo.InvariantCulture, $"{s / 3600 % 24:00}:{s / 60 % 60:00}:{s % 60:00}");
        return days > 0 ? days.ToString(CultureInfo.InvariantCulture) + "-" + hms : hms;
    }

    /// <summary>ps's STIME: HH:MM within the last 24 hours, MmmDD within the year, else the year.</summary>
    public static string FormatStime(DateTimeOffset started, DateTimeOffset now)
    {
        if (now - started < TimeSpan.FromHours(24))
            return started.ToString("HH:mm", CultureInfo.InvariantCulture);
        if (started.Year == now.Year)
            return started.ToString("MMMdd", CultureInfo.InvariantCulture);
        return started.Year.ToString(CultureInfo.InvariantCulture);
    }

    /// <summary>The argv joined by spaces; a kernel thread or zombie without one shows as [comm].</summary>
    public static string FormatCmd(ReadOnlySpan<byte> cmdline, string comm)
    {
        var trimmed = cmdline.TrimEnd((byte)0);
        if (trimmed.IsEmpty)
            return "[" + comm + "]";
        var text = Encoding.UTF8.GetString(trimmed);
        return text.Replace('\0', ' ');
    }

    private static Dictionary<uint, string> ReadUsers(string passwdPath)
    {
        var users = new Dictionary<uint, string>();
        try
        {
            foreach (var line in File.ReadLines(passwdPath))
            {
                var f = line.Split(':');
                if (f.Length >= 3 && uint.TryParse(f[2], CultureInfo.InvariantCulture, out var uid))
                    users.TryAdd(uid, f[0]);
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // No passwd: numeric uids, as ps shows them.
        }
        return users;
    }

    private double ReadUptime()
    {
        try
        {
            var text = File.ReadAllText(Path.Combine(_proc, "uptime"));
            var first = text.Split(' ', StringSplitOptions.RemoveEmptyEntries)[0];
            return double.Parse(first, CultureInfo.InvariantCulture);
        }
        catch (Exception e) when (e is IOException or FormatException or IndexOutOfRangeException)
        {
            return Environment.TickCount64 / 1000.0;
        }
    }
}
