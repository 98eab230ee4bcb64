using System.Globalization;
using Hivelet.Errors;

namespace Hivelet.Runtime.Lifecycle;

/// <summary>Signal names as Docker accepts them ("SIGTERM", "TERM", "15"); numbers are the same on x86_64, arm64 and arm.</summary>
public static class Signals
{
    private static readonly string[] Names =
    [
        "", "HUP", "INT", "QUIT", "ILL", "TRAP", "ABRT", "BUS", "FPE", "KILL", "USR1", "SEGV", "USR2", "PIPE",
        "ALRM", "TERM", "STKFLT", "CHLD", "CONT", "STOP", "TSTP", "TTIN", "TTOU", "URG", "XCPU", "XFSZ",
        "VTALRM", "PROF", "WINCH", "IO", "PWR", "SYS",
    ];

    public const int SIGKILL = 9;
    public const int SIGTERM = 15;

    public static int Parse(string value)
    {
        var v = value.Trim().ToUpperInvariant();
        if (int.TryParse(v, NumberStyles.None, CultureInfo.InvariantCulture, out var n))
            return n is >= 1 and <= 64 ? n : throw Invalid(value);
        if (v.StartsWith("SIG", StringComparison.Ordinal))
            v = v[3..];
        if (v == "IOT")
            return 6;
        if (v == "POLL")
            return 29;
        if (v.StartsWith("RTMIN", StringComparison.Ordinal) || v.StartsWith("RTMAX", StringComparison.Ordinal))
        {
            // glibc: SIGRTMIN = 34, SIGRTMAX = 64; "RTMIN+3", "RTMAX-2".
            int baseNo = v.StartsWith("RTMIN", StringComparison.Ordinal) ? 34 : 64;
            var rest = v[5..];
            if (rest.Length == 0)
                return baseNo;
            if (rest.Length > 1 && int.TryParse(rest[1..], NumberStyles.None, CultureInfo.InvariantCulture, out var off))
            {
                int r = rest[0] == '+' ? baseNo + off : rest[0] == '-' ? baseNo - off : -1;
                if (r is >= 34 and <= 64)
                    return r;
            }
            throw Invalid(value);
        }
        int i = Array.IndexOf(Names, v);
        return i > 0 ? i : throw Invalid(value);
    }

    private static InvalidInputException Invalid(string value) => new($"Invalid signal: {value}");
}
