using Hivelet.Interop;

namespace Hivelet.Core.Tests;

/// <summary>FS_IOC_GETFLAGS / FS_IOC_SETFLAGS (chattr) through the interop layer.</summary>
public sealed class InodeFlagsTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "hivelet-flags-" + Guid.NewGuid().ToString("N"));

    public InodeFlagsTests() => Directory.CreateDirectory(_dir);

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void RequestNumbersEncodeTheSizeOfLong()
    {
        // include/uapi/linux/fs.h: _IOR('f', 1, long), _IOW('f', 2, long).
        if (nint.Size == 8)
        {
            Assert.Equal((nuint)0x80086601, Libc.Tree.FS_IOC_GETFLAGS);
            Assert.Equal((nuint)0x40086602, Libc.Tree.FS_IOC_SETFLAGS);
        }
        else
        {
            Assert.Equal((nuint)0x80046601, Libc.Tree.FS_IOC_GETFLAGS);
            Assert.Equal((nuint)0x40046602, Libc.Tree.FS_IOC_SETFLAGS);
        }
        Assert.Equal(0x20000, Sys.FS_TOPDIR_FL);
    }

    [Fact]
    public void TopDirectoryFlagIsAddedWhereTheFileSystemHasIt()
    {
        int errno = Sys.TryAddInodeFlags(_dir, Sys.FS_TOPDIR_FL);
        if (errno is Errnos.EOPNOTSUPP or Errnos.ENOTTY or Errnos.EINVAL)
            return; // Not ext2/3/4 (tmpfs, xfs, btrfs, overlay): the flag does not exist there.
        Assert.Equal(0, errno);
        Assert.Equal(0, Sys.TryGetInodeFlags(_dir, out int flags));
        Assert.Equal(Sys.FS_TOPDIR_FL, flags & Sys.FS_TOPDIR_FL);
        // Already set: nothing to change, still success.
        Assert.Equal(0, Sys.TryAddInodeFlags(_dir, Sys.FS_TOPDIR_FL));
    }

    [Fact]
    public void MissingDirectoryReportsENOENT()
    {
        Assert.Equal(Errnos.ENOENT, Sys.TryAddInodeFlags(Path.Combine(_dir, "missing"), Sys.FS_TOPDIR_FL));
        Assert.Equal(Errnos.ENOENT, Sys.TryGetInodeFlags(Path.Combine(_dir, "missing"), out _));
    }

    [Fact]
    public void SymlinkIsNotFollowed()
    {
        var target = Path.Combine(_dir, "target");
        Directory.CreateDirectory(target);
        var link = Path.Combine(_dir, "link");
        File.CreateSymbolicLink(link, target);
        Assert.NotEqual(0, Sys.TryAddInodeFlags(link, Sys.FS_TOPDIR_FL));
        if (Sys.TryGetInodeFlags(target, out int flags) == 0)
            Assert.Equal(0, flags & Sys.FS_TOPDIR_FL);
    }

    [Fact]
    public void RegularFileIsRefused()
    {
        var file = Path.Combine(_dir, "file");
        File.WriteAllText(file, "x");
        Assert.Equal(Errnos.ENOTDIR, Sys.TryAddInodeFlags(file, Sys.FS_TOPDIR_FL));
    }
}
