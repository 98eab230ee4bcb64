using Hivelet.Images.Snapshots;
using Hivelet.Interop;

namespace Hivelet.Images.Tests.Snapshots;

public sealed class TreeCopierTests : IDisposable
{
    private readonly SnapshotTestRoot _root = new();

    private string Src => Path.Combine(_root.Path, "src");
    private string Dst => Path.Combine(_root.Path, "dst");

    public TreeCopierTests() => Directory.CreateDirectory(Src);

    [Fact]
    public void PreservesHardLinksSymlinksFifosModesXattrsAndTimes()
    {
        File.WriteAllText(Path.Combine(Src, "data"), "payload");
        Sys.Link(Path.Combine(Src, "data"), Path.Combine(Src, "hardlink"));
        Directory.CreateDirectory(Path.Combine(Src, "sub"));
        Sys.Link(Path.Combine(Src, "data"), Path.Combine(Src, "sub", "hardlink2"));
        Sys.Symlink("../data", Path.Combine(Src, "sub", "rel"));
        Sys.Symlink("/nonexistent/abs", Path.Combine(Src, "dangling"));
        Sys.MakeNode(Path.Combine(Src, "fifo"), FileStatus.S_IFIFO | 0x1a0 /* 0640 */, 0, 0);
        File.WriteAllText(Path.Combine(Src, "suid"), "x");
        Sys.Chmod(Path.Combine(Src, "suid"), 0x800 | 0x1ed); // 04755
        Sys.Chmod(Path.Combine(Src, "sub"), 0x3ff & ~0x92 | 0x200); // 01555: sticky, read-only
        byte[] binary = [0xff, 0x00, 0xfe, 0x01];
        Sys.LSetXattr(Path.Combine(Src, "data"), "user.binary", binary);
        Sys.SetTimesNoFollow(Path.Combine(Src, "data"), 1_000_000_000, 5, 1_234_567_890, 123_456_789);
        Sys.SetTimesNoFollow(Path.Combine(Src, "sub"), 1_000_000_000, 0, 1_111_111_111, 0);

        var copier = TreeCopier.Copy(Src, Dst);

        var data = Sys.LStat(Path.Combine(Dst, "data"));
        Assert.Equal(3u, data.LinkCount);
        Assert.Equal(data.Inode, Sys.LStat(Path.Combine(Dst, "hardlink")).Inode);
        Assert.Equal(data.Inode, Sys.LStat(Path.Combine(Dst, "sub", "hardlink2")).Inode);
        Assert.NotEqual(Sys.LStat(Path.Combine(Src, "data")).Inode, data.Inode);
        Assert.Equal("payload", File.ReadAllText(Path.Combine(Dst, "hardlink")));
        Assert.Equal(2, copier.Files); // data (three names) and suid
        Assert.Equal("../data", Sys.ReadLink(Path.Combine(Dst, "sub", "rel")));
        Assert.Equal("/nonexistent/abs", Sys.ReadLink(Path.Combine(Dst, "dangling")));
        Assert.Equal(FileStatus.S_IFIFO, Sys.LStat(Path.Combine(Dst, "fifo")).Type);
        Assert.Equal(0x1a0u, Sys.LStat(Path.Combine(Dst, "fifo")).Permissions);
        Assert.Equal(0x9edu, Sys.LStat(Path.Combine(Dst, "suid")).Permissions);
        Assert.Equal(Sys.LStat(Path.Combine(Src, "sub")).Permissions, Sys.LStat(Path.Combine(Dst, "sub")).Permissions);
        Assert.Equal(binary, Sys.LGetXattr(Path.Combine(Dst, "data"), "user.binary"));
        Assert.Equal(1_234_567_890, data.ModifySeconds);
        Assert.Equal(123_456_789u, data.ModifyNanoseconds);
        Assert.Equal(1_111_111_111, Sys.LStat(Path.Combine(Dst, "sub")).ModifySeconds);
    }

    [Fact]
    public void PreservesOwnersDevicesAndTrustedXattrsAsRoot()
    {
        if (!Environment.IsPrivilegedProcess)
            return; // needs root: chown to other users, mknod of devices, trusted.* xattrs
        File.WriteAllText(Path.Combine(Src, "owned"), "x");
        Sys.LChown(Path.Combine(Src, "owned"), 1234, 5678);
        Sys.Chmod(Path.Combine(Src, "owned"), 0xded); // 06755 after chown, which would clear it
        Sys.Symlink("owned", Path.Combine(Src, "link"));
        Sys.LChown(Path.Combine(Src, "link"), 42, 43);
        Sys.MakeNode(Path.Combine(Src, "null"), FileStatus.S_IFCHR | 0x1b6 /* 0666 */, 1, 3);
        Sys.Chmod(Path.Combine(Src, "null"), 0x1b6); // past the umask
        Sys.MakeNode(Path.Combine(Src, "whiteout"), FileStatus.S_IFCHR, 0, 0);
        Directory.CreateDirectory(Path.Combine(Src, "opaque"));
        Sys.LSetXattr(Path.Combine(Src, "opaque"), "trusted.overlay.opaque", "y"u8);

        TreeCopier.Copy(Src, Dst);

        var owned = Sys.LStat(Path.Combine(Dst, "owned"));
        Assert.Equal((1234u, 5678u, 0xdedu), (owned.Uid, owned.Gid, owned.Permissions));
        var link = Sys.LStat(Path.Combine(Dst, "link"));
        Assert.Equal((42u, 43u), (link.Uid, link.Gid));
        var dev = Sys.LStat(Path.Combine(Dst, "null"));
        Assert.Equal((FileStatus.S_IFCHR, 1u, 3u, 0x1b6u), (dev.Type, dev.RDevMajor, dev.RDevMinor, dev.Permissions));
        Assert.True(Sys.LStat(Path.Combine(Dst, "whiteout")).IsWhiteout);
        Assert.Equal("y"u8.ToArray(), Sys.LGetXattr(Path.Combine(Dst, "opaque"), "trusted.overlay.opaque"));
    }

    [Fact]
    public void CopiesLargeFilesExactly()
    {
        var content = new byte[3 * 1024 * 1024 + 17];
        new Random(7).NextBytes(content);
        File.WriteAllBytes(Path.Combine(Src, "big"), content);
        File.WriteAllBytes(Path.Combine(Src, "empty"), []);
        TreeCopier.Copy(Src, Dst);
        Assert.Equal(content, File.ReadAllBytes(Path.Combine(Dst, "big")));
        Assert.Empty(File.ReadAllBytes(Path.Combine(Dst, "empty")));
    }

    public void Dispose() => _root.Dispose();
}
