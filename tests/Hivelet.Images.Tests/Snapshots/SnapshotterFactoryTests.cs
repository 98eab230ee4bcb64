using System.Text.Json;
using Hivelet.Errors;
using Hivelet.Images.Snapshots;

namespace Hivelet.Images.Tests.Snapshots;

public sealed class SnapshotterFactoryTests : IDisposable
{
    private readonly SnapshotTestRoot _root = new();

    [Fact]
    public void OverrideChoosesTheDriver()
    {
        Assert.Equal("copy", SnapshotterFactory.Create(_root.Path, "copy").Driver);
        Assert.Equal("overlayfs", SnapshotterFactory.Create(_root.Path, "overlayfs").Driver);
        var e = Assert.Throws<InvalidInputException>(() => SnapshotterFactory.Create(_root.Path, "zfs"));
        Assert.Contains("zfs", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ProbesOnceAndCachesTheResult()
    {
        var s = SnapshotterFactory.Create(_root.Path, null);
        Assert.Equal(Environment.IsPrivilegedProcess ? "overlayfs" : "copy", s.Driver);
        var cache = Path.Combine(_root.Path, SnapshotterFactory.CacheFile);
        Assert.True(File.Exists(cache));
        Assert.Empty(Directory.EnumerateFileSystemEntries(Path.Combine(_root.Path, "tmp")));
        Assert.Empty(_root.MountsEverywhere());

        // A cached verdict is trusted while kernel and privilege are unchanged: no second probe.
        var result = JsonSerializer.Deserialize(File.ReadAllText(cache), SnapshotJsonContext.Default.DriverProbeResult)!;
        result.Driver = "copy";
        result.Reason = "cached";
        File.WriteAllText(cache, JsonSerializer.Serialize(result, SnapshotJsonContext.Default.DriverProbeResult));
        Assert.Equal("copy", SnapshotterFactory.Create(_root.Path, null).Driver);

        result.Kernel = "0.0.0-other";
        File.WriteAllText(cache, JsonSerializer.Serialize(result, SnapshotJsonContext.Default.DriverProbeResult));
        Assert.Equal(Environment.IsPrivilegedProcess ? "overlayfs" : "copy", SnapshotterFactory.Create(_root.Path, null).Driver);
    }

    public void Dispose() => _root.Dispose();
}
