using System.Text;

namespace Hivelet.Images.Snapshots;

/// <summary>Reads mount points from /proc/self/mountinfo (proc(5)); used to find stale mounts.</summary>
public static class MountTable
{
    /// <summary>Mount points of the calling process's namespace, in mount order.</summary>
    public static IReadOnlyList<string> MountPoints(string mountInfoPath = "/proc/self/mountinfo")
    {
        var result = new List<string>();
        foreach (var line in File.ReadLines(mountInfoPath))
        {
            // "36 35 98:0 /mnt1 /mnt2 rw,noatime master:1 - ext3 /dev/root rw": field 5 is the mount point.
            var fields = line.Split(' ');
            if (fields.Length > 4)
                result.Add(Unescape(fields[4]));
        }
        return result;
    }

    /// <summary>Mount points at or below <paramref name="directory"/>, deepest first (the unmount order).</summary>
    public static IReadOnlyList<string> MountPointsUnder(string directory, string mountInfoPath = "/proc/self/mountinfo")
    {
        var root = Path.TrimEndingDirectorySeparator(Path.GetFullPath(directory));
        return MountPoints(mountInfoPath)
            .Where(m => m == root || m.StartsWith(root + "/", StringComparison.Ordinal))
            .Distinct(StringComparer.Ordinal)
            .OrderByDescending(m => m.Length)
            .ToList();
    }

    public static bool IsMountPoint(string path, string mountInfoPath = "/proc/self/mountinfo")
    {
        var full = Path.TrimEndingDirectorySeparator(Path.GetFullPath(path));
        return MountPoints(mountInfoPath).Contains(full, StringComparer.Ordinal);
    }

    // The kernel writes space, tab, newline and backslash in paths as \ooo octal escapes.
    internal static string Unescape(string field)
    {
        if (!field.Contains('\\', StringComparison.Ordinal))
            return field;
        var bytes = new List<byte>(field.Length);
        var raw = Encoding.UTF8.GetBytes(field);
        for (int i = 0; i < raw.Length; i++)
        {
            if (raw[i] == '\\' && i + 3 < raw.Length && IsOctal(raw[i + 1]) && IsOctal(raw[i + 2]) && IsOctal(raw[i + 3]))
            {
                bytes.Add((byte)(((raw[i + 1] - '0') << 6) | ((raw[i + 2] - '0') << 3) | (raw[i + 3] - '0')));
                i += 3;
            }
            else
            {
                bytes.Add(raw[i]);
            }
        }
        return Encoding.UTF8.GetString(bytes.ToArray());
    }

    private static bool IsOctal(byte b) => b is >= (byte)'0' and <= (byte)'7';
}
