using Hivelet.Errors;
using Hivelet.Images.Content;
using Hivelet.Images.Oci;
using Hivelet.IO;

namespace Hivelet.Images.Tests.Content;

public sealed class ImageStoreTests : IDisposable
{
    private readonly TempStore _t = new();

    public void Dispose() => _t.Dispose();

    private ImageStore Images => _t.Images;

    private static Digest D(string seed) => Digest.ComputeSha256(System.Text.Encoding.UTF8.GetBytes(seed));

    private static ImageRecord Record(string name, Digest config, string targetSeed = "index") => new()
    {
        Name = name,
        Target = new Descriptor { MediaType = MediaTypes.OciIndex, Digest = D(targetSeed).ToString(), Size = 1234 },
        ManifestDigest = D(targetSeed + "-manifest"),
        ConfigDigest = config,
        Platform = new Platform { Os = "linux", Architecture = "arm64", Variant = "v8" },
        Created = new DateTimeOffset(2026, 1, 2, 3, 4, 5, TimeSpan.Zero),
        RepoDigests = [$"docker.io/library/busybox@{D(targetSeed)}"],
    };

    [Fact]
    public void RoundTripsEveryField()
    {
        var r = Record("docker.io/library/busybox:latest", D("config"));
        Images.Put(r);
        var back = Images.Get(r.Name)!;
        Assert.Equal(r.Name, back.Name);
        Assert.Equal(r.Target.Digest, back.Target.Digest);
        Assert.Equal(r.Target.MediaType, back.Target.MediaType);
        Assert.Equal(1234, back.Target.Size);
        Assert.Equal(r.ManifestDigest, back.ManifestDigest);
        Assert.Equal(r.ConfigDigest, back.Id);
        Assert.Equal("linux/arm64/v8", back.Platform!.ToString());
        Assert.Equal(r.Created, back.Created);
        Assert.Equal(r.RepoDigests, back.RepoDigests);
    }

    [Fact]
    public void PutStampsCreatedWhenMissing()
    {
        var before = DateTimeOffset.UtcNow.AddSeconds(-1);
        Images.Put(Record("a:1", D("c")) with { Created = default });
        Assert.True(Images.Get("a:1")!.Created >= before);
    }

    [Fact]
    public void MissingNameIsNull() => Assert.Null(Images.Get("docker.io/library/nothing:latest"));

    [Fact]
    public void PutReplacesAtomicallyAndLeavesOneFile()
    {
        Images.Put(Record("docker.io/library/app:1", D("old")));
        Images.Put(Record("docker.io/library/app:1", D("old")) with { Created = DateTimeOffset.UnixEpoch.AddDays(1) });
        Assert.Equal(DateTimeOffset.UnixEpoch.AddDays(1), Images.Get("docker.io/library/app:1")!.Created);
        Assert.Single(Directory.GetFiles(_t.Root.ImagesDir));
    }

    [Fact]
    public void MovingANameKeepsTheOldImageUnderItsRepoDigest()
    {
        Images.Put(Record("docker.io/library/busybox:latest", D("old"), "old-index"));
        Images.Put(Record("docker.io/library/busybox:latest", D("new"), "new-index"));
        Assert.Equal(D("new"), Images.Get("docker.io/library/busybox:latest")!.Id);
        var kept = Images.Get($"docker.io/library/busybox@{D("old-index")}");
        Assert.NotNull(kept);
        Assert.Equal(D("old"), kept.Id);
        Assert.False(kept.IsDangling);
        Assert.Equal(("busybox", "<none>"), StoredImage.Split(kept));
        Assert.Equal(2, Images.List().Count);
    }

    [Fact]
    public void MovingANameWithoutRepoDigestLeavesADanglingImage()
    {
        Images.Put(Record("docker.io/library/app:1", D("old")) with { RepoDigests = [] });
        Images.Put(Record("docker.io/library/app:1", D("new")) with { RepoDigests = [] });
        var dangling = Assert.Single(Images.List(), r => r.Id == D("old"));
        Assert.True(dangling.IsDangling);
        Assert.Equal(ImageRecord.DanglingName(D("old")), dangling.Name);
        Assert.Equal(("<none>", "<none>"), StoredImage.Split(dangling));
        Assert.Equal([dangling.Name], Images.FindByIdPrefix(D("old").Encoded[..12]).Select(r => r.Name));
    }

    [Fact]
    public void NothingIsKeptWhenAnotherNameStillHoldsTheOldImage()
    {
        Images.Put(Record("docker.io/library/app:1", D("old")) with { RepoDigests = [] });
        Images.Put(Record("docker.io/library/app:stable", D("old")) with { RepoDigests = [] });
        Images.Put(Record("docker.io/library/app:1", D("new")) with { RepoDigests = [] });
        Assert.Equal(["docker.io/library/app:1", "docker.io/library/app:stable"], Images.List().Select(r => r.Name));
        Assert.DoesNotContain(Images.List(), r => r.IsDangling);
    }

