using Hivelet.Errors;
using Hivelet.Images.Layers;
using Hivelet.Interop;

namespace Hivelet.Images.Tests.Layers;

/// <summary>Hostile archives: nothing may be created or changed outside the root. Each case runs with openat2 and with the fallback walk.</summary>
public sealed class LayerApplierSafetyTests : IDisposable
{
    private readonly LayerTestDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    private LayerApplyResult Apply(TestLayer layer, bool openat2) =>
        new LayerApplier().Apply(new MemoryStream(layer.Tar()), _dir.Root,
            new LayerApplyOptions { LayerName = "sha256:test", DisableOpenat2 = !openat2 }, CancellationToken.None);

    [Theory]
    [InlineData("../x", true)]
    [InlineData("../x", false)]
    [InlineData("a/../../x", true)]
    [InlineData("a/../../x", false)]
    [InlineData("./../outside/x", true)]
    public void NamesClimbingAboveTheRootAreRefused(string name, bool openat2)
    {
        var e = Assert.Throws<InvalidInputException>(() => Apply(new TestLayer().File(name), openat2));
        Assert.Contains($"apply layer sha256:test: entry \"{name}\": path escapes the root", e.Message);
        _dir.AssertOutsideUntouched();
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void AbsoluteNamesLandInsideTheRoot(bool openat2)
    {
        Apply(new TestLayer().File("/abs", "x").File("//etc///y/./z", "z"), openat2);
        Assert.Equal("x", File.ReadAllText(_dir.InRoot("abs")));
        Assert.Equal("z", File.ReadAllText(_dir.InRoot("etc/y/z")));
        _dir.AssertOutsideUntouched();
    }

    [Theory]
    [InlineData("/", "etc/x", true)]
    [InlineData("/", "etc/x", false)]
    [InlineData("../../..", "etc/x", true)]
    [InlineData("../../..", "etc/x", false)]
    [InlineData("OUTSIDE", "OUTSIDE/etc/x", true)]
    [InlineData("OUTSIDE", "OUTSIDE/etc/x", false)]
    [InlineData("../outside", "outside/etc/x", true)]
    [InlineData("../outside", "outside/etc/x", false)]
    public void SymlinkedParentsResolveInsideTheRoot(string target, string landsAt, bool openat2)
    {
        target = target.Replace("OUTSIDE", _dir.Outside, StringComparison.Ordinal);
        landsAt = landsAt.Replace("OUTSIDE", _dir.Outside.TrimStart('/'), StringComparison.Ordinal);
        Apply(new TestLayer().Symlink("evil", target).File("evil/etc/x", "pwned"), openat2);
        Assert.Equal(Sys.S_IFLNK, Sys.LStat(_dir.InRoot("evil")).Type);
        Assert.Equal("pwned", File.ReadAllText(_dir.InRoot(landsAt)));
        _dir.AssertOutsideUntouched();
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void SymlinkPlantedByAnEarlierLayerIsNotFollowedOut(bool openat2)
    {
        Apply(new TestLayer().Symlink("link", _dir.Outside).Symlink("rel", "../../outside"), openat2);
        Apply(new TestLayer().File("link/pwned", "1").File("rel/pwned2", "2").Dir("link/newdir"), openat2);
        Assert.Equal("1", File.ReadAllText(Path.Combine(_dir.Root, _dir.Outside.TrimStart('/'), "pwned")));
        Assert.True(Directory.Exists(Path.Combine(_dir.Root, _dir.Outside.TrimStart('/'), "newdir")));
        Assert.Equal("2", File.ReadAllText(_dir.InRoot("outside/pwned2")));
        _dir.AssertOutsideUntouched();
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void LeafSymlinkIsReplacedNotWrittenThrough(bool openat2)
    {
        string keep = Path.Combine(_dir.Outside, "keep");
        Apply(new TestLayer().Symlink("f", keep).Symlink("d", _dir.Outside), openat2);
        Apply(new TestLayer().File("f", "new", mode: 0x1FF).Dir("d", mode: 0x1C0), openat2);
        var f = Sys.LStat(_dir.InRoot("f"));
        Assert.Equal(Sys.S_IFREG, f.Type);
        Assert.Equal("new", File.ReadAllText(_dir.InRoot("f")));
        Assert.Equal(Sys.S_IFDIR, Sys.LStat(_dir.InRoot("d")).Type);
        Assert.Equal(0x1ED, (int)Sys.LStat(_dir.Outside).Permissions & 0x1FF);
        _dir.AssertOutsideUntouched();
    }

    [Theory]
    [InlineData("../outside/keep", true)]
    [InlineData("../outside/keep", false)]
    [InlineData("a/../../outside/keep", true)]
    public void HardLinkTargetAboveTheRootIsRefused(string target, bool openat2)
    {
        var e = Assert.Throws<InvalidInputException>(() => Apply(new TestLayer().HardLink("h", target), openat2));
        Assert.Contains("entry \"h\": hard link target", e.Message);
        Assert.Contains("outside the root", e.Message);
        Assert.Equal(1u, Sys.LStat(Path.Combine(_dir.Outside, "keep")).LinkCount);
        _dir.AssertOutsideUntouched();
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void AbsoluteAndSymlinkedHardLinkTargetsResolveInsideTheRoot(bool openat2)
    {
        string keep = Path.Combine(_dir.Outside, "keep");
        var e = Assert.Throws<InvalidInputException>(() => Apply(new TestLayer().HardLink("h", keep), openat2));
        Assert.Contains("does not exist", e.Message);
        var e2 = Assert.Throws<InvalidInputException>(() =>
            Apply(new TestLayer().Symlink("s", _dir.Outside).HardLink("h2", "s/keep"), openat2));
        Assert.Contains("entry \"h2\"", e2.Message);
        Assert.Equal(1u, Sys.LStat(keep).LinkCount);
        _dir.AssertOutsideUntouched();

        Apply(new TestLayer().File("etc/passwd", "root:x:0:0").HardLink("h3", "/etc/passwd"), openat2);
        Assert.Equal(Sys.LStat(_dir.InRoot("etc/passwd")).Inode, Sys.LStat(_dir.InRoot("h3")).Inode);
        Apply(new TestLayer().Symlink("up", "/").HardLink("h4", "up/etc/passwd"), openat2);
        Assert.Equal(3u, Sys.LStat(_dir.InRoot("etc/passwd")).LinkCount);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void HardLinkToADirectoryIsRefused(bool openat2)
    {
        var e = Assert.Throws<InvalidInputException>(() => Apply(new TestLayer().Dir("d").HardLink("h", "d"), openat2));
        Assert.Contains("entry \"h\": hard link target \"d\" is a directory", e.Message);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void WhiteoutsCannotEscapeTheirDirectory(bool openat2)
    {
        var e = Assert.Throws<InvalidInputException>(() => Apply(new TestLayer().File("a/.wh.."), openat2));
        Assert.Contains("invalid whiteout name", e.Message);
        Assert.Throws<InvalidInputException>(() => Apply(new TestLayer().File("../.wh.outside"), openat2));
        Apply(new TestLayer().Symlink("s", _dir.Outside).File("s/.wh.keep"), openat2);
        _dir.AssertOutsideUntouched();
    }

    [Fact]
    public void SymlinkLoopsFailCleanlyInTheFallback()
    {
        var e = Assert.Throws<HiveletException>(() =>
            Apply(new TestLayer().Symlink("l1", "l2").Symlink("l2", "l1").File("l1/x"), openat2: false));
        Assert.Contains("entry \"l1/x\"", HiveletException.Describe(e));
        Assert.Contains("ELOOP", HiveletException.Describe(e));
        _dir.AssertOutsideUntouched();
    }
}
