namespace Hivelet.Images.Layers;

public enum TarEntryType
{
    File,
    Directory,
    Symlink,
    HardLink,
    CharDevice,
    BlockDevice,
    Fifo,
}

/// <summary>
/// One tar header after PAX/GNU extensions are folded in. Nothing is lost on the way: names and link
/// targets are raw UTF-8-decoded paths, xattr values are the exact bytes (security.capability is binary).
/// </summary>
public sealed class TarEntry
{
    public required string Name { get; set; }
    public TarEntryType Type { get; set; }
    public long Size { get; set; }

    /// <summary>Permission bits including setuid, setgid and sticky (07777).</summary>
    public int Mode { get; set; }
    public long Uid { get; set; }
    public long Gid { get; set; }
    public string? UserName { get; set; }
    public string? GroupName { get; set; }

    /// <summary>Symlink target or hard-link target (a path inside the same archive).</summary>
    public string? LinkName { get; set; }

    /// <summary>Modification time, with sub-second precision when the archive has it (PAX mtime).</summary>
    public DateTimeOffset ModifiedTime { get; set; } = DateTimeOffset.UnixEpoch;
    public DateTimeOffset? AccessTime { get; set; }
    public long DeviceMajor { get; set; }
    public long DeviceMinor { get; set; }

    /// <summary>Extended attributes from PAX "SCHILY.xattr.NAME" records, values as raw bytes.</summary>
    public Dictionary<string, byte[]> Xattrs { get; } = new(StringComparer.Ordinal);
}
