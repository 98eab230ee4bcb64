using System.Formats.Tar;

namespace Hivelet.Fixtures;

/// <summary>
/// A small file tree (files and symlinks, in order) that is written either as a directory or as
/// a tar. Both are written under a temporary name and renamed, so a killed build never leaves a
/// half-written output that looks complete.
/// </summary>
public sealed class ArchiveContent
{
    private readonly List<(string Path, byte[]? Content, string? LinkTarget)> _items = [];
    private readonly HashSet<string> _paths = new(StringComparer.Ordinal);

    public IEnumerable<string> Paths => _items.Select(i => i.Path);

    /// <summary>Adds a file; adding the same path again is ignored (blobs shared by images).</summary>
    public ArchiveContent File(string path, byte[] content)
    {
        if (_paths.Add(path))
            _items.Add((path, content, null));
        return this;
    }

    public ArchiveContent Symlink(string path, string target)
    {
        if (_paths.Add(path))
            _items.Add((path, null, target));
        return this;
    }

    public byte[]? Read(string path) => _items.FirstOrDefault(i => i.Path == path).Content;

    public void WriteDirectory(string directory)
    {
        var full = Path.GetFullPath(directory);
        var tmp = $"{full}.tmp-{Environment.ProcessId}";
        if (Directory.Exists(tmp))
            Directory.Delete(tmp, recursive: true);
        foreach (var (path, content, link) in _items)
        {
            var target = Path.Combine(tmp, path);
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            if (content is not null)
                System.IO.File.WriteAllBytes(target, content);
            else
                System.IO.File.CreateSymbolicLink(target, link!);
        }
        if (Directory.Exists(full))
            Directory.Delete(full, recursive: true);
        Directory.Move(tmp, full);
    }

    public void WriteTar(string tarPath)
    {
        var full = Path.GetFullPath(tarPath);
        Directory.CreateDirectory(Path.GetDirectoryName(full)!);
        var tmp = $"{full}.tmp-{Environment.ProcessId}";
        using (var file = new FileStream(tmp, FileMode.Create, FileAccess.Write))
        {
            WriteTar(file);
            file.Flush(flushToDisk: true);
        }
        System.IO.File.Move(tmp, full, overwrite: true);
    }

    public void WriteTar(Stream output)
    {
        // Ustar: archive paths are short, and ustar headers carry no per-run PAX header names.
        using var writer = new TarWriter(output, TarEntryFormat.Ustar, leaveOpen: true);
        var dirs = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (path, content, link) in _items)
        {
            // Parent directory entries first, as docker save and tar(1) write them.
            var parts = path.Split('/');
            for (int i = 1; i < parts.Length; i++)
            {
                var dir = string.Join('/', parts[..i]) + "/";
                if (dirs.Add(dir))
                    writer.WriteEntry(Entry(TarEntryType.Directory, dir, 0b111_101_101));
            }
            var entry = content is not null
                ? Entry(TarEntryType.RegularFile, path, 0b110_100_100)
                : Entry(TarEntryType.SymbolicLink, path, 0b111_111_111);
            if (content is not null)
                entry.DataStream = new MemoryStream(content, writable: false);
            else
                entry.LinkName = link!;
            writer.WriteEntry(entry);
        }
    }

    private static UstarTarEntry Entry(TarEntryType type, string name, int mode) =>
        new(type, name)
        {
            Mode = (UnixFileMode)mode,
            ModificationTime = DateTimeOffset.UnixEpoch,
        };
}
