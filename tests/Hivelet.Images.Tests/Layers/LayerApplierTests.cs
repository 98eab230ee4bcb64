using System.Security.Cryptography;
using Hivelet.Errors;
using Hivelet.Images.Layers;
using Hivelet.Images.Oci;
using Hivelet.Interop;

namespace Hivelet.Images.Tests.Layers;

public sealed class LayerApplierTests : IDisposable
{
    private readonly LayerTestDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    private LayerApplyResult Apply(byte[] blob, Digest? expected = null, bool openat2 = true) =>
        new LayerApplier().Apply(new MemoryStream(blob), _dir.Root,
            new LayerApplyOptions { ExpectedDiffId = expected, DisableOpenat2 = !openat2 }, CancellationToken.None);

    private LayerApplyResult Apply(TestLayer layer, bool openat2 = true) => Apply(layer.Tar(), openat2: openat2);

    private static TestLayer Sample() => new TestLayer().Dir("etc").File("etc/hostname", "box\n").Symlink("bin", "usr/bin").File("usr/bin/sh", "#!", 0x1ED);

    [Theory]
    [InlineData("plain")]
    [InlineData("gzip")]
    [InlineData("zstd")]
    public void DiffIdIsTheSha256OfTheUncompressedTar(string compression)
    {
        var tar = Sample().Tar();
        // Builders pad archives past the end marker; those bytes are part of the diff_id too.
        tar = [.. tar, .. new byte[10240]];
        var blob = compression switch
        {
            "gzip" => TestLayer.Gzip(tar),
            "zstd" => TestLayer.Zstd(tar),
            _ => tar,
        };
        var expected = Digest.FromSha256Hash(SHA256.HashData(tar));
        var result = Apply(blob, expected);
        Assert.Equal(expected, result.DiffId);
        Assert.Equal(tar.Length, result.UncompressedSize);
        Assert.Equal(4, result.Entries);
        Assert.Equal("box\n", File.ReadAllText(_dir.InRoot("etc/hostname")));
        Assert.Equal("#!", File.ReadAllText(_dir.InRoot("bin/sh")));
    }

