using Hivelet.Errors;
using Hivelet.Images.Layers;
using Hivelet.Images.Oci;
using Hivelet.Images.Pulling;
using Hivelet.Images.Snapshots;

namespace Hivelet.Images.Tests.Archives;

/// <summary>Loads that unpack into a real snapshotter (copy driver). They need root, as CI has.</summary>
public class ImageLoaderUnpackTests
{
    [Fact]
    public void Load_UnpacksEveryImage()
    {
        if (!Environment.IsPrivilegedProcess)
        {
            Console.WriteLine("skipped: unpack tests need root");
            return;
        }
        using var store = new StoreFixture();
        var snapshots = new CopySnapshotter(store.Scratch("snapshots"));
        var plain = TestImage.Create("unpacked from a legacy archive");
        var gz = TestImage.Create("unpacked from a gzip layer", gzip: true);
        var loader = store.Loader(new ImageUnpacker(store.Content, snapshots, new LayerApplier()));

        loader.Load(new MemoryStream(ArchiveBuilder.Legacy((plain, ["lab/a:1"]))), "a.tar", CancellationToken.None);
        loader.Load(new MemoryStream(ArchiveBuilder.Docker25((gz, ["docker.io/lab/b:1"]))), "b.tar", CancellationToken.None);

        AssertUnpacked(snapshots, plain, "unpacked from a legacy archive");
        AssertUnpacked(snapshots, gz, "unpacked from a gzip layer");
    }

    [Fact]
    public void Load_CompressedLayerWithWrongDiffId_FailsInUnpackAndRecordsNothing()
    {
        if (!Environment.IsPrivilegedProcess)
        {
            Console.WriteLine("skipped: unpack tests need root");
            return;
        }
        using var store = new StoreFixture();
        var snapshots = new CopySnapshotter(store.Scratch("snapshots"));
        var lying = TestImage.Create("lying gzip layer", gzip: true, diffIdOverride: Digest.ComputeSha256("other"u8).ToString());
        var loader = store.Loader(new ImageUnpacker(store.Content, snapshots, new LayerApplier()));

        var e = Assert.ThrowsAny<HiveletException>(() =>
            loader.Load(new MemoryStream(ArchiveBuilder.Docker25((lying, ["docker.io/lab/lying:1"]))), "lying.tar", CancellationToken.None));

        Assert.Contains("diff_id mismatch", HiveletException.Describe(e), StringComparison.Ordinal);
        Assert.Empty(store.Images.List());
        Assert.Empty(snapshots.List());
    }

    private static void AssertUnpacked(CopySnapshotter snapshots, TestImage image, string text)
    {
        Assert.True(snapshots.Exists(image.DiffId));
        using var view = snapshots.Prepare(image.DiffId);
        Assert.Equal(text, File.ReadAllText(Path.Combine(view.Path, "hello.txt")));
    }
}
