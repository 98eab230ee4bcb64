using System.Text;
using Hivelet.Errors;
using Hivelet.Images.Archives;
using Hivelet.Images.Content;
using Hivelet.Images.Oci;

namespace Hivelet.Images.Tests.Archives;

public class ImageLoaderTests
{
    [Fact]
    public void LegacyDockerSave_WithSharedLayerSymlink_RecordsEveryTag()
    {
        using var store = new StoreFixture();
        var a = TestImage.Create("same layer");
        var b = TestImage.Create("same layer", architecture: "arm64", variant: "v8");
        Assert.Equal(a.DiffId, b.DiffId);

        var loaded = store.Load(ArchiveBuilder.Legacy((a, ["busybox:latest", "busybox:1"]), (b, ["127.0.0.1:5000/lab/app:arm"])));

        Assert.Equal(2, loaded.Count);
        Assert.Equal(new[] { "docker.io/library/busybox:latest", "docker.io/library/busybox:1" }, loaded[0].Names);
        Assert.Equal(a.ConfigDigest, loaded[0].Id);
        Assert.Equal(b.ConfigDigest, loaded[1].Id);
        var record = store.Images.Get("docker.io/library/busybox:1")!;
        Assert.Equal(MediaTypes.DockerManifest, record.Target.MediaType);
        Assert.Equal(a.ConfigDigest, record.ConfigDigest);
        // The built manifest is stored and reads back as the image, layer by its tar digest.
        var image = StoredImage.Load(record, store.Content);
        Assert.Equal(a.DiffId.ToString(), Assert.Single(image.Manifest.Layers).Digest);
        Assert.Equal(MediaTypes.OciLayer, image.Manifest.Layers[0].MediaType);
        Assert.True(store.Content.Exists(a.DiffId));
        Assert.NotNull(store.Images.Get("127.0.0.1:5000/lab/app:arm"));
        Assert.Equal(3, store.Images.List().Count);
    }

    [Fact]
    public void Docker25Archive_UsesIndexAndKeepsTheManifestDigest()
    {
        using var store = new StoreFixture();
        var image = TestImage.Create("docker 25", gzip: true);

        var loaded = Assert.Single(store.Load(ArchiveBuilder.Docker25((image, ["docker.io/library/alpine:3", "docker.io/lab/x:y"]))));

        Assert.Equal(new[] { "docker.io/library/alpine:3", "docker.io/lab/x:y" }, loaded.Names);
        var record = store.Images.Get("docker.io/lab/x:y")!;
        Assert.Equal(image.ManifestDigest.ToString(), record.Target.Digest);
        Assert.Equal(image.ManifestDigest, record.ManifestDigest);
        Assert.Equal(image.ConfigDigest, record.ConfigDigest);
        Assert.Equal("linux/amd64", record.Platform!.ToString());
        Assert.Null(record.Target.Annotations);
    }

    [Fact]
    public void Docker25Archive_WithoutManifestBlobs_FallsBackToManifestJson()
    {
        using var store = new StoreFixture();
        var image = TestImage.Create("index without manifest blob");
        var archive = ArchiveBuilder.Docker25((image, ["docker.io/lab/fallback:1"]));
        var entries = new List<(Hivelet.Images.Layers.TarEntry, byte[]?)>();
        using (var reader = new Hivelet.Images.Layers.TarReader(new MemoryStream(archive)))
        {
            Hivelet.Images.Layers.TarEntry? entry;
            while ((entry = reader.GetNextEntry()) is not null)
            {
                using var data = new MemoryStream();
                reader.DataStream.CopyTo(data);
                if (entry.Name != $"blobs/sha256/{image.ManifestDigest.Encoded}")
                    entries.Add((entry, data.ToArray()));
            }
        }

        var loaded = Assert.Single(store.Load(TestImage.Archive(entries)));

        Assert.Equal("docker.io/lab/fallback:1", Assert.Single(loaded.Names));
        Assert.Equal(MediaTypes.DockerManifest, loaded.Target.MediaType);
        Assert.Equal(image.ConfigDigest, loaded.Id);
    }

