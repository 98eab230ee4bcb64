using System.Collections.Concurrent;
using System.Text;
using Hivelet.Errors;
using Hivelet.Images.Content;
using Hivelet.Images.Layers;
using Hivelet.Images.Oci;
using Hivelet.Images.Platforms;
using Hivelet.Images.Pulling;
using Hivelet.Images.References;
using Hivelet.Images.Registry;
using Hivelet.Images.Snapshots;
using Hivelet.Images.Tests.Archives;
using Hivelet.Images.Tests.Layers;
using Hivelet.Images.Tests.Registry;
using Xunit.Abstractions;

namespace Hivelet.Images.Tests.Pulling;

/// <summary>
/// Pulls with the overlay driver, where layers are applied side by side (streamed while they
/// download) and committed in chain order. Root only (overlay mounts, whiteout devices, trusted xattrs).
/// </summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class ConcurrentPullTests(ITestOutputHelper output) : IDisposable
{
    private static readonly TimeSpan Bounded = TimeSpan.FromSeconds(60);
    private readonly StoreFixture _store = new();

    public void Dispose()
    {
        var snapshots = _store.Scratch("snapshots");
        foreach (var mount in MountTable.MountPointsUnder(snapshots))
            Interop.Sys.TryUnmount(mount, Interop.Sys.MNT_DETACH);
        _store.Dispose();
    }

    private bool Skip()
    {
        if (Environment.IsPrivilegedProcess)
            return false;
        output.WriteLine("skipped: overlay pulls need root; CI runs them as root");
        return true;
    }

    /// <summary>A registry image of gzip layers, served from memory.</summary>
    private sealed class Image
    {
        public Image(params byte[][] tars)
            : this(tars, null)
        {
        }

        public Image(byte[][] tars, IReadOnlyList<Digest>? diffIds)
        {
            Tars = tars;
            Blobs = tars.Select(TestLayer.Gzip).ToArray();
            DiffIds = diffIds ?? tars.Select(t => Digest.ComputeSha256(t)).ToList();
            ChainIds = ChainId.Compute(DiffIds);
            var ids = string.Join(',', DiffIds.Select(d => $"\"{d}\""));
            Config = Encoding.UTF8.GetBytes(
                "{\"architecture\":\"amd64\",\"os\":\"linux\",\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[" + ids + "]}}");
            var layers = string.Join(',', Blobs.Select(b =>
                $"{{\"mediaType\":\"{MediaTypes.OciLayerGzip}\",\"digest\":\"{Digest.ComputeSha256(b)}\",\"size\":{b.Length}}}"));
            Manifest = Encoding.UTF8.GetBytes(
                "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\"," +
                $"\"config\":{{\"mediaType\":\"application/vnd.oci.image.config.v1+json\",\"digest\":\"{Digest.ComputeSha256(Config)}\",\"size\":{Config.Length}}}," +
                $"\"layers\":[{layers}]}}");
        }

        public byte[][] Tars { get; }
        public byte[][] Blobs { get; }
        public IReadOnlyList<Digest> DiffIds { get; }
        public IReadOnlyList<Digest> ChainIds { get; }
        public byte[] Config { get; }
        public byte[] Manifest { get; }

        public int LayerOf(string path) =>
            Array.FindIndex(Blobs, b => path.EndsWith("/blobs/" + Digest.ComputeSha256(b), StringComparison.Ordinal));

        /// <summary>Serves the image; <paramref name="blob"/> may replace or delay a layer's response.</summary>
        public TestResponse Serve(TestRequest r, Func<int, TestRequest, TestResponse?>? blob = null)
        {
            if (r.Path.Contains("/manifests/", StringComparison.Ordinal))
                return RegistryTestKit.ManifestResponse(Manifest);
            if (r.Path.EndsWith("/blobs/" + Digest.ComputeSha256(Config), StringComparison.Ordinal))
                return RegistryTestKit.BlobResponse(Config, r);
            int i = LayerOf(r.Path);
            if (i < 0)
                return TestResponse.Of(404);
            return blob?.Invoke(i, r) ?? RegistryTestKit.BlobResponse(Blobs[i], r);
        }
    }

    private sealed class RecordingObserver(Action<Digest, LayerPhase>? onLayer = null) : IPullObserver
    {
        public ConcurrentQueue<(Digest Layer, LayerPhase Phase)> Events { get; } = new();

        public void Resolved(string reference, Digest digest, string platform) { }

        public void Layer(Digest layer, LayerPhase phase, long current, long total)
        {
            if (phase is LayerPhase.DownloadComplete or LayerPhase.PullComplete or LayerPhase.Extracting)
                Events.Enqueue((layer, phase));
            onLayer?.Invoke(layer, phase);
        }
    }

    private (ImagePuller Puller, OverlaySnapshotter Snapshots, RegistryClientFactory Factory) Puller()
    {
        var snapshots = new OverlaySnapshotter(_store.Scratch("snapshots"));
        var unpacker = new ImageUnpacker(_store.Content, snapshots, new LayerApplier());
        var factory = new RegistryClientFactory(null, RegistryTestKit.FastOptions());
        return (new ImagePuller(factory, _store.Content, _store.Images, _store.Lock, unpacker), snapshots, factory);
    }

    private static Task<ImageRecord> PullAsync(ImagePuller puller, TestHttpServer server, IPullObserver observer) =>
        puller.PullAsync(ImageReference.Parse($"{server.Authority}/lab/x:1"), PlatformSpec.Parse("linux/amd64"), observer,
            CancellationToken.None);

    private static byte[] Base() => new TestLayer()
        .Dir("etc/").File("etc/a", "a0").File("etc/keep", "keep")
        .Dir("opq/").File("opq/old", "old")
        .Dir("gone/").File("gone/f", "f")
        .Dir("usr/").File("usr/x", "x")
        .Tar();

    private static byte[] Middle() => new TestLayer()
        .Dir("etc/").Whiteout("etc/.wh.a").File("etc/b", "b1")
        .Dir("opq/").Whiteout("opq/.wh..wh..opq").File("opq/new", "new")
        .Tar();

    private static byte[] Top() => new TestLayer()
        .File("gone", "now a file")
        .Dir("usr/").File("usr/y", "y").HardLink("usr/z", "usr/y")
        .Dir("etc/").File("etc/b", "b2", mode: 0x1ED)
        .Tar();

    private static void AssertMergedView(string root)
    {
        Assert.False(File.Exists(Path.Combine(root, "etc/a")));
        Assert.Equal("keep", File.ReadAllText(Path.Combine(root, "etc/keep")));
        Assert.Equal("b2", File.ReadAllText(Path.Combine(root, "etc/b")));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute | UnixFileMode.GroupRead |
            UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute,
            File.GetUnixFileMode(Path.Combine(root, "etc/b")));
        Assert.Equal(["new"], Directory.GetFileSystemEntries(Path.Combine(root, "opq")).Select(Path.GetFileName));
        Assert.Equal("now a file", File.ReadAllText(Path.Combine(root, "gone")));
        Assert.Equal("x", File.ReadAllText(Path.Combine(root, "usr/x")));
        Assert.Equal("y", File.ReadAllText(Path.Combine(root, "usr/z")));
        Assert.Equal(TestLayer.Mtime, File.GetLastWriteTimeUtc(Path.Combine(root, "usr/y")));
    }

    private void AssertNoLeftovers()
    {
        var tmp = Path.Combine(_store.Scratch("snapshots"), "tmp");
        Assert.Empty(Directory.EnumerateFileSystemEntries(tmp));
        Assert.Empty(MountTable.MountPointsUnder(_store.Scratch("snapshots")));
    }

    [Fact]
    public async Task LayersFinishingOutOfOrder_AreCommittedInChainOrder()
    {
        if (Skip())
            return;
        var image = new Image(Base(), Middle(), Top());
        var (puller, snapshots, factory) = Puller();
        using var _ = factory;
        using var uppersIn = new CountdownEvent(2);
        var early = new ConcurrentBag<bool>();
        var observer = new RecordingObserver((layer, phase) =>
        {
            int i = Array.FindIndex(image.Blobs, b => Digest.ComputeSha256(b) == layer);
            if (phase == LayerPhase.DownloadComplete && i > 0)
            {
                // Its download is in, the base is not: it must not be visible yet.
                early.Add(snapshots.Exists(image.ChainIds[i]));
                uppersIn.Signal();
            }
        });
        // The base layer's blob is held back until both upper layers are downloaded and applied: two
        // uncommitted unpack directories wait in tmp/ for their parent.
        var tmp = Path.Combine(_store.Scratch("snapshots"), "tmp");
        bool appliedBeforeBase = false;
        using var server = new TestHttpServer(r => image.Serve(r, (i, req) =>
        {
            if (i == 0)
            {
                Assert.True(uppersIn.Wait(Bounded), "the upper layers never finished downloading");
                appliedBeforeBase = SpinWait.SpinUntil(() => Directory.EnumerateFileSystemEntries(tmp).Count() >= 2, Bounded);
            }
            return null;
        }));

        await PullAsync(puller, server, observer);

        Assert.True(appliedBeforeBase, "the upper layers were not unpacked before the base layer arrived");
        Assert.Equal([false, false], early);
        var completions = observer.Events.Where(e => e.Phase == LayerPhase.PullComplete).Select(e => e.Layer).ToList();
        Assert.Equal(image.Blobs.Select(b => Digest.ComputeSha256(b)), completions);
        var downloads = observer.Events.Where(e => e.Phase == LayerPhase.DownloadComplete).Select(e => e.Layer).ToList();
        Assert.Equal(Digest.ComputeSha256(image.Blobs[0]), downloads[^1]);
        foreach (var chain in image.ChainIds)
            Assert.True(snapshots.Exists(chain));
        using (var view = snapshots.Prepare(image.ChainIds[^1]))
            AssertMergedView(view.Path);
        AssertNoLeftovers();
    }

    [Fact]
    public async Task OverlayUpperApply_GivesTheSameTreeAsTheMergedViewApply()
    {
        if (Skip())
            return;
        var image = new Image(Base(), Middle(), Top());
        var (puller, snapshots, factory) = Puller();
        using var _ = factory;
        using var server = new TestHttpServer(r => image.Serve(r));

        await PullAsync(puller, server, NullPullObserver.Instance);

        // The same layers applied one by one onto merged views, as the copy driver and older builds do.
        var reference = new OverlaySnapshotter(_store.Scratch("reference"));
        Digest? parent = null;
        for (int i = 0; i < image.Tars.Length; i++)
        {
            using var active = reference.Prepare(parent);
            new LayerApplier().Apply(new MemoryStream(image.Tars[i]), active.Path, new LayerApplyOptions(), CancellationToken.None);
            active.Commit(image.ChainIds[i]);
            parent = image.ChainIds[i];
        }
        using var pulled = snapshots.Prepare(image.ChainIds[^1]);
        using var expected = reference.Prepare(image.ChainIds[^1]);
        AssertMergedView(pulled.Path);
        Assert.Equal(Describe(expected.Path), Describe(pulled.Path));
    }

    /// <summary>Every path below root with its type, mode, size and mtime, as `find -printf` would list them.</summary>
    private static List<string> Describe(string root)
    {
        var lines = new List<string>();
        foreach (var path in Directory.EnumerateFileSystemEntries(root, "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal))
        {
            var info = new FileInfo(path);
            bool dir = info.Attributes.HasFlag(FileAttributes.Directory);
            lines.Add($"{Path.GetRelativePath(root, path)} {(dir ? "d" : "f")} {info.UnixFileMode} " +
                      $"{(dir ? 0 : info.Length)} {(dir ? "" : info.LastWriteTimeUtc.ToString("O"))}");
        }
        return lines;
    }

    [Fact]
    public async Task LayerNeedingItsParent_IsAppliedOntoTheMergedViewAfterTheParentCommits()
    {
        if (Skip())
            return;
        // A hard link to a file of the layer below, and a file whose parent directory has no entry.
        var upper = new TestLayer().HardLink("etc/keep2", "etc/keep").File("usr/only", "o").Tar();
        var image = new Image(Base(), upper);
        var (puller, snapshots, factory) = Puller();
        using var _ = factory;
        using var server = new TestHttpServer(r => image.Serve(r));

        await PullAsync(puller, server, NullPullObserver.Instance);

        using var view = snapshots.Prepare(image.ChainIds[^1]);
        Assert.Equal("keep", File.ReadAllText(Path.Combine(view.Path, "etc/keep2")));
        Assert.Equal("o", File.ReadAllText(Path.Combine(view.Path, "usr/only")));
        Assert.Equal("x", File.ReadAllText(Path.Combine(view.Path, "usr/x")));
    }

    [Fact]
    public async Task FailingMiddleLayer_LeavesNoVisibleChildAndNoImage()
    {
        if (Skip())
            return;
        var image = new Image(Base(), Middle(), Top());
        var (puller, snapshots, factory) = Puller();
        using var _ = factory;
        var altered = (byte[])image.Blobs[1].Clone();
        altered[^10] ^= 0xFF;
        using var uppersIn = new CountdownEvent(1);
        var observer = new RecordingObserver((layer, phase) =>
        {
            if (phase == LayerPhase.DownloadComplete && layer == Digest.ComputeSha256(image.Blobs[2]))
                uppersIn.Signal();
        });
        // The middle layer (altered in transit) is sent only once the top one is fully in.
        using var server = new TestHttpServer(r => image.Serve(r, (i, req) =>
        {
            if (i != 1)
                return null;
            Assert.True(uppersIn.Wait(Bounded), "the top layer never finished downloading");
            return RegistryTestKit.BlobResponse(altered, req);
        }));

        var e = await Assert.ThrowsAnyAsync<HiveletException>(() => PullAsync(puller, server, observer));

        Assert.Contains("digest mismatch", HiveletException.Describe(e), StringComparison.Ordinal);
        Assert.False(snapshots.Exists(image.ChainIds[1]));
        Assert.False(snapshots.Exists(image.ChainIds[2]));
        Assert.Empty(_store.Images.List());
        Assert.False(_store.Content.Exists(Digest.ComputeSha256(image.Blobs[1])));
        AssertNoLeftovers();
    }

    [Fact]
    public async Task LayerWithWrongDiffId_IsNeverCommitted()
    {
        if (Skip())
            return;
        // The config promises other uncompressed bytes for the upper layer than its (intact) blob holds.
        var base0 = Base();
        var image = new Image([base0, Middle()], [Digest.ComputeSha256(base0), Digest.ComputeSha256("other"u8)]);
        var (puller, snapshots, factory) = Puller();
        using var _ = factory;
        using var server = new TestHttpServer(r => image.Serve(r));

        var e = await Assert.ThrowsAnyAsync<HiveletException>(() => PullAsync(puller, server, NullPullObserver.Instance));

        Assert.Contains("diff_id mismatch", HiveletException.Describe(e), StringComparison.Ordinal);
        Assert.False(snapshots.Exists(image.ChainIds[1]));
        Assert.Empty(_store.Images.List());
        AssertNoLeftovers();
    }
}
