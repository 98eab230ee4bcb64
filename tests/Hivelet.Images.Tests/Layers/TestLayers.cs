using System.IO.Compression;
using Hivelet.Images.Layers;

namespace Hivelet.Images.Tests.Layers;

/// <summary>Builds layer archives in memory with hivelet's own writer, so hostile names are easy.</summary>
public sealed class TestLayer
{
    private readonly MemoryStream _stream = new();
    private readonly TarWriter _writer;

    public TestLayer() => _writer = new TarWriter(_stream, leaveOpen: true);

    public static readonly DateTimeOffset Mtime = new(2020, 1, 2, 3, 4, 5, TimeSpan.Zero);

    public TestLayer File(string name, string content = "data", int mode = 0x1A4, Action<TarEntry>? tweak = null)
    {
        var e = new TarEntry { Name = name, Type = TarEntryType.File, Mode = mode, ModifiedTime = Mtime };
        tweak?.Invoke(e);
        _writer.WriteEntry(e, System.Text.Encoding.UTF8.GetBytes(content));
        return this;
    }

    public TestLayer Dir(string name, int mode = 0x1ED, Action<TarEntry>? tweak = null) =>
        Add(new TarEntry { Name = name, Type = TarEntryType.Directory, Mode = mode, ModifiedTime = Mtime }, tweak);

    public TestLayer Symlink(string name, string target) =>
        Add(new TarEntry { Name = name, Type = TarEntryType.Symlink, LinkName = target, Mode = 0x1FF, ModifiedTime = Mtime });

    public TestLayer HardLink(string name, string target) =>
        Add(new TarEntry { Name = name, Type = TarEntryType.HardLink, LinkName = target, Mode = 0x1A4, ModifiedTime = Mtime });

    public TestLayer Node(string name, TarEntryType type, long major = 0, long minor = 0, int mode = 0x1B6) =>
        Add(new TarEntry { Name = name, Type = type, DeviceMajor = major, DeviceMinor = minor, Mode = mode, ModifiedTime = Mtime });

    public TestLayer Whiteout(string name) => File(name, "");

    public TestLayer Add(TarEntry entry, Action<TarEntry>? tweak = null)
    {
        tweak?.Invoke(entry);
        _writer.WriteEntry(entry, ReadOnlySpan<byte>.Empty);
        return this;
    }

    public byte[] Tar()
    {
        _writer.Finish();
        return _stream.ToArray();
    }

    public static byte[] Gzip(byte[] tar)
    {
        var ms = new MemoryStream();
        using (var gz = new GZipStream(ms, CompressionLevel.Fastest, leaveOpen: true))
            gz.Write(tar);
        return ms.ToArray();
    }

    public static byte[] Zstd(byte[] tar)
    {
        using var c = new ZstdSharp.Compressor(3);
        return c.Wrap(tar).ToArray();
    }
}
