using System.Text;
using Hivelet.Images.Content;
using Hivelet.Images.Oci;
using Hivelet.Images.Snapshots;

namespace Hivelet.Images.Tests.Content;

public sealed class GarbageCollectorTests : IDisposable
{
    private readonly TempStore _t = new();

    public void Dispose() => _t.Dispose();

    private sealed record Image(Descriptor Index, Descriptor Manifest, Descriptor Config, Descriptor[] Layers, Digest[] DiffIds);

    /// <summary>An index with a present arm64 manifest (config + 2 layers) and an absent amd64 one.</summary>
    private Image AddImage(string seed)
    {
        var layers = new[] { _t.Add(Bytes(seed + "-l1"), MediaTypes.OciLayerGzip), _t.Add(Bytes(seed + "-l2"), MediaTypes.OciLayerGzip) };
        var diffIds = new[] { Digest.ComputeSha256(Bytes(seed + "-d1")), Digest.ComputeSha256(Bytes(seed + "-d2")) };
        var config = _t.Add(Bytes($$$"""{"architecture":"arm64","os":"linux","rootfs":{"type":"layers","diff_ids":["{{{diffIds[0]}}}","{{{diffIds[1]}}}"]}}"""), MediaTypes.OciConfig);
        var manifest = _t.Add(Bytes($$$"""
            {"schemaVersion":2,"mediaType":"{{{MediaTypes.OciManifest}}}",
             "config":{"mediaType":"{{{config.MediaType}}}","digest":"{{{config.Digest}}}","size":{{{config.Size}}}},
             "layers":[{"mediaType":"{{{MediaTypes.OciLayerGzip}}}","digest":"{{{layers[0].Digest}}}","size":{{{layers[0].Size}}}},
                       {"mediaType":"{{{MediaTypes.OciLayerGzip}}}","digest":"{{{layers[1].Digest}}}","size":{{{layers[1].Size}}}}]}
            """), MediaTypes.OciManifest);
        var absent = Digest.ComputeSha256(Bytes(seed + "-amd64"));
        var index = _t.Add(Bytes($$$"""
            {"schemaVersion":2,"mediaType":"{{{MediaTypes.OciIndex}}}","manifests":[
             {"mediaType":"{{{MediaTypes.OciManifest}}}","digest":"{{{manifest.Digest}}}","size":{{{manifest.Size}}},"platform":{"architecture":"arm64","os":"linux"}},
             {"mediaType":"{{{MediaTypes.OciManifest}}}","digest":"{{{absent}}}","size":10,"platform":{"architecture":"amd64","os":"linux"}}]}
            """), MediaTypes.OciIndex);
        return new Image(index, manifest, config, layers, diffIds);
    }

    private void Record(string name, Image image) => _t.Images.Put(new ImageRecord
    {
        Name = name,
        Target = image.Index,
        ManifestDigest = image.Manifest.ParsedDigest(),
        ConfigDigest = image.Config.ParsedDigest(),
    });

    private static byte[] Bytes(string s) => Encoding.UTF8.GetBytes(s);

    private GarbageCollector Gc(ISnapshotter? snapshotter = null) =>
        new(_t.Content, _t.Images, _t.Lock, snapshotter) { LockWait = TimeSpan.Zero };

    private static IEnumerable<Digest> All(Image i) =>
        new[] { i.Index, i.Manifest, i.Config }.Concat(i.Layers).Select(d => d.ParsedDigest());

    [Fact]
    public void KeepsWhatRecordsReachAndRemovesTheRest()
    {
        var kept = AddImage("kept");
        var dropped = AddImage("dropped");
        var stray = _t.Add(Bytes("stray"), MediaTypes.OciLayer);
        Record("docker.io/library/kept:latest", kept);

        var result = Gc().Collect(dryRun: false);

        Assert.Equal(All(kept).ToHashSet(), _t.Content.List().ToHashSet());
        var expectedGone = All(dropped).Append(stray.ParsedDigest()).ToHashSet();
        Assert.Equal(expectedGone, result.RemovedBlobs.ToHashSet());
        Assert.Equal(11, result.BlobsScanned);
        Assert.Equal(6, result.BlobsRemoved);
        Assert.Equal(new[] { dropped.Index, dropped.Manifest, dropped.Config, stray }.Concat(dropped.Layers).Sum(d => d.Size), result.BytesFreed);
        Assert.Equal(1, result.MissingBlobs);
        Assert.Equal(ChainId.Compute(kept.DiffIds).ToHashSet(), result.LiveChainIds.ToHashSet());
    }

