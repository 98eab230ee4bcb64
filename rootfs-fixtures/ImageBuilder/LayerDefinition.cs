using System.Formats.Tar;
using System.Text;

namespace Hivelet.Fixtures;

/// <summary>
/// The content of one layer, described in code with a fluent API. Paths are relative to the
/// image root ("etc/passwd"); directories get the trailing slash that real layers carry.
/// </summary>
public sealed class LayerDefinition
{
    private const int Mode0644 = 0b110_100_100;
    private const int Mode0755 = 0b111_101_101;

    private readonly List<LayerEntry> _entries = [];

    public LayerDefinition(LayerCompression compression = LayerCompression.Gzip) => Compression = compression;

    public LayerCompression Compression { get; }

    /// <summary>A comment for the config's history entry.</summary>
    public string CreatedBy { get; set; } = "hivelet ImageBuilder";

    public IReadOnlyList<LayerEntry> Entries => _entries;

    public LayerDefinition Add(LayerEntry entry)
    {
        _entries.Add(entry);
        return this;
    }

    public LayerDefinition Dir(string path, int mode = Mode0755, int uid = 0, int gid = 0) =>
        Add(new LayerEntry { Name = DirName(path), Type = TarEntryType.Directory, Mode = mode, Uid = uid, Gid = gid });

    public LayerDefinition File(string path, byte[] content, int mode = Mode0644, int uid = 0, int gid = 0,
        IReadOnlyDictionary<string, string>? xattrs = null) =>
        Add(new LayerEntry
        {
            Name = path,
            Type = TarEntryType.RegularFile,
            Content = content,
            Mode = mode,
            Uid = uid,
            Gid = gid,
            Xattrs = xattrs,
        });

    public LayerDefinition File(string path, string text, int mode = Mode0644, int uid = 0, int gid = 0,
        IReadOnlyDictionary<string, string>? xattrs = null) =>
        File(path, Encoding.UTF8.GetBytes(text), mode, uid, gid, xattrs);

    public LayerDefinition Symlink(string path, string target, int uid = 0, int gid = 0) =>
        Add(new LayerEntry
        {
            Name = path,
            Type = TarEntryType.SymbolicLink,
            LinkName = target,
            Mode = 0b111_111_111,
            Uid = uid,
            Gid = gid,
        });

    /// <summary>A hard link to <paramref name="target"/>, an earlier entry of this same layer.</summary>
    public LayerDefinition HardLink(string path, string target, int mode = Mode0644, int uid = 0, int gid = 0) =>
        Add(new LayerEntry { Name = path, Type = TarEntryType.HardLink, LinkName = target, Mode = mode, Uid = uid, Gid = gid });

    /// <summary>Deletes <paramref name="path"/> from lower layers: writes "dir/.wh.name".</summary>
    public LayerDefinition Whiteout(string path)
    {
        var trimmed = path.TrimEnd('/');
        int slash = trimmed.LastIndexOf('/');
        var name = slash < 0 ? $".wh.{trimmed}" : $"{trimmed[..(slash + 1)]}.wh.{trimmed[(slash + 1)..]}";
        return Add(new LayerEntry { Name = name, Type = TarEntryType.RegularFile });
    }

    /// <summary>Hides every lower child of <paramref name="dir"/>: writes "dir/.wh..wh..opq".</summary>
    public LayerDefinition Opaque(string dir) =>
        Add(new LayerEntry { Name = DirName(dir) + ".wh..wh..opq", Type = TarEntryType.RegularFile });

    public LayerDefinition CharDevice(string path, int major, int minor, int mode = 0b110_110_110) =>
        Add(new LayerEntry
        {
            Name = path,
            Type = TarEntryType.CharacterDevice,
            DeviceMajor = major,
            DeviceMinor = minor,
            Mode = mode,
        });

    public LayerDefinition BlockDevice(string path, int major, int minor, int mode = 0b110_110_000) =>
        Add(new LayerEntry
        {
            Name = path,
            Type = TarEntryType.BlockDevice,
            DeviceMajor = major,
            DeviceMinor = minor,
            Mode = mode,
        });

    public LayerDefinition Fifo(string path, int mode = Mode0644) =>
        Add(new LayerEntry { Name = path, Type = TarEntryType.Fifo, Mode = mode });

    private static string DirName(string path) => path.EndsWith('/') ? path : path + "/";
}