    [Fact]
    public void DiffIdMismatchThrows()
    {
        var wrong = Digest.ComputeSha256("other"u8);
        var e = Assert.Throws<DigestMismatchException>(() => Apply(TestLayer.Gzip(Sample().Tar()), wrong));
        Assert.Contains($"diff_id mismatch: expected {wrong}, got sha256:", e.Message);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void WhiteoutsDeleteLowerEntries(bool openat2)
    {
        Apply(new TestLayer().File("a/b").File("a/c").File("d/e/f").File("g"), openat2);
        Apply(new TestLayer().Whiteout("a/.wh.b").Whiteout(".wh.d").Whiteout(".wh.missing").File("h"), openat2);
        Assert.False(File.Exists(_dir.InRoot("a/b")));
        Assert.True(File.Exists(_dir.InRoot("a/c")));
        Assert.False(Directory.Exists(_dir.InRoot("d")));
        Assert.True(File.Exists(_dir.InRoot("g")));
        Assert.Empty(Directory.EnumerateFileSystemEntries(_dir.Root, ".wh.*", SearchOption.AllDirectories));
    }

    [Theory]
    [InlineData(true, true)]
    [InlineData(false, true)]
    [InlineData(true, false)]
    [InlineData(false, false)]
    public void OpaqueDirectoryKeepsOnlyThisLayersEntries(bool markerFirst, bool openat2)
    {
        Apply(new TestLayer().File("o/lower1").File("o/sub/lower2").File("o/sub/deeper/lower3").File("p/untouched"), openat2);
        var layer = new TestLayer();
        if (markerFirst)
            layer.Whiteout("o/.wh..wh..opq");
        layer.Dir("o").File("o/new1").File("o/sub/new2");
        if (!markerFirst)
            layer.Whiteout("o/.wh..wh..opq");
        Apply(layer, openat2);

        var left = Directory.EnumerateFileSystemEntries(_dir.InRoot("o"), "*", SearchOption.AllDirectories)
            .Select(p => Path.GetRelativePath(_dir.Root, p)).Order().ToArray();
        Assert.Equal(["o/new1", "o/sub", "o/sub/new2"], left);
        Assert.True(File.Exists(_dir.InRoot("p/untouched")));
    }

    [Fact]
    public void OpaqueRootLevelDirectoryAndMetaWhiteoutsAreHandled()
    {
        Apply(new TestLayer().File("x").File("y/z"));
        Apply(new TestLayer().File("w").Whiteout(".wh..wh..opq").Whiteout(".wh..wh.plnk"));
        Assert.Equal<string>(["w"], Directory.EnumerateFileSystemEntries(_dir.Root).Select(p => Path.GetFileName(p)!).ToArray());
    }

    [Fact]
    public void WhiteoutSparesThisLayersOwnEntryAndDotSlashNamesWork()
    {
        Apply(new TestLayer().Dir("./").File("./x", "mine").Whiteout("./.wh.x").Dir("./d/").File("./d/y"));
        Assert.Equal("mine", File.ReadAllText(_dir.InRoot("x")));
        Assert.True(File.Exists(_dir.InRoot("d/y")));
    }

    [Fact]
    public void HardLinksShareTheInode()
    {
        Apply(new TestLayer().File("a", "same").HardLink("b", "a").HardLink("c/d", "./a"));
        var a = Sys.LStat(_dir.InRoot("a"));
        Assert.Equal(a.Inode, Sys.LStat(_dir.InRoot("b")).Inode);
        Assert.Equal(a.Inode, Sys.LStat(_dir.InRoot("c/d")).Inode);
        Assert.Equal(3u, a.LinkCount);
    }

    [Fact]
    public void ModesIncludingSetuidSetgidAndStickyAreExact()
    {
        Apply(new TestLayer().File("suid", "x", 0x9ED).File("sgid", "x", 0x5ED).Dir("tmp", 0x3FF).File("ro", "x", 0x124).Dir("priv", 0x1C0));
        Assert.Equal(0x9EDu, Sys.LStat(_dir.InRoot("suid")).Permissions);
        Assert.Equal(0x5EDu, Sys.LStat(_dir.InRoot("sgid")).Permissions);
        Assert.Equal(0x3FFu, Sys.LStat(_dir.InRoot("tmp")).Permissions);
        Assert.Equal(0x124u, Sys.LStat(_dir.InRoot("ro")).Permissions);
        Assert.Equal(0x1C0u, Sys.LStat(_dir.InRoot("priv")).Permissions);
    }

    [Fact]
    public void ExistingDirectoryStaysAndGetsTheNewMetadata()
    {
        Apply(new TestLayer().Dir("d").File("d/x"));
        Apply(new TestLayer().Dir("d", 0x1C0));
        Assert.True(File.Exists(_dir.InRoot("d/x")));
        Assert.Equal(0x1C0u, Sys.LStat(_dir.InRoot("d")).Permissions);
    }

    [Fact]
    public void NonDirectoryEntryReplacesADirectory()
    {
        Apply(new TestLayer().File("d/x/y"));
        Apply(new TestLayer().File("d", "now a file"));
        Assert.Equal("now a file", File.ReadAllText(_dir.InRoot("d")));
    }

    [Fact]
    public void TimesAreSetIncludingDirectoriesAndSubSeconds()
    {
        var fine = new DateTimeOffset(2021, 6, 7, 8, 9, 10, TimeSpan.Zero).AddTicks(1234567);
        Apply(new TestLayer().Dir("d").File("d/f", "x", tweak: e => e.ModifiedTime = fine).Symlink("d/l", "f")
            .File("old", "x", tweak: e => e.ModifiedTime = new DateTimeOffset(1960, 1, 1, 0, 0, 0, TimeSpan.Zero)));
        var d = Sys.LStat(_dir.InRoot("d"));
        Assert.Equal(TestLayer.Mtime.ToUnixTimeSeconds(), d.ModifySeconds);
        var f = Sys.LStat(_dir.InRoot("d/f"));
        Assert.Equal(fine.ToUnixTimeSeconds(), f.ModifySeconds);
        Assert.Equal(123456700u, f.ModifyNanoseconds);
        Assert.Equal(TestLayer.Mtime.ToUnixTimeSeconds(), Sys.LStat(_dir.InRoot("d/l")).ModifySeconds);
        Assert.Equal(0, Sys.LStat(_dir.InRoot("old")).ModifySeconds);
    }

    [Fact]
    public void BinaryUserXattrsAreExact()
    {
        var value = Enumerable.Range(0, 256).Select(i => (byte)i).ToArray();
        Apply(new TestLayer().File("f", "x", tweak: e => e.Xattrs["user.bin"] = value)
            .Dir("d", tweak: e => e.Xattrs["user.dir"] = [0, 0xFF])
            .Symlink("l", "f").Add(new TarEntry { Name = "l2", Type = TarEntryType.Symlink, LinkName = "f" }, e => e.Xattrs["user.x"] = [1]));
        Assert.Equal(value, Sys.LGetXattr(_dir.InRoot("f"), "user.bin"));
        Assert.Equal(new byte[] { 0, 0xFF }, Sys.LGetXattr(_dir.InRoot("d"), "user.dir"));
        // user.* on a symlink is EPERM on Linux: tolerated, as containerd does.
        Assert.Null(Sys.LGetXattr(_dir.InRoot("l2"), "user.x"));
    }

    [Fact]
    public void SecurityCapabilityIsSetAndTrustedIsRefused()
    {
        if (!Environment.IsPrivilegedProcess)
        {
            Console.WriteLine("skipped: setting security.capability and trusted.* needs root");
            return;
        }
        // vfs_cap_data revision 2, effective, CAP_NET_BIND_SERVICE (bit 10) permitted.
        byte[] cap = [0x01, 0x00, 0x00, 0x02, 0x00, 0x04, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
        Apply(new TestLayer().File("ping", "x", 0x1ED, e =>
        {
            e.Xattrs["security.capability"] = cap;
            e.Xattrs["trusted.overlay.opaque"] = "y"u8.ToArray();
        }));
        Assert.Equal(cap, Sys.LGetXattr(_dir.InRoot("ping"), "security.capability"));
        Assert.Null(Sys.LGetXattr(_dir.InRoot("ping"), "trusted.overlay.opaque"));
    }

    [Fact]
    public void OwnersAreAppliedWithoutLosingSetuid()
    {
        if (!Environment.IsPrivilegedProcess)
        {
            Console.WriteLine("skipped: chown to other users needs root");
            return;
        }
        Apply(new TestLayer()
            .File("f", "x", 0x9ED, e => (e.Uid, e.Gid) = (1234, 5678))
            .Dir("d", 0x1ED, e => (e.Uid, e.Gid) = (3_000_000, 42))
            .Add(new TarEntry { Name = "l", Type = TarEntryType.Symlink, LinkName = "f", Uid = 7, Gid = 8 }));
        var f = Sys.LStat(_dir.InRoot("f"));
        Assert.Equal((1234u, 5678u, 0x9EDu), (f.Uid, f.Gid, f.Permissions));
        var d = Sys.LStat(_dir.InRoot("d"));
        Assert.Equal((3_000_000u, 42u), (d.Uid, d.Gid));
        var l = Sys.LStat(_dir.InRoot("l"));
        Assert.Equal((7u, 8u), (l.Uid, l.Gid));
    }

    [Fact]
    public void FifosAndDeviceNodesAreCreated()
    {
        if (!Environment.IsPrivilegedProcess)
        {
            Console.WriteLine("skipped: mknod of devices needs root");
            return;
        }
        Apply(new TestLayer().Node("fifo", TarEntryType.Fifo, mode: 0x1A0).Node("null", TarEntryType.CharDevice, 1, 3)
            .Node("blk", TarEntryType.BlockDevice, 259, 70000, 0x180));
        var fifo = Sys.LStat(_dir.InRoot("fifo"));
        Assert.Equal((Sys.S_IFIFO, 0x1A0u), (fifo.Type, fifo.Permissions));
        var dev = Sys.LStat(_dir.InRoot("null"));
        Assert.Equal((Sys.S_IFCHR, 0x1B6u, 1u, 3u), (dev.Type, dev.Permissions, dev.RDevMajor, dev.RDevMinor));
        var blk = Sys.LStat(_dir.InRoot("blk"));
        Assert.Equal((Sys.S_IFBLK, 259u, 70000u), (blk.Type, blk.RDevMajor, blk.RDevMinor));
    }

    [Fact]
    public void CorruptCompressedDataIsAnInvalidInputError()
    {
        var gz = TestLayer.Gzip(Sample().Tar());
        gz[gz.Length / 2] ^= 0xFF;
        gz[gz.Length / 2 + 1] ^= 0xFF;
        var e = Assert.ThrowsAny<HiveletException>(() => Apply(gz));
        Assert.StartsWith("apply layer (unnamed): ", HiveletException.Describe(e));
    }

    [Fact]
    public void CancellationStopsTheApply()
    {
        using var cts = new CancellationTokenSource();
        cts.Cancel();
        Assert.Throws<OperationCanceledException>(() =>
            new LayerApplier().Apply(new MemoryStream(Sample().Tar()), _dir.Root, new LayerApplyOptions(), cts.Token));
    }
}
