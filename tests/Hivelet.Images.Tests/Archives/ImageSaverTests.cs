using System.Text;
using Hivelet.Errors;
using Hivelet.Images.Archives;
using Hivelet.Images.Layers;

namespace Hivelet.Images.Tests.Archives;

public class ImageSaverTests
{
    [Fact]
    public void SaveThenLoad_RoundTripsNamesManifestsAndConfigs()
    {
        using var source = new StoreFixture();
        var gz = TestImage.Create("gzip layer", gzip: true);
        var plain = TestImage.Create("plain layer");
        source.Load(ArchiveBuilder.Docker25((gz, ["docker.io/library/alpine:3", "docker.io/lab/x:y"]), (plain, ["docker.io/lab/plain:1"])));
        var file = source.Scratch("out.tar");

        int count = source.Saver().SaveToFile(["alpine:3", "lab/x:y", "lab/plain:1"], file, CancellationToken.None);

        Assert.Equal(2, count);
        using var target = new StoreFixture();
        using (var stream = File.OpenRead(file))
            target.Loader().Load(stream, file, CancellationToken.None);
        foreach (var name in new[] { "docker.io/library/alpine:3", "docker.io/lab/x:y", "docker.io/lab/plain:1" })
        {
            var before = source.Images.Get(name)!;
            var after = target.Images.Get(name)!;
            Assert.Equal(before.ManifestDigest, after.ManifestDigest);
            Assert.Equal(before.ConfigDigest, after.ConfigDigest);
        }
        Assert.Equal(3, target.Images.List().Count);
    }

    [Fact]
    public void Save_WritesDockerAndOciMetadataInOrder_Deterministically()
    {
        using var store = new StoreFixture();
        var image = TestImage.Create("layout", gzip: true);
        store.Load(ArchiveBuilder.Docker25((image, ["docker.io/library/busybox:latest"])));
        var record = store.Images.Get("docker.io/library/busybox:latest")!;

        var first = SaveToBytes(store, "busybox");
        var second = SaveToBytes(store, "busybox:latest");

        Assert.Equal(first, second);
        var entries = ReadEntries(first);
        Assert.Equal(new[]
        {
            "blobs/", "blobs/sha256/",
            string.Join('/', "blobs/sha256", new[] { image.ConfigDigest, image.LayerDigest, record.ManifestDigest }.Select(d => d.Encoded).Order(StringComparer.Ordinal).First()),
        }, entries.Keys.Take(3));
        Assert.Equal(new[] { "index.json", "manifest.json", "oci-layout", "repositories" }, entries.Keys.TakeLast(4));
        var manifest = Encoding.UTF8.GetString(entries["manifest.json"]);
        Assert.Contains("\"RepoTags\":[\"busybox:latest\"]", manifest, StringComparison.Ordinal);
        Assert.Contains($"\"Layers\":[\"blobs/sha256/{image.LayerDigest.Encoded}\"]", manifest, StringComparison.Ordinal);
        var index = Encoding.UTF8.GetString(entries["index.json"]);
        Assert.Contains("\"io.containerd.image.name\":\"docker.io/library/busybox:latest\"", index, StringComparison.Ordinal);
        Assert.Contains("\"org.opencontainers.image.ref.name\":\"latest\"", index, StringComparison.Ordinal);
        Assert.Contains("\"mediaType\":\"application/vnd.oci.image.index.v1+json\"", index, StringComparison.Ordinal);
        Assert.Equal(image.LayerBlob, entries[$"blobs/sha256/{image.LayerDigest.Encoded}"]);
    }

    [Fact]
    public void SaveById_WritesNoTags_AndLoadsAsUntagged()
    {
        using var store = new StoreFixture();
        var image = TestImage.Create("by id");
        store.Load(ArchiveBuilder.Legacy((image, ["lab/byid:1"])));

        var bytes = SaveToBytes(store, image.ConfigDigest.Encoded[..12]);

        Assert.DoesNotContain("lab/byid", Encoding.UTF8.GetString(ReadEntries(bytes)["manifest.json"]), StringComparison.Ordinal);
        using var target = new StoreFixture();
        var loaded = Assert.Single(target.Load(bytes));
        Assert.Empty(loaded.Names);
        Assert.Equal(image.ConfigDigest, loaded.Id);
    }

    [Fact]
    public void SaveOfUnknownImage_FailsAndLeavesNoFile()
    {
        using var store = new StoreFixture();
        store.Load(ArchiveBuilder.Legacy((TestImage.Create("known"), ["lab/known:1"])));
        var directory = store.Scratch("out");
        Directory.CreateDirectory(directory);
        var file = Path.Combine(directory, "x.tar");

        var e = Assert.Throws<HiveletException>(() => store.Saver().SaveToFile(["lab/known:1", "lab/unknown:1"], file, CancellationToken.None));

        Assert.Contains("save lab/unknown:1", HiveletException.Describe(e), StringComparison.Ordinal);
        Assert.Contains("No such image", HiveletException.Describe(e), StringComparison.Ordinal);
        Assert.Empty(Directory.EnumerateFileSystemEntries(directory));
    }

    [Fact]
    public void SaveToFile_ReplacesAnExistingArchiveWhole()
    {
        using var store = new StoreFixture();
        store.Load(ArchiveBuilder.Legacy((TestImage.Create("replace"), ["lab/replace:1"])));
        var file = store.Scratch("existing.tar");
        File.WriteAllText(file, "old content");

        store.Saver().SaveToFile(["lab/replace:1"], file, CancellationToken.None);

        Assert.Contains("manifest.json", ReadEntries(File.ReadAllBytes(file)).Keys);
        Assert.Single(Directory.EnumerateFiles(Path.GetDirectoryName(file)!, "existing.tar*"));
    }

    internal static byte[] SaveToBytes(StoreFixture store, params string[] images)
    {
        using var ms = new MemoryStream();
        store.Saver().Save(images, ms, "memory", CancellationToken.None);
        return ms.ToArray();
    }

    internal static Dictionary<string, byte[]> ReadEntries(byte[] archive)
    {
        var result = new Dictionary<string, byte[]>(StringComparer.Ordinal);
        using var reader = new TarReader(new MemoryStream(archive));
        TarEntry? entry;
        while ((entry = reader.GetNextEntry()) is not null)
        {
            using var data = new MemoryStream();
            reader.DataStream.CopyTo(data);
            result[entry.Name] = data.ToArray();
            Assert.Equal(DateTimeOffset.UnixEpoch, entry.ModifiedTime);
            Assert.Equal(0, entry.Uid);
        }
        return result;
    }
}
