using System.Text;
using Hivelet.Errors;
using Hivelet.Images.Layers;
using Bcl = System.Formats.Tar;

namespace Hivelet.Images.Tests.Layers;

public sealed class TarReaderTests
{
    private static List<(TarEntry Entry, byte[] Data)> ReadAll(byte[] tar)
    {
        var result = new List<(TarEntry, byte[])>();
        using var reader = new TarReader(new MemoryStream(tar));
        TarEntry? e;
        while ((e = reader.GetNextEntry()) != null)
        {
            var ms = new MemoryStream();
            reader.DataStream.CopyTo(ms);
            result.Add((e, ms.ToArray()));
        }
        return result;
    }

    private static InvalidInputException ReadFails(byte[] tar) => Assert.Throws<InvalidInputException>(() => ReadAll(tar));

    /// <summary>Overwrites a header field of the first header block and fixes its checksum.</summary>
    private static byte[] Patch(byte[] tar, int offset, ReadOnlySpan<byte> value, int block = 0)
    {
        var copy = (byte[])tar.Clone();
        value.CopyTo(copy.AsSpan(block * 512 + offset));
        FixChecksum(copy, block);
        return copy;
    }

    private static void FixChecksum(byte[] tar, int block)
    {
        var h = tar.AsSpan(block * 512, 512);
        h.Slice(148, 8).Fill((byte)' ');
        int sum = 0;
        foreach (var b in h)
            sum += b;
        Encoding.ASCII.GetBytes(Convert.ToString(sum, 8).PadLeft(6, '0') + "\0 ").CopyTo(h.Slice(148, 8));
    }

    private static byte[] OneFile(string name = "file", string content = "hello") =>
        new TestLayer().File(name, content).Tar();

    [Fact]
    public void ReadsPaxArchivesWrittenBySystemFormatsTar()
    {
        string longName = string.Join('/', Enumerable.Repeat("directory-name", 12)) + "/file";
        var mtime = new DateTimeOffset(2024, 2, 3, 4, 5, 6, TimeSpan.Zero).AddTicks(5_000_000);
        var ms = new MemoryStream();
        using (var w = new Bcl.TarWriter(ms, Bcl.TarEntryFormat.Pax, leaveOpen: true))
        {
            var e = new Bcl.PaxTarEntry(Bcl.TarEntryType.RegularFile, longName,
                new Dictionary<string, string> { ["SCHILY.xattr.user.note"] = "hello", ["LIBARCHIVE.xattr.user.%41b"] = "AP8" })
            {
                Uid = 3_000_000,
                Gid = 77,
                Mode = (UnixFileMode)0x9ED,
                ModificationTime = mtime,
                UserName = "someone",
                DataStream = new MemoryStream("payload"u8.ToArray()),
            };
            w.WriteEntry(e);
            w.WriteEntry(new Bcl.PaxTarEntry(Bcl.TarEntryType.SymbolicLink, "link") { LinkName = longName });
        }
        var entries = ReadAll(ms.ToArray());
        Assert.Equal(2, entries.Count);
        var (f, data) = entries[0];
        Assert.Equal(longName, f.Name);
        Assert.Equal(TarEntryType.File, f.Type);
        Assert.Equal(3_000_000, f.Uid);
        Assert.Equal(77, f.Gid);
        Assert.Equal(0x9ED, f.Mode);
        Assert.Equal("someone", f.UserName);
        Assert.Equal(mtime, f.ModifiedTime);
        Assert.Equal("payload", Encoding.UTF8.GetString(data));
        Assert.Equal("hello"u8.ToArray(), f.Xattrs["user.note"]);
        Assert.Equal(new byte[] { 0x00, 0xFF }, f.Xattrs["user.Ab"]);
        Assert.Equal(longName, entries[1].Entry.LinkName);
        Assert.Equal(TarEntryType.Symlink, entries[1].Entry.Type);
    }

    [Fact]
    public void ReadsGnuLongNamesAndSpecialEntries()
    {
        string longName = new string('n', 150) + "/" + new string('m', 60);
        string longLink = new string('t', 200);
        var ms = new MemoryStream();
        using (var w = new Bcl.TarWriter(ms, Bcl.TarEntryFormat.Gnu, leaveOpen: true))
        {
            w.WriteEntry(new Bcl.GnuTarEntry(Bcl.TarEntryType.Directory, "dir/") { Mode = (UnixFileMode)0x3FF });
            w.WriteEntry(new Bcl.GnuTarEntry(Bcl.TarEntryType.RegularFile, longName) { DataStream = new MemoryStream([1, 2, 3]) });
            w.WriteEntry(new Bcl.GnuTarEntry(Bcl.TarEntryType.SymbolicLink, "sym") { LinkName = longLink });
            w.WriteEntry(new Bcl.GnuTarEntry(Bcl.TarEntryType.HardLink, "hard") { LinkName = longName });
            w.WriteEntry(new Bcl.GnuTarEntry(Bcl.TarEntryType.CharacterDevice, "null") { DeviceMajor = 1, DeviceMinor = 3 });
            w.WriteEntry(new Bcl.GnuTarEntry(Bcl.TarEntryType.Fifo, "fifo"));
        }
        var entries = ReadAll(ms.ToArray());
        Assert.Equal([TarEntryType.Directory, TarEntryType.File, TarEntryType.Symlink, TarEntryType.HardLink, TarEntryType.CharDevice, TarEntryType.Fifo],
            entries.Select(e => e.Entry.Type).ToArray());
        Assert.Equal(0x3FF, entries[0].Entry.Mode);
        Assert.Equal(longName, entries[1].Entry.Name);
        Assert.Equal(new byte[] { 1, 2, 3 }, entries[1].Data);
        Assert.Equal(longLink, entries[2].Entry.LinkName);
        Assert.Equal(longName, entries[3].Entry.LinkName);
        Assert.Equal((1L, 3L), (entries[4].Entry.DeviceMajor, entries[4].Entry.DeviceMinor));
    }

