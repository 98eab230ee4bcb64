using Hivelet.Images.Snapshots;
using Hivelet.Interop;
using Microsoft.Extensions.Logging.Abstractions;

namespace Hivelet.Images.Tests.Snapshots;

public sealed class SnapshotStoreTests : IDisposable
{
    private readonly SnapshotTestRoot _root = new();

    public void Dispose() => _root.Dispose();

    [Theory]
    [InlineData("overlayfs")]
    [InlineData("copy")]
    public void LayerTempDirectoryIsMarkedAsATopDirectory(string driver)
    {
        Assert.Equal(driver, SnapshotterFactory.Create(_root.Path, driver).Driver);
        // tmp/ for layers, containers/ for the container layers made and removed by every run.
        foreach (var name in new[] { "tmp", "containers" })
        {
            var dir = Path.Combine(_root.Path, name);
            Assert.True(Directory.Exists(dir));
            int errno = Sys.TryGetInodeFlags(dir, out int flags);
            if (errno is Errnos.EOPNOTSUPP or Errnos.ENOTTY or Errnos.EINVAL)
                return; // Not on ext2/3/4: no such flag there.
            Assert.Equal(0, errno);
            Assert.Equal(Sys.FS_TOPDIR_FL, flags & Sys.FS_TOPDIR_FL);
        }
    }

    [Fact]
    public void StoreOfAnOlderRootGetsTheHintToo()
    {
        var dir = Path.Combine(_root.Path, "snapshots");
        Directory.CreateDirectory(Path.Combine(dir, "tmp"));
        _ = new SnapshotStore(dir, "copy", NullLogger.Instance);
        if (Sys.TryGetInodeFlags(Path.Combine(dir, "tmp"), out int flags) == 0)
            Assert.Equal(Sys.FS_TOPDIR_FL, flags & Sys.FS_TOPDIR_FL);
    }

    [Fact]
    public void FileSystemWithoutTheFlagIsNoError()
    {
        // tmpfs has FS_IOC_GETFLAGS (Linux 6.0+) but refuses FS_TOPDIR_FL; older ones answer ENOTTY.
        if (!Directory.Exists("/dev/shm"))
            return;
        var dir = Path.Combine("/dev/shm", "hivelet-store-" + Guid.NewGuid().ToString("N"));
        try
        {
            var store = new SnapshotStore(dir, "copy", NullLogger.Instance);
            Assert.True(Directory.Exists(store.TempRoot));
            var tmp = store.CreateTemp("layer");
            Assert.True(Directory.Exists(tmp));
        }
        catch (UnauthorizedAccessException)
        {
            // /dev/shm not writable here.
        }
        finally
        {
            if (Directory.Exists(dir))
                Directory.Delete(dir, recursive: true);
        }
    }
}