    [Fact]
    public void NamingADanglingImageAgainRemovesItsDanglingRecord()
    {
        Images.Put(Record("docker.io/library/app:1", D("old")) with { RepoDigests = [] });
        Images.Put(Record("docker.io/library/app:1", D("new")) with { RepoDigests = [] });
        var dangling = Images.Get(ImageRecord.DanglingName(D("old")))!;
        Images.Put(dangling with { Name = "docker.io/library/app:old" });
        Assert.Equal(["docker.io/library/app:1", "docker.io/library/app:old"], Images.List().Select(r => r.Name));
    }

    [Fact]
    public void RepairRemovesADanglingRecordLeftByAKilledRetag()
    {
        // What a kill -9 between keeping the old image and moving its name leaves: the name still on
        // the old image, and a dangling record of that same image.
        Images.Put(Record("docker.io/library/app:1", D("old")) with { RepoDigests = [] });
        Images.Put(Record(ImageRecord.DanglingName(D("old")), D("old")) with { RepoDigests = [] });
        Images.Put(Record(ImageRecord.DanglingName(D("other")), D("other")) with { RepoDigests = [] });
        Assert.Equal(3, Images.List().Count);
        Assert.Equal(1, Images.Repair());
        Assert.Equal([ImageRecord.DanglingName(D("other")), "docker.io/library/app:1"], Images.List().Select(r => r.Name));
    }

    [Fact]
    public void NamesNeverBecomePaths()
    {
        var hostile = "../../../../etc/passwd@sha256:" + new string('0', 64);
        Images.Put(Record(hostile, D("c")));
        var file = Assert.Single(Directory.GetFiles(_t.Root.ImagesDir));
        Assert.Matches("^[0-9a-f]{64}\\.json$", Path.GetFileName(file));
        Assert.Equal(hostile, Images.Get(hostile)!.Name);
    }

    [Theory]
    [InlineData("")]
    [InlineData("name\nwith newline")]
    public void RejectsInvalidNames(string name) =>
        Assert.Throws<InvalidInputException>(() => Images.Put(Record(name, D("c"))));

    [Fact]
    public void RejectsRecordWithoutValidTarget()
    {
        var r = Record("x:1", D("c")) with { Target = new Descriptor { MediaType = MediaTypes.OciIndex, Digest = "sha256:../../x" } };
        Assert.Throws<InvalidInputException>(() => Images.Put(r));
    }

    [Fact]
    public void DeleteRemovesTheRecord()
    {
        Images.Put(Record("a:1", D("c")));
        Assert.True(Images.Delete("a:1"));
        Assert.False(Images.Delete("a:1"));
        Assert.Null(Images.Get("a:1"));
        Assert.Empty(Images.List());
    }

    [Fact]
    public void ListIsSortedAndSkipsCorruptAndTempFiles()
    {
        Images.Put(Record("b:1", D("c1")));
        Images.Put(Record("a:1", D("c2")));
        File.WriteAllText(Path.Combine(_t.Root.ImagesDir, new string('f', 64) + ".json"), "{ not json");
        File.WriteAllText(AtomicFile.TempPathFor(_t.Root.ImageRecordPath("c:1")), "{\"half\":");
        Assert.Equal(["a:1", "b:1"], Images.List().Select(r => r.Name));
        Assert.Equal(1, Images.Repair());
    }

    [Fact]
    public void CorruptRecordIsAClearErrorOnGet()
    {
        File.WriteAllText(_t.Root.ImageRecordPath("a:1"), "{\"name\":\"a:1\",\"target\":{},\"manifest\":\"sha256:nope\",\"config\":\"x\"}");
        var e = Assert.Throws<HiveletException>(() => Images.Get("a:1"));
        Assert.Contains("a:1", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void FindsByUniqueIdPrefix()
    {
        var id = Digest.Parse("sha256:3f57d9401f8d42f986df300f0c69192fc41da28ccc8d797829467780db3dd741");
        var other = Digest.Parse("sha256:3f11111111111111111111111111111111111111111111111111111111111111");
        Images.Put(Record("a:1", id));
        Images.Put(Record("a:2", id, "index2"));
        Images.Put(Record("b:1", other, "index3"));

        Assert.Equal(["a:1", "a:2"], Images.FindByIdPrefix("3f57").Select(r => r.Name));
        Assert.Equal(["a:1", "a:2"], Images.FindByIdPrefix("sha256:3f57d9401f8d").Select(r => r.Name));
        Assert.Equal(["b:1"], Images.FindByIdPrefix(other.Encoded).Select(r => r.Name));

        var ambiguous = Assert.Throws<InvalidInputException>(() => Images.FindByIdPrefix("3f"));
        Assert.Contains("ambiguous", ambiguous.Message, StringComparison.Ordinal);
        Assert.Contains(id.Short, ambiguous.Message, StringComparison.Ordinal);
        Assert.Throws<NotFoundException>(() => Images.FindByIdPrefix("0123"));
        Assert.Throws<InvalidInputException>(() => Images.FindByIdPrefix("../x"));
        Assert.Throws<InvalidInputException>(() => Images.FindByIdPrefix(""));
    }
}