    [Fact]
    public void HardLinkedLayer_IsResolvedInsideTheArchive()
    {
        using var store = new StoreFixture();
        var image = TestImage.Create("hard linked");
        var manifest = $"[{{\"Config\":\"{image.ConfigDigest.Encoded}.json\",\"RepoTags\":[\"lab/hard:1\"],\"Layers\":[\"./second//layer.tar\"]}}]";
        var archive = TestImage.Archive([
            (TestImage.File("first/layer.tar"), image.LayerTar),
            (new Hivelet.Images.Layers.TarEntry { Name = "second/layer.tar", Type = Hivelet.Images.Layers.TarEntryType.HardLink, LinkName = "first/layer.tar" }, null),
            (TestImage.File($"{image.ConfigDigest.Encoded}.json"), image.Config),
            (TestImage.File("manifest.json"), Encoding.UTF8.GetBytes(manifest)),
        ]);

        var loaded = Assert.Single(store.Load(archive));

        Assert.Equal(image.ConfigDigest, loaded.Id);
        Assert.Equal(image.DiffId.ToString(), StoredImage.Load(store.Images.Get("docker.io/lab/hard:1")!, store.Content).Manifest.Layers[0].Digest);
    }

    [Fact]
    public void StaleTempFilesOfDeadLoads_AreRemoved()
    {
        using var store = new StoreFixture();
        Directory.CreateDirectory(store.Root.TmpDir);
        // pid 0 is never a process a load could have run as.
        var stale = Path.Combine(store.Root.TmpDir, $"load-0-{Guid.NewGuid():N}");
        var own = Path.Combine(store.Root.TmpDir, $"load-{Environment.ProcessId}-{Guid.NewGuid():N}");
        File.WriteAllText(stale, "partial layer");
        File.WriteAllText(own, "in use");

        int removed = new ImageArchiveReader(store.Content, store.Root.TmpDir).CleanStaleTemps();

        Assert.Equal(1, removed);
        Assert.False(File.Exists(stale));
        Assert.True(File.Exists(own));
    }

    [Fact]
    public void GzipCompressedArchive_IsDetectedByMagic()
    {
        using var store = new StoreFixture();
        var image = TestImage.Create("gzipped archive");

        var loaded = Assert.Single(store.Load(TestImage.Gzip(ArchiveBuilder.Legacy((image, ["lab/gz:1"]))), "x.tar.gz"));

        Assert.Equal("docker.io/lab/gz:1", Assert.Single(loaded.Names));
    }

    [Fact]
    public void OciLayout_MultiPlatform_ChoosesHostAndKeepsWholeIndex()
    {
        using var store = new StoreFixture();
        var amd = TestImage.Create("amd64 content");
        var arm = TestImage.Create("arm64 content", "arm64", "v8", gzip: true);
        var files = ArchiveBuilder.OciLayoutFiles("lab/multi:1", [arm, amd], out var platformIndex);

        var loaded = Assert.Single(store.Load(ArchiveBuilder.Tar(files)));

        var record = store.Images.Get("docker.io/lab/multi:1")!;
        Assert.Equal(Digest.ComputeSha256(platformIndex).ToString(), record.Target.Digest);
        Assert.Equal(MediaTypes.OciIndex, record.Target.MediaType);
        Assert.Equal(amd.ManifestDigest, record.ManifestDigest);
        Assert.Equal(amd.ConfigDigest, loaded.Id);
    }

    [Fact]
    public void OciLayout_WithAPlatformMissing_TargetsTheChosenManifest()
    {
        using var store = new StoreFixture();
        var amd = TestImage.Create("amd64 only here");
        var arm = TestImage.Create("arm64 left out", "arm64", "v8");
        var files = ArchiveBuilder.OciLayoutFiles("lab/partial:1", [amd, arm], out _, arm.LayerDigest);

        store.Load(ArchiveBuilder.Tar(files));

        var record = store.Images.Get("docker.io/lab/partial:1")!;
        Assert.Equal(amd.ManifestDigest.ToString(), record.Target.Digest);
        Assert.Equal(MediaTypes.OciManifest, record.Target.MediaType);
    }