    [Fact]
    public void EveryPlatformOfAnIndexIsKeptNotOnlyTheRecordedOne()
    {
        var arm = AddImage("arm");
        var amd = AddImage("amd");
        var both = _t.Add(Bytes($$$"""
            {"schemaVersion":2,"manifests":[
             {"mediaType":"{{{MediaTypes.DockerManifest}}}","digest":"{{{arm.Manifest.Digest}}}","size":{{{arm.Manifest.Size}}}},
             {"mediaType":"{{{MediaTypes.DockerManifest}}}","digest":"{{{amd.Manifest.Digest}}}","size":{{{amd.Manifest.Size}}}}]}
            """), MediaTypes.DockerManifestList);
        Record("docker.io/library/both:latest", arm with { Index = both });

        var result = Gc().Collect(dryRun: false);

        Assert.Equal(new HashSet<Digest> { arm.Index.ParsedDigest(), amd.Index.ParsedDigest() }, result.RemovedBlobs.ToHashSet());
        Assert.Equal(All(arm with { Index = both }).Concat(All(amd).Skip(1)).ToHashSet(), _t.Content.List().ToHashSet());
        Assert.Equal(ChainId.Compute(arm.DiffIds).Concat(ChainId.Compute(amd.DiffIds)).ToHashSet(), result.LiveChainIds.ToHashSet());
    }

    [Fact]
    public void DryRunReportsButDeletesNothing()
    {
        AddImage("garbage");
        var before = _t.Content.List().ToHashSet();
        var result = Gc().Collect(dryRun: true);
        Assert.True(result.DryRun);
        Assert.Equal(5, result.BlobsRemoved);
        Assert.Equal(before, _t.Content.List().ToHashSet());
    }

    [Fact]
    public void ARecordPointingAtAManifestKeepsItsConfigAndLayers()
    {
        var image = AddImage("single");
        _t.Images.Put(new ImageRecord
        {
            Name = "docker.io/library/single@" + image.Manifest.Digest,
            Target = image.Manifest,
            ManifestDigest = image.Manifest.ParsedDigest(),
            ConfigDigest = image.Config.ParsedDigest(),
        });
        var result = Gc().Collect(dryRun: false);
        Assert.Equal([image.Index.ParsedDigest()], result.RemovedBlobs);
        Assert.Equal(2, result.LiveChainIds.Count);
    }

    [Fact]
    public void AHeldLeaseKeepsGcAwayFromUnrecordedContent()
    {
        IDisposable lease = _t.Lock.AcquireLease(TimeSpan.Zero);
        try
        {
            var pulled = AddImage("in-flight"); // committed, not yet recorded
            Assert.Throws<StoreBusyException>(() => Gc().Collect(dryRun: false));
            Assert.Equal(5, _t.Content.List().Count());
            Record("docker.io/library/in-flight:latest", pulled);
        }
        finally
        {
            lease.Dispose();
        }
        var result = Gc().Collect(dryRun: false);
        Assert.Equal(0, result.BlobsRemoved);
    }

    [Fact]
    public void LeasesDoNotExcludeEachOtherButGcExcludesLeases()
    {
        using (_t.Lock.AcquireLease(TimeSpan.Zero))
        using (_t.Lock.AcquireLease(TimeSpan.Zero))
        {
        }
        using (_t.Lock.AcquireExclusive(TimeSpan.Zero))
        {
            Assert.Throws<StoreBusyException>(() => _t.Lock.AcquireLease(TimeSpan.FromMilliseconds(50)));
        }
    }

