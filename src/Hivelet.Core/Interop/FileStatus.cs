namespace Hivelet.Interop;

/// <summary>What statx reports about one path (not following a final symlink).</summary>
public readonly record struct FileStatus(
    uint Mode,
    uint Uid,
    uint Gid,
    uint LinkCount,
    ulong Inode,
    uint DeviceMajor,
    uint DeviceMinor,
    ulong Size,
    long AccessSeconds,
    uint AccessNanoseconds,
    long ModifySeconds,
    uint ModifyNanoseconds,
    uint RDevMajor,
    uint RDevMinor)
{
    public const uint S_IFMT = 0xF000;
    public const uint S_IFSOCK = 0xC000;
    public const uint S_IFLNK = 0xA000;
    public const uint S_IFREG = 0x8000;
    public const uint S_IFBLK = 0x6000;
    public const uint S_IFDIR = 0x4000;
    public const uint S_IFCHR = 0x2000;
    public const uint S_IFIFO = 0x1000;

    public uint Type => Mode & S_IFMT;

    /// <summary>Permission bits including setuid, setgid and sticky.</summary>
    public uint Permissions => Mode & 0xFFF;

    public bool IsDirectory => Type == S_IFDIR;
    public bool IsRegularFile => Type == S_IFREG;
    public bool IsSymlink => Type == S_IFLNK;

    /// <summary>The overlayfs whiteout: a character device 0/0.</summary>
    public bool IsWhiteout => Type == S_IFCHR && RDevMajor == 0 && RDevMinor == 0;
}