    [Fact]
    public void OciLayout_ForeignPlatformOnly_IsStillLoaded()
    {
        using var store = new StoreFixture();
        var arm = TestImage.Create("arm only", "arm", "v7");
        var files = ArchiveBuilder.OciLayoutFiles("lab/arm:1", [arm], out _);

        var loaded = Assert.Single(store.Load(ArchiveBuilder.Tar(files)));

        Assert.Equal(arm.ManifestDigest, loaded.ManifestDigest);
        Assert.Equal("linux/arm/v7", loaded.Platform.ToString());
    }

    [Fact]
    public void OciLayout_BareTagRefName_IsLoadedUntagged()
    {
        using var store = new StoreFixture();
        var image = TestImage.Create("bare tag");
        var files = ArchiveBuilder.OciLayoutFiles("latest", [image], out var platformIndex);

        var loaded = Assert.Single(store.Load(ArchiveBuilder.Tar(files)));

        Assert.Empty(loaded.Names);
        var name = Assert.Single(loaded.RecordNames);
        Assert.Equal($"{ImageLoader.UntaggedRepository}@{Digest.ComputeSha256(platformIndex)}", name);
        Assert.Equal(image.ConfigDigest, store.Images.Get(name)!.ConfigDigest);
    }

    [Fact]
    public void UntaggedDockerSave_IsRecordedByDigestAndReportedById()
    {
        using var store = new StoreFixture();
        var image = TestImage.Create("no tags");

        var loaded = Assert.Single(store.Load(ArchiveBuilder.Legacy((image, null))));

        Assert.Empty(loaded.Names);
        Assert.Equal(image.ConfigDigest, loaded.Id);
        var record = Assert.Single(store.Images.List());
        Assert.StartsWith(ImageLoader.UntaggedRepository + "@sha256:", record.Name, StringComparison.Ordinal);
        Assert.Equal("<none>", StoredImage.Split(record).Tag);
    }

    [Fact]
    public void LoadingTwice_IsIdempotent()
    {
        using var store = new StoreFixture();
        var archive = ArchiveBuilder.Legacy((TestImage.Create("twice"), ["lab/twice:1"]));

        var first = Assert.Single(store.Load(archive));
        var second = Assert.Single(store.Load(archive));

        Assert.Equal(first.Target.Digest, second.Target.Digest);
        Assert.Single(store.Images.List());
    }

    public static TheoryData<string, string> HostileArchives() => new()
    {
        { "dotdot", "path escapes the archive" },
        { "absolute", "escapes the archive" },
        { "symlink-escape", "path escapes the archive" },
        { "missing-layer", "is missing from the archive" },
        { "digest-mismatch", "digest mismatch" },
        { "huge-json", "over the 20 MiB limit" },
        { "truncated", "truncated" },
        { "no-manifest", "neither manifest.json nor index.json" },
        { "diffid-mismatch", "diff_id" },
        { "layer-count", "diff_ids" },
        { "windows", "only linux images" },
        { "duplicate", "duplicate entry" },
        { "bad-tag", "RepoTags[0]" },
        { "corrupt-gzip", "corrupt" },
        { "empty", "the archive is empty" },
    };

    [Theory]
    [MemberData(nameof(HostileArchives))]
    public void HostileArchive_FailsClearlyAndRecordsNothing(string kind, string expected)
    {
        using var store = new StoreFixture();
        var archive = Hostile(kind);

        var e = Assert.ThrowsAny<HiveletException>(() => store.Load(archive, "evil.tar"));

        var message = HiveletException.Describe(e);
        Assert.StartsWith("load evil.tar: ", message, StringComparison.Ordinal);
        Assert.Contains(expected, message, StringComparison.Ordinal);
        Assert.Empty(store.Images.List());
        Assert.Empty(Directory.EnumerateFileSystemEntries(store.Root.TmpDir));
    }

