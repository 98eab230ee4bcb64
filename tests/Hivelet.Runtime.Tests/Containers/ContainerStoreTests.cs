using Hivelet.Errors;
using Hivelet.Runtime.Containers;

namespace Hivelet.Runtime.Tests.Containers;

public sealed class ContainerStoreTests : IDisposable
{
    private readonly TempContainers _t = new();

    public void Dispose() => _t.Dispose();

    [Fact]
    public void EmptyTrashDeletesWhatABackgroundDeleteLeftAndNothingElse()
    {
        Assert.Equal(0, _t.Store.EmptyTrash());
        var kept = _t.Add("kept");
        var trash = Path.Combine(_t.Root.Root, ContainerStore.TrashDirectoryName);
        Directory.CreateDirectory(Path.Combine(trash, "1-0-bundle", "rootfs"));
        File.WriteAllText(Path.Combine(trash, "1-0-bundle", "container.json"), "{}");
        File.WriteAllText(Path.Combine(trash, "stray"), "x");
        Assert.Equal(2, _t.Store.EmptyTrash());
        Assert.Empty(Directory.EnumerateFileSystemEntries(trash));
        Assert.Equal(kept.Id, _t.Store.Find("kept").Id);
    }

    [Fact]
    public void NewIdsAre64LowerHexAndDistinct()
    {
        var ids = Enumerable.Range(0, 50).Select(_ => ContainerStore.NewId()).ToList();
        Assert.All(ids, id => Assert.True(ContainerStore.IsId(id), id));
        Assert.Equal(ids.Count, ids.Distinct().Count());
    }

    [Fact]
    public void GeneratedNamesAreAdjectiveUnderscoreNounAndValid()
    {
        for (int i = 0; i < 50; i++)
        {
            var name = NameGenerator.Generate();
            Assert.Matches("^[a-z]+_[a-z]+$", name);
            Assert.Equal(name, ContainerStore.ValidateName(name));
        }
    }

    [Theory]
    [InlineData("web")]
    [InlineData("a.b-c_d")]
    [InlineData("/web")]
    public void ValidNames(string name) => Assert.Equal(name.TrimStart('/'), ContainerStore.ValidateName(name));