    [Fact]
    public void UnparsableDocumentsStayAndDoNotStopTheGc()
    {
        var bogus = _t.Add(Bytes("{ this is not json"), MediaTypes.OciManifest);
        _t.Images.Put(new ImageRecord
        {
            Name = "docker.io/library/bogus:1",
            Target = bogus,
            ManifestDigest = bogus.ParsedDigest(),
            ConfigDigest = Digest.ComputeSha256(Bytes("no config")),
        });
        var stray = _t.Add(Bytes("stray"), MediaTypes.OciLayer);
        var result = Gc().Collect(dryRun: false);
        Assert.Equal([stray.ParsedDigest()], result.RemovedBlobs);
        Assert.True(_t.Content.Exists(bogus.ParsedDigest()));
    }

    [Fact]
    public void RemovesSnapshotsNoImageUses()
    {
        var image = AddImage("layers");
        Record("docker.io/library/layers:latest", image);
        var live = ChainId.Compute(image.DiffIds);
        var dead = Digest.ComputeSha256(Bytes("old chain"));
        var snapshots = new RecordingSnapshotter([.. live, dead]);

        var dry = Gc(snapshots).Collect(dryRun: true);
        Assert.Equal([dead], dry.RemovedSnapshots);
        Assert.Empty(snapshots.Removed);

        var real = Gc(snapshots).Collect(dryRun: false);
        Assert.Equal([dead], real.RemovedSnapshots);
        Assert.Equal([dead], snapshots.Removed);
    }

    [Fact]
    public void AnImageAContainerUsesKeepsItsConfigManifestLayersAndChainsWithoutARecord()
    {
        var used = AddImage("used");
        var unused = AddImage("unused");
        var live = ChainId.Compute(used.DiffIds);
        var dead = ChainId.Compute(unused.DiffIds);
        var snapshots = new RecordingSnapshotter([.. live, .. dead]);
        // `rmi -f` removed the record; a stopped container still sits on the image.
        var users = new ListedUsers([new ImageUser("c0ffee" + new string('0', 58), used.Config.ParsedDigest(), live[^1], false)]);

        var result = new GarbageCollector(_t.Content, _t.Images, _t.Lock, snapshots) { LockWait = TimeSpan.Zero, Users = users }
            .Collect(dryRun: false);

        var kept = new[] { used.Manifest, used.Config }.Concat(used.Layers).Select(d => d.ParsedDigest()).ToHashSet();
        Assert.Equal(kept, _t.Content.List().ToHashSet());
        Assert.Equal(live.ToHashSet(), result.LiveChainIds.ToHashSet());
        Assert.Equal(dead.ToHashSet(), snapshots.Removed.ToHashSet());
    }

    [Fact]
    public void AUserOfARecordedImageRemovesNothing()
    {
        var image = AddImage("recorded");
        Record("docker.io/library/recorded:latest", image);
        var users = new ListedUsers([new ImageUser("c0ffee" + new string('1', 58), image.Config.ParsedDigest(), null, true)]);

        var result = new GarbageCollector(_t.Content, _t.Images, _t.Lock) { LockWait = TimeSpan.Zero, Users = users }.Collect(dryRun: false);

        Assert.Equal(0, result.BlobsRemoved);
        Assert.Equal(All(image).ToHashSet(), _t.Content.List().ToHashSet());
    }

    private sealed class ListedUsers(IReadOnlyList<ImageUser> users) : IImageUsers
    {
        public IReadOnlyList<ImageUser> List() => users;
    }

    /// <summary>Only List and Remove matter to the GC; the rest is not called.</summary>
    private sealed class RecordingSnapshotter(IEnumerable<Digest> chains) : ISnapshotter
    {
        private readonly List<Digest> _chains = [.. chains];

        public List<Digest> Removed { get; } = [];
        public string Driver => "recording";
        public bool Exists(Digest chainId) => _chains.Contains(chainId);
        public IEnumerable<Digest> List() => _chains;

        public bool Remove(Digest chainId)
        {
            Removed.Add(chainId);
            return _chains.Remove(chainId);
        }

        public IActiveSnapshot Prepare(Digest? parent) => throw new NotSupportedException();
        public IActiveSnapshot PrepareContainer(string containerId, Digest? top, bool disposable = false) => throw new NotSupportedException();
        public bool RemoveContainer(string containerId) => throw new NotSupportedException();
        public string? ContainerChangesPath(string containerId) => throw new NotSupportedException();
        public void Repair() => throw new NotSupportedException();
    }
}
