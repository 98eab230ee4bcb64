using System.Text;
using Hivelet.Errors;
using Hivelet.Images.Oci;

namespace Hivelet.Images.Tests.Oci;

public sealed class ImageConfigParserTests
{
    private const string A = "sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
    private const string B = "sha256:bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";

    private static string Config(string rootfs = "{\"type\":\"layers\",\"diff_ids\":[\"" + A + "\",\"" + B + "\"]}",
        string platform = "\"architecture\":\"arm64\",\"os\":\"linux\",\"variant\":\"v8\",") =>
        "{" + platform +
        "\"created\":\"2024-01-02T03:04:05.123456789Z\"," +
        "\"config\":{\"Env\":[\"PATH=/bin\"],\"Cmd\":[\"sh\"],\"Labels\":{\"a\":\"b\"}}," +
        "\"rootfs\":" + rootfs + "," +
        "\"history\":[{\"created_by\":\"ADD file\"},{\"empty_layer\":true}]}";

    private static ImageConfig Parse(string json) => ManifestParser.ParseConfig(Encoding.UTF8.GetBytes(json));

    private static string Rejected(string json) => Assert.Throws<InvalidInputException>(() => Parse(json)).Message;

    [Fact]
    public void ReadsAConfigAndItsDiffIds()
    {
        var config = Parse(Config());
        Assert.Equal("arm64", config.Architecture);
        Assert.Equal(["sh"], config.Config!.Cmd!);
        Assert.Equal([Digest.Parse(A), Digest.Parse(B)], ManifestParser.DiffIds(config));
    }

    [Fact]
    public void EmptyLayerListIsFine() =>
        Assert.Empty(ManifestParser.DiffIds(Parse(Config("{\"type\":\"layers\",\"diff_ids\":[]}"))));

    [Theory]
    [InlineData("null", "no rootfs")]
    [InlineData("[]", "no rootfs")]
    [InlineData("{\"type\":\"layers\"}", "no rootfs.diff_ids")]
    [InlineData("{\"type\":\"layers\",\"diff_ids\":null}", "no rootfs.diff_ids")]
    [InlineData("{\"type\":\"tarsum\",\"diff_ids\":[]}", "rootfs.type \"tarsum\" is not \"layers\"")]
    [InlineData("{\"type\":\"layers\",\"diff_ids\":[\"" + A + "\",\"sha256:../../x\"]}", "rootfs.diff_ids[1]:")]
    [InlineData("{\"type\":\"layers\",\"diff_ids\":[null]}", "rootfs.diff_ids[0]: empty digest")]
    public void RootFsIsValidated(string rootfs, string fragment) =>
        Assert.Contains(fragment, Rejected(Config(rootfs)), StringComparison.Ordinal);

    [Fact]
    public void MissingRootFsIsRefused() =>
        Assert.Contains("no rootfs", Rejected("{\"architecture\":\"amd64\",\"os\":\"linux\"}"), StringComparison.Ordinal);

    [Theory]
    [InlineData("\"os\":\"linux\",", "no architecture")]
    [InlineData("\"architecture\":\"amd64\",", "no os")]
    public void PlatformFieldsAreRequired(string platform, string fragment) =>
        Assert.Contains(fragment, Rejected(Config(platform: platform)), StringComparison.Ordinal);

    [Theory]
    [InlineData(10)]
    [InlineData(100)]
    [InlineData(200)]
    public void TruncatedConfigIsAnInputError(int keep) =>
        Assert.Contains("image config: malformed JSON", Rejected(Config()[..keep]), StringComparison.Ordinal);

    [Fact]
    public void BadTimestampIsAnInputError() =>
        Assert.Contains("malformed JSON", Rejected(Config().Replace("2024-01-02T03:04:05.123456789Z", "yesterday",
            StringComparison.Ordinal)), StringComparison.Ordinal);

    [Fact]
    public void OversizedConfigIsRefused()
    {
        var e = Assert.Throws<InvalidInputException>(() => ManifestParser.ParseConfig(new byte[ManifestParser.MaxConfigSize + 1]));
        Assert.Contains("byte limit", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void LayerCountMustMatchDiffIds()
    {
        var config = Parse(Config());
        var manifest = new ImageManifest { Layers = [new Descriptor()] };
        var e = Assert.Throws<InvalidInputException>(() => ManifestParser.CheckLayerCount(manifest, config));
        Assert.Equal("image manifest: 1 layers but the config lists 2 diff_ids", e.Message);
        manifest.Layers.Add(new Descriptor());
        ManifestParser.CheckLayerCount(manifest, config);
    }
}