    [Theory]
    [InlineData("a")]
    [InlineData("-web")]
    [InlineData("we b")]
    [InlineData("w/eb")]
    public void InvalidNamesSayWhichCharactersAreAllowed(string name)
    {
        var e = Assert.Throws<InvalidInputException>(() => ContainerStore.ValidateName(name));
        Assert.Contains($"Invalid container name ({name})", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void CreateWritesTheRecordInTheBundleAndFindsItByIdNamePrefix()
    {
        var c = _t.Add("web");
        Assert.True(File.Exists(Path.Combine(_t.Root.ContainersDir, c.Id, "container.json")));
        Assert.Equal(c.Id, _t.Store.Find(c.Id).Id);
        Assert.Equal(c.Id, _t.Store.Find("web").Id);
        Assert.Equal(c.Id, _t.Store.Find("/web").Id);
        Assert.Equal(c.Id, _t.Store.Find(c.Id[..5]).Id);
        Assert.Equal("web", _t.Store.Find(c.Id).Name);
    }

    [Fact]
    public void UnknownReferenceIsNoSuchContainer()
    {
        _t.Add("web");
        var e = Assert.Throws<NotFoundException>(() => _t.Store.Find("nothere"));
        Assert.Equal("No such container: nothere", e.Message);
    }

    [Fact]
    public void AmbiguousPrefixIsReported()
    {
        // With enough containers two share a first hex digit.
        var ids = Enumerable.Range(0, 20).Select(_ => _t.Add().Id).ToList();
        var prefix = ids.GroupBy(id => id[..1]).First(g => g.Count() > 1).Key;
        var e = Assert.Throws<NotFoundException>(() => _t.Store.Find(prefix));
        Assert.Contains("multiple containers", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ANameInUseIsAConflictNamingTheOtherContainer()
    {
        var first = _t.Add("web");
        var e = Assert.Throws<HiveletException>(() => _t.Add("web"));
        Assert.Equal(
            $"Conflict. The container name \"/web\" is already in use by container \"{first.Id}\". You have to remove (or rename) that container to be able to reuse that name.",
            e.Message);
        Assert.Single(_t.Store.List());
    }

    [Fact]
    public void ListIsNewestFirst()
    {
        var old = _t.Add("old", DateTimeOffset.UtcNow.AddMinutes(-5));
        var young = _t.Add("young");
        Assert.Equal([young.Id, old.Id], _t.Store.List().Select(r => r.Id));
    }

    [Fact]
    public void RepairRemovesHalfCreatedBundlesAndTheirResources()
    {
        var kept = _t.Add("kept");
        var halfId = ContainerStore.NewId();
        var half = _t.Store.BundleDir(halfId);
        Directory.CreateDirectory(Path.Combine(half, "rootfs"));
        File.WriteAllText(Path.Combine(_t.Store.BundleDir(kept.Id), "container.json.tmp-1-x"), "partial");
        var cleaned = new List<string>();

        _t.Store.Repair(cleaned.Add);

        Assert.Equal([halfId], cleaned);
        Assert.False(Directory.Exists(half));
        Assert.True(File.Exists(_t.Store.RecordPath(kept.Id)));
        Assert.Empty(Directory.GetFiles(_t.Store.BundleDir(kept.Id), "*.tmp-*"));
    }

    [Fact]
    public void AnEmptyRecordIsAReplayCutShortByAPowerLossAndIsRepairedAway()
    {
        var kept = _t.Add("kept");
        var cut = _t.Add("cut");
        File.WriteAllBytes(_t.Store.RecordPath(cut.Id), []);
        var cleaned = new List<string>();

        Assert.True(_t.Store.Repair(cleaned.Add));

        Assert.Equal([cut.Id], cleaned);
        Assert.False(Directory.Exists(_t.Store.BundleDir(cut.Id)));
        Assert.Equal([kept.Id], _t.Store.List().Select(r => r.Id));
    }

    [Fact]
    public void ThrowingBuildLeavesAHalfCreatedBundleThatRepairRemoves()
    {
        Assert.Throws<InvalidOperationException>(() =>
            _t.Store.Create("x1", (_, _, _) => throw new InvalidOperationException("killed")));
        Assert.Empty(_t.Store.List());
        Assert.Single(Directory.GetDirectories(_t.Root.ContainersDir));
        _t.Store.Repair(_ => { });
        Assert.Empty(Directory.GetDirectories(_t.Root.ContainersDir));
    }

    [Fact]
    public void DeleteRemovesBundleAndRunDir()
    {
        var c = _t.Add();
        Directory.CreateDirectory(_t.Store.RunDir(c.Id));
        _t.Store.Delete(c.Id);
        Assert.False(Directory.Exists(_t.Store.BundleDir(c.Id)));
        Assert.False(Directory.Exists(_t.Store.RunDir(c.Id)));
        Assert.Throws<NotFoundException>(() => _t.Store.Find(c.Id));
    }

    [Fact]
    public void TheContainerLockExcludesASecondHolderUntilReleased()
    {
        var c = _t.Add();
        using (var held = _t.Store.Lock(c.Id, TimeSpan.Zero))
        {
            var e = Assert.Throws<HiveletException>(() => _t.Store.Lock(c.Id, TimeSpan.FromMilliseconds(100)));
            Assert.Contains("busy", e.Message, StringComparison.Ordinal);
        }
        using var again = _t.Store.Lock(c.Id, TimeSpan.Zero);
    }

    [Fact]
    public void LockingARemovedContainerIsNoSuchContainer()
    {
        var c = _t.Add();
        _t.Store.Delete(c.Id);
        Assert.Throws<NotFoundException>(() => _t.Store.Lock(c.Id, TimeSpan.Zero));
    }

    [Fact]
    public void TmpfsDetectionReadsTheLastMountOnThePoint()
    {
        const string info = """
            22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw
            25 22 0:21 / /run rw,nosuid,nodev shared:5 - tmpfs tmpfs rw,size=1000k
            """;
        Assert.True(ContainerStore.IsTmpfs("/run", info));
        Assert.False(ContainerStore.IsTmpfs("/run", "22 1 8:1 / / rw - ext4 /dev/sda1 rw\n"));
        Assert.False(ContainerStore.IsTmpfs("/run", info + "\n30 25 8:1 / /run rw - ext4 /dev/sda1 rw"));
    }
}
