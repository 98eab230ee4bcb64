using System.Globalization;

namespace Hivelet.Runtime.Containers;

/// <summary>Facts about host processes read from /proc.</summary>
public static class ProcessInfo
{
    /// <summary>Field 22 of /proc/PID/stat (start time in clock ticks since boot), 0 when the process is gone.</summary>
    public static ulong StartTime(int pid)
    {
        if (pid <= 0)
            return 0;
        try
        {
            return ParseStartTime(File.ReadAllText($"/proc/{pid.ToString(CultureInfo.InvariantCulture)}/stat"));
        }
        catch (IOException)
        {
            return 0;
        }
        catch (UnauthorizedAccessException)
        {
            return 0;
        }
    }

    /// <summary>The comm field may hold spaces and ')': fields are counted from the last ')'.</summary>
    internal static ulong ParseStartTime(string stat)
    {
        int close = stat.LastIndexOf(')');
        if (close < 0)
            return 0;
        var fields = stat[(close + 1)..].Split(' ', StringSplitOptions.RemoveEmptyEntries);
        // After "pid (comm)" field 3 (state) is index 0, so field 22 is index 19. A zombie still has
        // its start time, but it is dead: treat state Z/X as gone.
        if (fields.Length < 20 || fields[0] is "Z" or "X")
            return 0;
        return ulong.TryParse(fields[19], NumberStyles.None, CultureInfo.InvariantCulture, out var t) ? t : 0;
    }
}
