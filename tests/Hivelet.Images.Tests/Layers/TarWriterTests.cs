using System.Security.Cryptography;
using Hivelet.Images.Layers;
using Hivelet.Images.Oci;
using Bcl = System.Formats.Tar;

namespace Hivelet.Images.Tests.Layers;

public sealed class TarWriterTests
{
    private static readonly byte[] AllBytes = Enumerable.Range(0, 256).Select(i => (byte)i).ToArray();

    private static List<TarEntry> RoundTrip(IEnumerable<(TarEntry Entry, byte[] Data)> input, out byte[] tar)
    {
        var ms = new MemoryStream();
        using (var w = new TarWriter(ms, leaveOpen: true))
        {
            foreach (var (e, d) in input)
                w.WriteEntry(e, d);
        }
        tar = ms.ToArray();
        var result = new List<TarEntry>();
        using var r = new TarReader(new MemoryStream(tar));
        TarEntry? x;
        while ((x = r.GetNextEntry()) != null)
            result.Add(x);
        return result;
    }

    [Fact]
    public void EverythingSurvivesARoundTrip()
    {
        var fine = new DateTimeOffset(2030, 1, 1, 0, 0, 0, TimeSpan.Zero).AddTicks(1);
        var input = new (TarEntry, byte[])[]
        {
            (new TarEntry { Name = "caps", Mode = 0x9ED, Uid = 3_000_000, Gid = 9_999_999_999, ModifiedTime = fine,
                AccessTime = DateTimeOffset.UnixEpoch.AddTicks(-15_000_000), UserName = "a-very-long-user-name-over-32-bytes", GroupName = "grüppe",
                Xattrs = { ["security.capability"] = AllBytes, ["user.empty"] = [] } }, [1, 2, 3]),
            (new TarEntry { Name = new string('d', 120) + "/" + new string('f', 180) + "/ünïcode", Mode = 0x1A4 }, []),
            (new TarEntry { Name = "dir/", Type = TarEntryType.Directory, Mode = 0x3FF }, []),
            (new TarEntry { Name = "sym", Type = TarEntryType.Symlink, LinkName = new string('l', 300) }, []),
            (new TarEntry { Name = "hard", Type = TarEntryType.HardLink, LinkName = "caps" }, []),
            (new TarEntry { Name = "blk", Type = TarEntryType.BlockDevice, DeviceMajor = 3_000_000, DeviceMinor = 70_000, Mode = 0x180 }, []),
            (new TarEntry { Name = "chr", Type = TarEntryType.CharDevice, DeviceMajor = 1, DeviceMinor = 3 }, []),
            (new TarEntry { Name = "fifo", Type = TarEntryType.Fifo, ModifiedTime = new DateTimeOffset(1901, 1, 1, 0, 0, 0, TimeSpan.Zero) }, []),
        };
        var output = RoundTrip(input, out _);
        Assert.Equal(input.Length, output.Count);
        for (int i = 0; i < input.Length; i++)
        {
            var (a, b) = (input[i].Item1, output[i]);
            Assert.Equal(a.Name, b.Name);
            Assert.Equal(a.Type, b.Type);
            Assert.Equal(a.Mode, b.Mode);
            Assert.Equal((a.Uid, a.Gid), (b.Uid, b.Gid));
            Assert.Equal(a.ModifiedTime, b.ModifiedTime);
            Assert.Equal(a.AccessTime, b.AccessTime);
            Assert.Equal(a.LinkName, b.LinkName);
            Assert.Equal(a.UserName, b.UserName);
            Assert.Equal(a.GroupName, b.GroupName);
            Assert.Equal((a.DeviceMajor, a.DeviceMinor), (b.DeviceMajor, b.DeviceMinor));
            Assert.Equal(a.Xattrs.Keys.Order(), b.Xattrs.Keys.Order());
            foreach (var (k, v) in a.Xattrs)
                Assert.Equal(v, b.Xattrs[k]);
        }
        Assert.Equal(3, output[0].Size);
    }

    [Fact]
    public void PlainEntriesUseUstarOnlyAndSystemFormatsTarReadsThem()
    {
        string splitName = new string('p', 140) + "/" + new string('n', 90);
        var entries = RoundTrip([
            (new TarEntry { Name = splitName, Mode = 0x1A4, Uid = 1000, Gid = 1000 }, "abc"u8.ToArray()),
            (new TarEntry { Name = "l", Type = TarEntryType.Symlink, LinkName = "target" }, []),
        ], out var tar);
        Assert.Equal((byte)'0', tar[156]);
        Assert.Equal(splitName, entries[0].Name);

        using var bcl = new Bcl.TarReader(new MemoryStream(tar));
        var first = bcl.GetNextEntry()!;
        Assert.Equal(splitName, first.Name);
        Assert.Equal(Bcl.TarEntryType.RegularFile, first.EntryType);
        Assert.Equal(3, first.Length);
        var second = bcl.GetNextEntry()!;
        Assert.Equal("target", second.LinkName);
        Assert.Null(bcl.GetNextEntry());
    }
}