    [Fact]
    public void ReadsBase256NumericFields()
    {
        var tar = OneFile();
        // size 5 and uid 2^40 in base-256, mtime -1 (0xFF...) as GNU tar writes out-of-range values.
        tar = Patch(tar, 124, [0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 5]);
        tar = Patch(tar, 108, [0x80, 0, 0x01, 0, 0, 0, 0, 0]);
        tar = Patch(tar, 136, [0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF]);
        var (e, data) = Assert.Single(ReadAll(tar));
        Assert.Equal(5, e.Size);
        Assert.Equal(1L << 40, e.Uid);
        Assert.Equal(DateTimeOffset.UnixEpoch.AddSeconds(-1), e.ModifiedTime);
        Assert.Equal("hello", Encoding.UTF8.GetString(data));
    }

    [Fact]
    public void CorruptedChecksumIsAClearError()
    {
        var tar = OneFile();
        tar[3] ^= 0x20;
        var e = ReadFails(tar);
        Assert.Contains("header checksum mismatch", e.Message);
        Assert.Contains("offset 0", e.Message);
    }

    [Fact]
    public void TruncatedArchivesAreErrors()
    {
        var tar = new TestLayer().File("big", new string('x', 3000)).Tar();
        Assert.Contains("truncated", ReadFails(tar[..1500]).Message);
        Assert.Contains("entry \"big\"", ReadFails(tar[..1500]).Message);
        Assert.Contains("truncated inside a header", ReadFails(tar[..300]).Message);
        // All data present but no end-of-archive marker.
        Assert.Contains("no end-of-archive marker", ReadFails(tar[..(512 + 3072)]).Message);
        // A lone zero block at the end is accepted, as Go's archive/tar does.
        Assert.Single(ReadAll(tar[..(512 + 3072 + 512)]));
    }

    [Fact]
    public void SparseEntriesAreRefusedByName()
    {
        var e = ReadFails(Patch(OneFile("holes"), 156, "S"u8));
        Assert.Contains("entry \"holes\": sparse files are not supported", e.Message);
        var pax = new TestLayer().File("holes2", "x", tweak: t => t.Xattrs["x"] = []).Tar();
        int idx = pax.AsSpan().IndexOf("SCHILY.xattr.x"u8);
        "GNU.sparse.ma"u8.CopyTo(pax.AsSpan(idx));
        Assert.Contains("sparse files are not supported", ReadFails(pax).Message);
    }

    [Fact]
    public void OldStyleTypesAreFilesOrDirectories()
    {
        var tar = new TestLayer().File("v7file").File("v7dir/", "").File("contig").Tar();
        tar = Patch(tar, 156, [0], block: 0);
        tar = Patch(tar, 156, [0], block: 2);
        tar = Patch(tar, 156, "7"u8, block: 3);
        var entries = ReadAll(tar);
        Assert.Equal([TarEntryType.File, TarEntryType.Directory, TarEntryType.File], entries.Select(e => e.Entry.Type).ToArray());
    }

    [Fact]
    public void OversizedExtensionHeadersAreRefused()
    {
        var tar = new TestLayer().File("x", "x", tweak: t => t.Xattrs["user.a"] = [1]).Tar();
        Assert.Equal((byte)'x', tar[156]);
        var e = ReadFails(Patch(tar, 124, Encoding.ASCII.GetBytes("00010000000\0")));
        Assert.Contains("exceeds the limit", e.Message);
        var longName = new TestLayer().File(new string('a', 5000)).Tar();
        Assert.Contains("longer than 4096", ReadFails(longName).Message);
    }

    [Fact]
    public void UnreadDataIsSkipped()
    {
        var tar = new TestLayer().File("a", new string('a', 700)).File("b", "bee").Tar();
        using var reader = new TarReader(new MemoryStream(tar));
        Assert.Equal("a", reader.GetNextEntry()!.Name);
        Assert.Equal(10, reader.ReadData(new byte[10]));
        Assert.Equal("b", reader.GetNextEntry()!.Name);
        var buf = new byte[10];
        Assert.Equal(3, reader.ReadData(buf));
        Assert.Null(reader.GetNextEntry());
        Assert.Null(reader.GetNextEntry());
    }

    [Fact]
    public void UnknownTypesAndGarbageAreErrors()
    {
        Assert.Contains("unsupported entry type 'Q'", ReadFails(Patch(OneFile(), 156, "Q"u8)).Message);
        Assert.Contains("invalid size field", ReadFails(Patch(OneFile(), 124, "12345678x\0\0\0"u8)).Message);
        var zeroThenData = OneFile().ToArray();
        var broken = new byte[512].Concat(zeroThenData).ToArray();
        Assert.Contains("zero block in the middle", ReadFails(broken).Message);
    }
}
