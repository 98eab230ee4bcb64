namespace Hivelet.Images.Layers;

/// <summary>
/// The umask and effective ids of this process, read once from /proc/self/status (reading the umask
/// with umask(2) would have to change it, racing with other threads creating files).
/// </summary>
internal static class ProcessIdentity
{
    private static readonly (uint Umask, bool RootRoot) Values = Read();

    /// <summary>The umask; all bits (forcing an explicit chmod) when it cannot be read.</summary>
    public static uint Umask => Values.Umask;

    /// <summary>Effective and file-system uid and gid are all 0: new files are root:root.</summary>
    public static bool IsRootRoot => Values.RootRoot;

    private static (uint, bool) Read()
    {
        uint umask = 0x1FF;
        bool uidRoot = false, gidRoot = false;
        try
        {
            foreach (var line in File.ReadLines("/proc/self/status"))
            {
                if (line.StartsWith("Umask:", StringComparison.Ordinal))
                    umask = Convert.ToUInt32(line["Umask:".Length..].Trim(), 8);
                else if (line.StartsWith("Uid:", StringComparison.Ordinal))
                    uidRoot = EffectiveAndFsAreZero(line);
                else if (line.StartsWith("Gid:", StringComparison.Ordinal))
                    gidRoot = EffectiveAndFsAreZero(line);
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException or OverflowException)
        {
            return (0x1FF, false);
        }
        return (umask, uidRoot && gidRoot);
    }

    // "Uid:\treal\teffective\tsaved\tfs"
    private static bool EffectiveAndFsAreZero(string line)
    {
        var fields = line.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
        return fields.Length >= 5 && fields[2] == "0" && fields[4] == "0";
    }
}
