using Hivelet.IO;

namespace Hivelet.Core.Tests;

public sealed class AtomicFileTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("hivelet-atomic-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void WriteReplacesContentAndLeavesNoTemp()
    {
        var path = Path.Combine(_dir, "state.json");
        AtomicFile.WriteAllText(path, "one");
        AtomicFile.WriteAllText(path, "two");
        Assert.Equal("two", File.ReadAllText(path));
        Assert.Single(Directory.GetFiles(_dir));
    }

    [Fact]
    public void CleanTempsRemovesOnlyLeftovers()
    {
        var path = Path.Combine(_dir, "state.json");
        AtomicFile.WriteAllText(path, "kept");
        File.WriteAllText(AtomicFile.TempPathFor(path), "half-written");
        Assert.Equal(1, AtomicFile.CleanTemps(_dir));
        Assert.Equal("kept", File.ReadAllText(path));
        Assert.Single(Directory.GetFiles(_dir));
    }
}
