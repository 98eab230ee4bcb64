using Hivelet.Interop;

namespace Hivelet.Core.Tests;

public sealed class SysLockTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("hivelet-lock-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void ExclusiveLocksExcludeEachOtherEvenInOneProcess()
    {
        var path = Path.Combine(_dir, "lock");
        using var a = Sys.OpenLockFile(path);
        using var b = Sys.OpenLockFile(path);
        Assert.True(Sys.TryLockFile(a, exclusive: true, path));
        Assert.False(Sys.TryLockFile(b, exclusive: false, path));
        Sys.UnlockFile(a, path);
        Assert.True(Sys.TryLockFile(b, exclusive: false, path));
        Assert.True(Sys.TryLockFile(a, exclusive: false, path));
    }

    [Fact]
    public void SameFileFollowsUnlinkAndRecreate()
    {
        var path = Path.Combine(_dir, "lock");
        using var fd = Sys.OpenLockFile(path);
        Assert.True(Sys.IsSameFile(fd, path));
        File.Delete(path);
        Assert.False(Sys.IsSameFile(fd, path));
        using var again = Sys.OpenLockFile(path);
        Assert.False(Sys.IsSameFile(fd, path));
        Assert.True(Sys.IsSameFile(again, path));
    }

    [Fact]
    public void OpenLockFileRefusesSymlinks()
    {
        var target = Path.Combine(_dir, "target");
        File.WriteAllText(target, "");
        var link = Path.Combine(_dir, "link");
        File.CreateSymbolicLink(link, target);
        var e = Assert.Throws<ErrnoException>(() => Sys.OpenLockFile(link));
        Assert.Equal(Errnos.ELOOP, e.Errno);
    }
}
