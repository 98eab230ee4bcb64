using System.Globalization;
using System.Text.RegularExpressions;
using Hivelet.Errors;
using Hivelet.Runtime.Containers;

namespace Hivelet.Runtime.Spec;

/// <summary>
/// Parsers for the values of Docker's flags, with Docker's wording in the errors where it has one.
/// Every failure is an <see cref="InvalidInputException"/> that names the flag and the value.
/// </summary>
public static partial class Flags
{
    internal static InvalidInputException Invalid(string flag, string value, string why) =>
        new($"invalid argument \"{value}\" for \"{flag}\" flag: {why}");

    [GeneratedRegex(@"^(\d+(?:\.\d+)?) ?([kKmMgGtTpP])?[iI]?[bB]?$")]
    private static partial Regex SizePattern();

    /// <summary>Docker's RAMInBytes: "512m", "1.5g", "100k", "1024", binary multiples.</summary>
    public static long ParseBytes(string value, string flag)
    {
        var m = SizePattern().Match(value.Trim());
        if (!m.Success || !double.TryParse(m.Groups[1].Value, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out double n))
            throw Invalid(flag, value, $"invalid size: '{value}'");
        double mult = m.Groups[2].Success
            ? char.ToLowerInvariant(m.Groups[2].Value[0]) switch
            {
                'k' => 1L << 10,
                'm' => 1L << 20,
                'g' => 1L << 30,
                't' => 1L << 40,
                _ => 1L << 50,
            }
            : 1;
        double bytes = n * mult;
        if (bytes >= long.MaxValue)
            throw Invalid(flag, value, $"invalid size: '{value}'");
        return (long)bytes;
    }

    public static long ParseLong(string value, string flag)
    {
        if (!long.TryParse(value.Trim(), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long n))
            throw Invalid(flag, value, $"strconv.ParseInt: parsing \"{value}\": invalid syntax");
        return n;
    }

    public static int ParseInt(string value, string flag)
    {
        long n = ParseLong(value, flag);
        if (n is < int.MinValue or > int.MaxValue)
            throw Invalid(flag, value, "value out of range");
        return (int)n;
    }

    /// <summary>--cpus "1.5" -> 1_500_000_000 nano CPUs.</summary>
    public static long ParseNanoCpus(string value, string flag)
    {
        if (!decimal.TryParse(value.Trim(), NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out decimal cpus))
            throw Invalid(flag, value, $"failed to parse {value} as a rational number");
        decimal nano = cpus * 1_000_000_000m;
        if (nano != decimal.Truncate(nano))
            throw Invalid(flag, value, "value is too precise");
        if (nano > long.MaxValue)
            throw Invalid(flag, value, "value is too large");
        return (long)nano;
    }

    [GeneratedRegex(@"(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h)")]
    private static partial Regex DurationPart();

    /// <summary>Go's time.ParseDuration: "30s", "1m30s", "1.5h", "500ms", "0".</summary>
    public static TimeSpan ParseDuration(string value, string flag)
    {
        var s = value.Trim();
        if (s == "0")
            return TimeSpan.Zero;
        bool negative = s.StartsWith('-');
        if (negative || s.StartsWith('+'))
            s = s[1..];
        if (s.Length == 0)
            throw Invalid(flag, value, $"time: invalid duration \"{value}\"");
        decimal ns = 0;
        int pos = 0;
        foreach (Match m in DurationPart().Matches(s))
        {
            if (m.Index != pos)
                break;
            pos += m.Length;
            decimal n = decimal.Parse(m.Groups[1].Value, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture);
            ns += n * m.Groups[2].Value switch
            {
                "ns" => 1m,
                "us" or "µs" or "μs" => 1_000m,
                "ms" => 1_000_000m,
                "s" => 1_000_000_000m,
                "m" => 60_000_000_000m,
                _ => 3_600_000_000_000m,
            };
        }
        if (pos != s.Length)
            throw Invalid(flag, value, $"time: invalid duration \"{value}\"");
        if (ns > long.MaxValue)
            throw Invalid(flag, value, $"time: invalid duration \"{value}\"");
        var ticks = (long)(ns / 100m);
        return negative ? TimeSpan.FromTicks(-ticks) : TimeSpan.FromTicks(ticks);
    }