    private static byte[] Hostile(string kind)
    {
        var image = TestImage.Create("hostile");
        var good = ArchiveBuilder.Legacy((image, ["lab/evil:1"]));
        string Manifest(string layer, string tags = "[\"lab/evil:1\"]") =>
            $"[{{\"Config\":\"{image.ConfigDigest.Encoded}.json\",\"RepoTags\":{tags},\"Layers\":[\"{layer}\"]}}]";
        byte[] With(params (Hivelet.Images.Layers.TarEntry, byte[]?)[] extra) =>
            TestImage.Archive(new (Hivelet.Images.Layers.TarEntry, byte[]?)[]
            {
                (TestImage.File($"{image.ConfigDigest.Encoded}.json"), image.Config),
                (TestImage.File($"{image.DiffId.Encoded}.tar"), image.LayerTar),
            }.Concat(extra));
        switch (kind)
        {
            case "dotdot":
                return With((TestImage.File("../../etc/evil"), "x"u8.ToArray()));
            case "absolute":
                return With((TestImage.File("/etc/evil"), "x"u8.ToArray()));
            case "symlink-escape":
                return With((TestImage.Symlink("abc/layer.tar", "../../etc/passwd"), null),
                    (TestImage.File("manifest.json"), Encoding.UTF8.GetBytes(Manifest("abc/layer.tar"))));
            case "missing-layer":
                return With((TestImage.File("manifest.json"), Encoding.UTF8.GetBytes(Manifest("nothere/layer.tar"))));
            case "digest-mismatch":
                var wrong = Digest.ComputeSha256("something else"u8);
                return TestImage.Archive([(TestImage.File($"blobs/sha256/{wrong.Encoded}"), image.LayerTar)]);
            case "huge-json":
                var huge = new byte[30 << 20];
                huge.AsSpan().Fill((byte)' ');
                huge[0] = (byte)'[';
                huge[^1] = (byte)']';
                return With((TestImage.File("manifest.json"), huge));
            case "truncated":
                return good[..(good.Length / 2)];
            case "no-manifest":
                return With();
            case "diffid-mismatch":
                var lying = TestImage.Create("hostile", diffIdOverride: Digest.ComputeSha256("other"u8).ToString());
                return ArchiveBuilder.Legacy((lying, ["lab/evil:1"]));
            case "layer-count":
                return With((TestImage.File("manifest.json"), Encoding.UTF8.GetBytes(
                    $"[{{\"Config\":\"{image.ConfigDigest.Encoded}.json\",\"RepoTags\":null,\"Layers\":[\"{image.DiffId.Encoded}.tar\",\"{image.DiffId.Encoded}.tar\"]}}]")));
            case "windows":
                var config = Encoding.UTF8.GetBytes(Encoding.UTF8.GetString(image.Config).Replace("\"os\":\"linux\"", "\"os\":\"windows\"", StringComparison.Ordinal));
                var cfg = Digest.ComputeSha256(config);
                return TestImage.Archive([
                    (TestImage.File($"{cfg.Encoded}.json"), config),
                    (TestImage.File($"{image.DiffId.Encoded}.tar"), image.LayerTar),
                    (TestImage.File("manifest.json"), Encoding.UTF8.GetBytes(
                        $"[{{\"Config\":\"{cfg.Encoded}.json\",\"RepoTags\":null,\"Layers\":[\"{image.DiffId.Encoded}.tar\"]}}]")),
                ]);
            case "duplicate":
                return With((TestImage.File("manifest.json"), "[]"u8.ToArray()), (TestImage.File("manifest.json"), "[]"u8.ToArray()));
            case "bad-tag":
                return With((TestImage.File("manifest.json"), Encoding.UTF8.GetBytes(Manifest($"{image.DiffId.Encoded}.tar", "[\"lab/evil:in valid\"]"))));
            case "corrupt-gzip":
                var gz = TestImage.Gzip(good);
                gz.AsSpan(20, 200).Fill(0x55);
                return gz;
            case "empty":
                return [];
            default:
                throw new ArgumentException(kind);
        }
    }
}
