using System.Globalization;
using Hivelet.Errors;

namespace Hivelet.Runtime.Security;

/// <summary>
/// Linux capabilities as 64-bit masks, and Docker's rules for --cap-add, --cap-drop and --privileged
/// (moby's caps.TweakCapabilities): privileged = every known capability; an added "ALL" = everything
/// except the drops; a dropped "ALL" = only the adds; otherwise the defaults minus drops plus adds.
/// </summary>
public static class Capabilities
{
    /// <summary>Docker's 14 (runtime.md C1): CHOWN DAC_OVERRIDE FOWNER FSETID KILL SETGID SETUID SETPCAP
    /// NET_BIND_SERVICE NET_RAW SYS_CHROOT MKNOD AUDIT_WRITE SETFCAP.</summary>
    public const ulong DockerDefault = 0xa80425fb;

    // Bit numbers from linux/capability.h; the same on every architecture.
    private static readonly string[] Names =
    [
        "CHOWN", "DAC_OVERRIDE", "DAC_READ_SEARCH", "FOWNER", "FSETID", "KILL", "SETGID", "SETUID",
        "SETPCAP", "LINUX_IMMUTABLE", "NET_BIND_SERVICE", "NET_BROADCAST", "NET_ADMIN", "NET_RAW",
        "IPC_LOCK", "IPC_OWNER", "SYS_MODULE", "SYS_RAWIO", "SYS_CHROOT", "SYS_PTRACE", "SYS_PACCT",
        "SYS_ADMIN", "SYS_BOOT", "SYS_NICE", "SYS_RESOURCE", "SYS_TIME", "SYS_TTY_CONFIG", "MKNOD",
        "LEASE", "AUDIT_WRITE", "AUDIT_CONTROL", "SETFCAP", "MAC_OVERRIDE", "MAC_ADMIN", "SYSLOG",
        "WAKE_ALARM", "BLOCK_SUSPEND", "AUDIT_READ", "PERFMON", "BPF", "CHECKPOINT_RESTORE",
    ];

    private const int FallbackLastCap = 40;

    private static readonly Lazy<ulong> _allKnown = new(() => MaskUpTo(ReadLastCap()) & ReadOwnBounding());

    /// <summary>
    /// Every capability a container can be given here: the kernel's (bits 0..cap_last_cap, 40 when
    /// unreadable) that are also in hivelet's own bounding set. Like moby's caps.initCaps: inside a
    /// restricted sandbox --privileged must not ask for what the parent lacks, or capset fails (EPERM).
    /// </summary>
    public static ulong AllKnown => _allKnown.Value;

    /// <summary>"CAP_NET_ADMIN" for bit 12; "CAP_41" for bits this table does not name.</summary>
    public static string Name(int bit) =>
        bit >= 0 && bit < Names.Length ? "CAP_" + Names[bit] : "CAP_" + bit.ToString(CultureInfo.InvariantCulture);

    /// <summary>The bit of a capability named "NET_ADMIN" or "CAP_NET_ADMIN" (any case), or -1.</summary>
    public static int Bit(string name)
    {
        var n = name.Trim().ToUpperInvariant();
        if (n.StartsWith("CAP_", StringComparison.Ordinal))
            n = n[4..];
        return Array.IndexOf(Names, n);
    }

    /// <summary>The effective = permitted = bounding mask for a container.</summary>
    public static ulong Resolve(IReadOnlyList<string>? add, IReadOnlyList<string>? drop, bool privileged) =>
        Resolve(add, drop, privileged, AllKnown);

    internal static ulong Resolve(IReadOnlyList<string>? add, IReadOnlyList<string>? drop, bool privileged, ulong all)
    {
        var (addMask, addAll) = Parse(add, "--cap-add");
        var (dropMask, dropAll) = Parse(drop, "--cap-drop");
        if (privileged)
            return all;
        if (addAll)
            return all & ~dropMask;
        if (dropAll)
            return addMask & all;
        return ((DockerDefault & ~dropMask) | addMask) & all;
    }

    /// <summary>Names of the bits set in <paramref name="mask"/>, "CAP_" prefixed, lowest first.</summary>
    public static List<string> ToNames(ulong mask)
    {
        var list = new List<string>();
        for (int bit = 0; bit < 64; bit++)
        {
            if ((mask & (1UL << bit)) != 0)
                list.Add(Name(bit));
        }
        return list;
    }

    private static (ulong Mask, bool All) Parse(IReadOnlyList<string>? names, string flag)
    {
        ulong mask = 0;
        bool all = false;
        if (names is null)
            return (0, false);
        foreach (var raw in names)
        {
            if (string.Equals(raw.Trim(), "ALL", StringComparison.OrdinalIgnoreCase))
            {
                all = true;
                continue;
            }
            int bit = Bit(raw);
            if (bit < 0)
                throw new InvalidInputException($"invalid argument \"{raw}\" for \"{flag}\" flag: unknown capability: \"{raw}\"");
            mask |= 1UL << bit;
        }
        return (mask, all);
    }

    internal static ulong MaskUpTo(int lastCap) => lastCap >= 63 ? ulong.MaxValue : (1UL << (lastCap + 1)) - 1;

    /// <summary>CapBnd of this process from /proc/self/status; all bits when unreadable.</summary>
    internal static ulong ReadOwnBounding(string statusFile = "/proc/self/status")
    {
        try
        {
            foreach (var line in File.ReadLines(statusFile))
            {
                if (line.StartsWith("CapBnd:", StringComparison.Ordinal) &&
                    ulong.TryParse(line.AsSpan(7).Trim(), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out ulong mask))
                    return mask;
            }
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
        return ulong.MaxValue;
    }

    private static int ReadLastCap()
    {
        try
        {
            var text = File.ReadAllText("/proc/sys/kernel/cap_last_cap").Trim();
            if (int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out int last) && last is > 0 and < 64)
                return last;
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
        return FallbackLastCap;
    }
}