    /// <summary>--restart: no | always | unless-stopped | on-failure[:N].</summary>
    public static RestartPolicy ParseRestart(string value)
    {
        var parts = value.Split(':');
        var name = parts[0];
        if (parts.Length > 2)
            throw new InvalidInputException($"invalid restart policy format: {value}");
        int max = 0;
        if (parts.Length == 2)
        {
            if (name != "on-failure")
                throw new InvalidInputException(
                    $"invalid restart policy: maximum retry count can only be used with 'on-failure': {value}");
            if (!int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out max))
                throw new InvalidInputException($"invalid restart policy format: maximum retry count must be an integer: {value}");
        }
        return name switch
        {
            "" or "no" => new RestartPolicy { Name = "no" },
            "always" or "unless-stopped" => new RestartPolicy { Name = name },
            "on-failure" => new RestartPolicy { Name = name, MaximumRetryCount = max },
            _ => throw new InvalidInputException(
                $"invalid restart policy: unknown policy '{name}'; use one of 'no', 'always', 'on-failure', or 'unless-stopped'"),
        };
    }

    // Linux signal numbers; the same on x86_64, arm and arm64 (asm-generic), unlike mips/alpha.
    private static readonly string[] SignalNames =
    [
        "", "HUP", "INT", "QUIT", "ILL", "TRAP", "ABRT", "BUS", "FPE", "KILL", "USR1", "SEGV", "USR2",
        "PIPE", "ALRM", "TERM", "STKFLT", "CHLD", "CONT", "STOP", "TSTP", "TTIN", "TTOU", "URG", "XCPU",
        "XFSZ", "VTALRM", "PROF", "WINCH", "IO", "PWR", "SYS",
    ];

    private const int SigRtMin = 34, SigRtMax = 64;

    /// <summary>"SIGTERM", "TERM", "term", "15", "RTMIN+3" -> the signal number.</summary>
    public static int ParseSignal(string value)
    {
        var s = value.Trim();
        if (int.TryParse(s, NumberStyles.None, CultureInfo.InvariantCulture, out int n))
        {
            if (n is >= 1 and <= SigRtMax)
                return n;
            throw new InvalidInputException($"invalid signal: {value}");
        }
        var upper = s.ToUpperInvariant();
        if (upper.StartsWith("SIG", StringComparison.Ordinal))
            upper = upper[3..];
        if (upper == "IOT")
            return 6;
        if (upper == "POLL")
            return 29;
        if (upper == "CLD")
            return 17;
        int idx = Array.IndexOf(SignalNames, upper);
        if (idx > 0)
            return idx;
        if (upper == "RTMIN")
            return SigRtMin;
        if (upper == "RTMAX")
            return SigRtMax;
        if (upper.StartsWith("RTMIN+", StringComparison.Ordinal) && int.TryParse(upper[6..], NumberStyles.None, CultureInfo.InvariantCulture, out int k) && SigRtMin + k <= SigRtMax)
            return SigRtMin + k;
        if (upper.StartsWith("RTMAX-", StringComparison.Ordinal) && int.TryParse(upper[6..], NumberStyles.None, CultureInfo.InvariantCulture, out k) && SigRtMax - k >= SigRtMin)
            return SigRtMax - k;
        throw new InvalidInputException($"invalid signal: {value}");
    }

    /// <summary>RLIMIT_* numbers (asm-generic; identical on x86_64, arm64 and arm).</summary>
    public static readonly IReadOnlyDictionary<string, int> RlimitNumbers = new Dictionary<string, int>
    {
        ["cpu"] = 0,
        ["fsize"] = 1,
        ["data"] = 2,
        ["stack"] = 3,
        ["core"] = 4,
        ["rss"] = 5,
        ["nproc"] = 6,
        ["nofile"] = 7,
        ["memlock"] = 8,
        ["as"] = 9,
        ["locks"] = 10,
        ["sigpending"] = 11,
        ["msgqueue"] = 12,
        ["nice"] = 13,
        ["rtprio"] = 14,
        ["rttime"] = 15,
    };

    /// <summary>--ulimit "nofile=1024:2048" or "nofile=1024" (soft = hard); -1 = unlimited.</summary>
    public static Ulimit ParseUlimit(string value)
    {
        int eq = value.IndexOf('=');
        if (eq <= 0)
            throw new InvalidInputException($"invalid ulimit argument: {value}");
        var name = value[..eq];
        if (!RlimitNumbers.ContainsKey(name))
            throw new InvalidInputException($"invalid ulimit type: {name}");
        var limits = value[(eq + 1)..].Split(':');
        if (limits.Length > 2 || limits.Any(l => l.Length == 0))
            throw new InvalidInputException($"too many limit value arguments - {value[(eq + 1)..]}, can only have up to two, `soft[:hard]`");
        long soft = ParseLimit(limits[0], value);
        long hard = limits.Length == 2 ? ParseLimit(limits[1], value) : soft;
        if (soft != -1 && (hard == -1 ? false : soft > hard))
            throw new InvalidInputException($"ulimit soft limit must be less than or equal to hard limit: {soft} > {hard}");
        if (soft == -1 && hard != -1)
            throw new InvalidInputException($"ulimit soft limit must be less than or equal to hard limit: unlimited > {hard}");
        return new Ulimit { Name = name, Soft = soft, Hard = hard };

        static long ParseLimit(string s, string whole)
        {
            if (!long.TryParse(s, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long n) || n < -1)
                throw new InvalidInputException($"invalid ulimit argument: {whole}");
            return n;
        }
    }

    private static bool IsDeviceMode(string mode) =>
        mode.Length is > 0 and <= 3 && mode.All(c => c is 'r' or 'w' or 'm') && mode.Distinct().Count() == mode.Length;

    /// <summary>--device "HOST[:CONTAINER][:rwm]" (Docker's parseDevice).</summary>
    public static DeviceMapping ParseDevice(string value)
    {
        var parts = value.Split(':');
        string src, dst, perms = "rwm";
        switch (parts.Length)
        {
            case 3:
                if (!IsDeviceMode(parts[2]))
                    throw new InvalidInputException($"invalid device mode: {parts[2]}");
                (src, dst, perms) = (parts[0], parts[1], parts[2]);
                break;
            case 2:
                src = parts[0];
                if (IsDeviceMode(parts[1]))
                {
                    perms = parts[1];
                    dst = src;
                }
                else
                {
                    dst = parts[1];
                }
                break;
            case 1:
                src = dst = parts[0];
                break;
            default:
                throw new InvalidInputException($"invalid device specification: {value}");
        }
        if (src.Length == 0 || dst.Length == 0)
            throw new InvalidInputException($"invalid device specification: {value}");
        if (!src.StartsWith('/'))
            throw new InvalidInputException($"invalid device specification: {value}: host path must be absolute: {src}");
        if (!dst.StartsWith('/'))
            throw new InvalidInputException($"invalid device specification: {value}: container path must be absolute: {dst}");
        return new DeviceMapping { PathOnHost = src, PathInContainer = CleanPath(dst), CgroupPermissions = perms };
    }

    /// <summary>A parsed -v value.</summary>
    public readonly record struct VolumeSpec(string? Source, string Destination, bool ReadOnly, bool NoCopy = false)
    {
        public bool IsBind => Source != null && Source.StartsWith('/');
        public bool IsAnonymous => Source is null;
    }

    /// <summary>-v "SRC:DST[:MODE]" or "DST". MODE: comma-separated ro|rw (and the SELinux/propagation
    /// words Docker accepts, ignored here: z, Z, rprivate, private, rshared, shared, rslave, slave).</summary>
    public static VolumeSpec ParseVolume(string value)
    {
        var parts = value.Split(':');
        string? src;
        string dst;
        string mode = "";
        switch (parts.Length)
        {
            case 1:
                (src, dst) = (null, parts[0]);
                break;
            case 2:
                (src, dst) = (parts[0], parts[1]);
                break;
            case 3:
                (src, dst, mode) = (parts[0], parts[1], parts[2]);
                break;
            default:
                throw new InvalidInputException($"invalid volume specification: '{value}'");
        }
        if (dst.Length == 0 || (src != null && src.Length == 0))
            throw new InvalidInputException($"invalid volume specification: '{value}'");
        if (!dst.StartsWith('/'))
            throw new InvalidInputException($"invalid volume specification: '{value}': invalid mount path: '{dst}' mount path must be absolute");
        if (CleanPath(dst) == "/")
            throw new InvalidInputException($"invalid volume specification: '{value}': invalid mount path: '/' cannot be a mount point");
        bool readOnly = false, noCopy = false;
        int rwWords = 0;
        foreach (var word in mode.Split(',', StringSplitOptions.RemoveEmptyEntries))
        {
            switch (word)
            {
                case "ro":
                    readOnly = true;
                    rwWords++;
                    break;
                case "rw":
                    rwWords++;
                    break;
                case "nocopy":
                    noCopy = true;
                    break;
                case "z" or "Z" or "rprivate" or "private" or "rshared" or "shared" or "rslave" or "slave":
                    break;
                default:
                    throw new InvalidInputException($"invalid mode: {mode}");
            }
        }
        if (rwWords > 1)
            throw new InvalidInputException($"invalid mode: {mode}");
        if (src != null && !src.StartsWith('/'))
            Volumes.VolumeStore.ValidateName(src);
        return new VolumeSpec(src is null ? null : src.StartsWith('/') ? CleanPath(src) : src, CleanPath(dst), readOnly, noCopy);
    }

    /// <summary>--tmpfs "/run" or "/run:rw,size=64m" -> (destination, options).</summary>
    public static (string Destination, string Options) ParseTmpfs(string value)
    {
        int colon = value.IndexOf(':');
        var dst = colon < 0 ? value : value[..colon];
        var opts = colon < 0 ? "" : value[(colon + 1)..];
        if (!dst.StartsWith('/'))
            throw new InvalidInputException($"invalid argument \"{value}\" for \"--tmpfs\" flag: invalid mount path: '{dst}' mount path must be absolute");
        _ = TmpfsMountOptions(opts, value);
        return (CleanPath(dst), opts);
    }

    // MS_* values (same on every Linux architecture).
    internal const ulong MS_RDONLY = 0x1, MS_NOSUID = 0x2, MS_NODEV = 0x4, MS_NOEXEC = 0x8, MS_SYNCHRONOUS = 0x10,
        MS_REMOUNT = 0x20, MS_MANDLOCK = 0x40, MS_DIRSYNC = 0x80, MS_NOATIME = 0x400, MS_NODIRATIME = 0x800,
        MS_BIND = 0x1000, MS_REC = 0x4000, MS_PRIVATE = 0x40000, MS_RELATIME = 0x200000,
        MS_STRICTATIME = 0x1000000;

    /// <summary>
    /// A --tmpfs option string as mount flags and data. Docker starts from nosuid,nodev,noexec and lets
    /// the user's words override them (exec, suid, dev); size/mode/uid/gid/nr_inodes/nr_blocks go to the
    /// file system. "size" accepts Docker's units ("64m").
    /// </summary>
    internal static (ulong Flags, string Data) TmpfsMountOptions(string options, string whole)
    {
        ulong flags = MS_NOSUID | MS_NODEV | MS_NOEXEC;
        var data = new List<string>();
        foreach (var word in options.Split(',', StringSplitOptions.RemoveEmptyEntries))
        {
            int eq = word.IndexOf('=');
            var key = eq < 0 ? word : word[..eq];
            var val = eq < 0 ? "" : word[(eq + 1)..];
            switch (key)
            {
                case "ro": flags |= MS_RDONLY; break;
                case "rw": flags &= ~MS_RDONLY; break;
                case "nosuid": flags |= MS_NOSUID; break;
                case "suid": flags &= ~MS_NOSUID; break;
                case "nodev": flags |= MS_NODEV; break;
                case "dev": flags &= ~MS_NODEV; break;
                case "noexec": flags |= MS_NOEXEC; break;
                case "exec": flags &= ~MS_NOEXEC; break;
                case "sync": flags |= MS_SYNCHRONOUS; break;
                case "async": flags &= ~MS_SYNCHRONOUS; break;
                case "dirsync": flags |= MS_DIRSYNC; break;
                case "noatime": flags |= MS_NOATIME; break;
                case "atime": flags &= ~MS_NOATIME; break;
                case "nodiratime": flags |= MS_NODIRATIME; break;
                case "diratime": flags &= ~MS_NODIRATIME; break;
                case "relatime": flags |= MS_RELATIME; break;
                case "norelatime": flags &= ~MS_RELATIME; break;
                case "strictatime": flags |= MS_STRICTATIME; break;
                case "nostrictatime": flags &= ~MS_STRICTATIME; break;
                case "size" when eq > 0:
                    data.Add("size=" + ParseBytes(val, "--tmpfs").ToString(CultureInfo.InvariantCulture));
                    break;
                case "mode" or "uid" or "gid" or "nr_inodes" or "nr_blocks" when eq > 0:
                    data.Add(word);
                    break;
                default:
                    throw new InvalidInputException($"invalid argument \"{whole}\" for \"--tmpfs\" flag: unknown option '{word}'");
            }
        }
        return (flags, string.Join(',', data));
    }

    /// <summary>"k=v" entries (labels, sysctls, log options) into a map; "k" alone maps to "" when allowed.</summary>
    internal static Dictionary<string, string> ParseKeyValues(IEnumerable<string> values, string flag, bool valueRequired)
    {
        var map = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var v in values)
        {
            int eq = v.IndexOf('=');
            if (eq == 0 || (eq < 0 && valueRequired))
                throw Invalid(flag, v, $"invalid {flag.TrimStart('-')} format, expected key=value");
            if (eq < 0)
                map[v] = "";
            else
                map[v[..eq]] = v[(eq + 1)..];
        }
        return map;
    }

    /// <summary>Lexical clean of an absolute container path: no "//", ".", ".." or trailing "/".</summary>
    public static string CleanPath(string path)
    {
        var stack = new List<string>();
        foreach (var part in path.Split('/', StringSplitOptions.RemoveEmptyEntries))
        {
            if (part == ".")
                continue;
            if (part == "..")
            {
                if (stack.Count > 0)
                    stack.RemoveAt(stack.Count - 1);
                continue;
            }
            stack.Add(part);
        }
        return "/" + string.Join('/', stack);
    }
}
