using System.Text;
using Hivelet.Errors;
using Hivelet.Images.Oci;

namespace Hivelet.Images.Tests.Oci;

public sealed class ManifestParserTests
{
    private const string A = "sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
    private const string B = "sha256:bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";
    private const string C = "sha256:cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc";

    private static string Manifest(
        string? mediaType = MediaTypes.OciManifest,
        string configType = MediaTypes.OciConfig,
        string layerType = MediaTypes.OciLayerGzip,
        string layerDigest = B,
        long layerSize = 32,
        string extra = "") =>
        "{\"schemaVersion\":2," +
        (mediaType is null ? "" : $"\"mediaType\":\"{mediaType}\",") +
        $"\"config\":{{\"mediaType\":\"{configType}\",\"digest\":\"{A}\",\"size\":7023}}," +
        $"\"layers\":[{{\"mediaType\":\"{layerType}\",\"digest\":\"{layerDigest}\",\"size\":{layerSize}}}," +
        $"{{\"mediaType\":\"{layerType}\",\"digest\":\"{C}\",\"size\":16}}]" +
        extra + "}";

    private static string Index(string? mediaType = MediaTypes.OciIndex, string entryDigest = B, string extra = "") =>
        "{\"schemaVersion\":2," +
        (mediaType is null ? "" : $"\"mediaType\":\"{mediaType}\",") +
        "\"manifests\":[" +
        $"{{\"mediaType\":\"{MediaTypes.OciManifest}\",\"digest\":\"{A}\",\"size\":100,\"platform\":{{\"architecture\":\"amd64\",\"os\":\"linux\"}}}}," +
        $"{{\"mediaType\":\"{MediaTypes.OciManifest}\",\"digest\":\"{entryDigest}\",\"size\":100,\"platform\":{{\"architecture\":\"arm64\",\"os\":\"linux\",\"variant\":\"v8\"}}}}" +
        "]" + extra + "}";

    private static ParsedDocument Parse(string json, string? contentType) =>
        ManifestParser.Parse(Encoding.UTF8.GetBytes(json), contentType);

    private static string Rejected(string json, string? contentType)
    {
        // Exactly InvalidInputException: never a JsonException or a NullReferenceException.
        var e = Assert.Throws<InvalidInputException>(() => Parse(json, contentType));
        Assert.DoesNotContain("System.", e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("Hivelet.", e.Message, StringComparison.Ordinal);
        return e.Message;
    }

    [Fact]
    public void ReadsAnOciManifest()
    {
        var doc = Parse(Manifest(), MediaTypes.OciManifest);
        Assert.False(doc.IsIndex);
        Assert.Equal(MediaTypes.OciManifest, doc.MediaType);
        Assert.Equal(A, doc.Manifest!.Config.Digest);
        Assert.Equal([B, C], doc.Manifest.Layers.Select(l => l.Digest));
    }

    [Fact]
    public void ReadsADockerSchema2Manifest()
    {
        var json = Manifest(MediaTypes.DockerManifest, MediaTypes.DockerConfig, MediaTypes.DockerLayerGzip);
        var doc = Parse(json, MediaTypes.DockerManifest + "; charset=utf-8");
        Assert.Equal(MediaTypes.DockerManifest, doc.MediaType);
        Assert.Equal(2, doc.Manifest!.Layers.Count);
    }

    [Theory]
    [InlineData(MediaTypes.OciIndex)]
    [InlineData(MediaTypes.DockerManifestList)]
    public void ReadsIndexes(string mediaType)
    {
        var doc = Parse(Index(mediaType), mediaType);
        Assert.True(doc.IsIndex);
        Assert.Equal(mediaType, doc.MediaType);
        Assert.Equal("arm64", doc.Index!.Manifests[1].Platform!.Architecture);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("application/json")]
    [InlineData("application/octet-stream")]
    [InlineData("text/plain")]
    public void InfersTheKindWhenNothingSaysIt(string? contentType)
    {
        Assert.Equal(MediaTypes.OciIndex, Parse(Index(mediaType: null), contentType).MediaType);
        Assert.Equal(MediaTypes.OciManifest, Parse(Manifest(mediaType: null), contentType).MediaType);
    }

    [Fact]
    public void ContentTypeNamesTheKindWhenTheBodyDoesNot() =>
        Assert.Equal(MediaTypes.DockerManifestList, Parse(Index(mediaType: null), MediaTypes.DockerManifestList).MediaType);

    [Fact]
    public void EmbeddedTypeNamesTheKindWhenTheContentTypeDoesNot() =>
        Assert.Equal(MediaTypes.DockerManifest,
            Parse(Manifest(MediaTypes.DockerManifest, MediaTypes.DockerConfig), "application/octet-stream").MediaType);

    [Fact]
    public void IgnoresUnknownFieldsAndKeepsAnnotations()
    {
        var extra = ",\"annotations\":{\"org.opencontainers.image.title\":\"x\"},\"future\":{\"a\":[1,2,{}]}";
        var doc = Parse(Manifest(extra: extra), MediaTypes.OciManifest);
        Assert.Equal("x", doc.Manifest!.Annotations!["org.opencontainers.image.title"]);
    }

    public static TheoryData<int> Cuts => [1, 2, 15, 40, 90, 200, 300];

    [Theory]
    [MemberData(nameof(Cuts))]
    public void TruncatedJsonIsAnInputError(int keep)
    {
        var json = Manifest();
        Assert.Contains("malformed JSON", Rejected(json[..Math.Min(keep, json.Length - 1)], MediaTypes.OciManifest),
            StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("null")]
    [InlineData("[]")]
    [InlineData("\"manifest\"")]
    [InlineData("{\"schemaVersion\":\"2\"}")]
    [InlineData("{\"schemaVersion\":2,\"config\":{},\"layers\":{}}")]
    [InlineData("{\"schemaVersion\":2,} ")]
    [InlineData("{'schemaVersion':2}")]
    [InlineData("{\"schemaVersion\":2 /* c */}")]
    [InlineData("{\"schemaVersion\":99999999999}")]
    public void MalformedJsonIsAnInputError(string json) =>
        Assert.Contains("malformed JSON", Rejected(json, null), StringComparison.Ordinal);

    [Fact]
    public void InvalidUtf8IsAnInputError() =>
        Assert.Throws<InvalidInputException>(() => ManifestParser.Parse([0x7B, 0xFF, 0xFE, 0x7D], null));

    [Fact]
    public void EmptyBodyIsAnInputError() => Assert.Contains("empty", Rejected("", MediaTypes.OciManifest), StringComparison.Ordinal);

    [Fact]
    public void DeepNestingIsRefused()
    {
        var deep = new string('[', 200) + new string(']', 200);
        Assert.Contains("malformed JSON", Rejected(Manifest(extra: ",\"x\":" + deep), null), StringComparison.Ordinal);
    }

    [Fact]
    public void DuplicateKeysAreRefused()
    {
        // One parser could read the first mediaType, another the last.
        var json = Manifest(extra: $",\"mediaType\":\"{MediaTypes.OciIndex}\"");
        var message = Rejected(json, null);
        Assert.Contains("malformed JSON", message, StringComparison.Ordinal);
        Assert.Contains("mediaType", message, StringComparison.Ordinal);
    }

    [Fact]
    public void HugeDocumentIsRefusedAtTheLimit()
    {
        var body = Encoding.UTF8.GetBytes(Manifest());
        var atLimit = new byte[ManifestParser.MaxDocumentSize];
        atLimit.AsSpan().Fill((byte)' ');
        body.CopyTo(atLimit, 0);
        Assert.Equal(2, ManifestParser.Parse(atLimit, MediaTypes.OciManifest).Manifest!.Layers.Count);

        var over = new byte[ManifestParser.MaxDocumentSize + 1];
        over.AsSpan().Fill((byte)' ');
        body.CopyTo(over, 0);
        var e = Assert.Throws<InvalidInputException>(() => ManifestParser.Parse(over, MediaTypes.OciManifest));
        Assert.Contains("over the 4194304 byte limit", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("{\"schemaVersion\":1,\"name\":\"x\",\"tag\":\"y\",\"fsLayers\":[{\"blobSum\":\"" + A + "\"}]}", null)]
    [InlineData("{\"schemaVersion\":2,\"fsLayers\":[]}", null)]
    [InlineData("{\"schemaVersion\":1}", null)]
    [InlineData("{\"schemaVersion\":2,\"mediaType\":\"" + MediaTypes.DockerSchema1 + "\"}", null)]
    [InlineData("{}", MediaTypes.DockerSchema1Signed)]
    public void Schema1IsRefusedClearly(string json, string? contentType) =>
        Assert.Contains("unsupported: Docker schema 1 manifests are deprecated", Rejected(json, contentType),
            StringComparison.Ordinal);

    [Theory]
    [InlineData("{\"schemaVersion\":3,\"manifests\":[]}", "schemaVersion 3")]
    [InlineData("{\"manifests\":[]}", "schemaVersion 0")]
    [InlineData("{\"schemaVersion\":-2,\"manifests\":[]}", "schemaVersion -2")]
    public void OnlySchemaVersion2IsRead(string json, string fragment) =>
        Assert.Contains(fragment, Rejected(json, null), StringComparison.Ordinal);

    [Theory]
    [InlineData(MediaTypes.OciManifest, MediaTypes.OciIndex)]
    [InlineData(MediaTypes.DockerManifestList, MediaTypes.OciIndex)]
    [InlineData(MediaTypes.DockerManifest, MediaTypes.OciManifest)]
    public void ContentTypeMustMatchTheEmbeddedMediaType(string contentType, string embedded)
    {
        var json = MediaTypes.IsIndex(embedded) ? Index(embedded) : Manifest(embedded);
        Assert.Contains("does not match the embedded mediaType", Rejected(json, contentType), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(null, null)]
    [InlineData(MediaTypes.OciIndex, MediaTypes.OciIndex)]
    [InlineData(MediaTypes.OciManifest, null)]
    [InlineData(null, MediaTypes.OciManifest)]
    public void DocumentWithManifestsAndLayersIsAmbiguous(string? embedded, string? contentType)
    {
        var layers = $",\"config\":{{\"mediaType\":\"{MediaTypes.OciConfig}\",\"digest\":\"{A}\",\"size\":1}},\"layers\":[]";
        Assert.Contains("ambiguous", Rejected(Index(embedded, extra: layers), contentType), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("{\"schemaVersion\":2,\"mediaType\":\"" + MediaTypes.OciIndex + "\"}", "no \"manifests\"")]
    [InlineData("{\"schemaVersion\":2,\"mediaType\":\"" + MediaTypes.OciIndex + "\",\"layers\":[]}", "has \"layers\"")]
    [InlineData("{\"schemaVersion\":2,\"mediaType\":\"" + MediaTypes.OciManifest + "\",\"layers\":[]}", "no \"config\"")]
    [InlineData("{\"schemaVersion\":2,\"mediaType\":\"" + MediaTypes.OciManifest + "\",\"manifests\":[]}", "has \"manifests\"")]
    [InlineData("{\"schemaVersion\":2}", "neither an index")]
    [InlineData("{\"schemaVersion\":2,\"manifests\":null}", "neither an index")]
    public void DeclaredKindMustMatchTheFields(string json, string fragment) =>
        Assert.Contains(fragment, Rejected(json, null), StringComparison.Ordinal);

    [Fact]
    public void ManifestNeedsLayers()
    {
        var json = $"{{\"schemaVersion\":2,\"config\":{{\"mediaType\":\"{MediaTypes.OciConfig}\",\"digest\":\"{A}\",\"size\":1}}}}";
        Assert.Contains("no \"layers\"", Rejected(json, null), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("application/vnd.oci.artifact.manifest.v1+json", null, "unsupported mediaType")]
    [InlineData(null, "text/html", "unsupported content type \"text/html\"")]
    [InlineData(null, MediaTypes.OciConfig, "unsupported content type")]
    public void UnknownDocumentTypesAreRefused(string? embedded, string? contentType, string fragment) =>
        Assert.Contains(fragment, Rejected(Manifest(embedded), contentType), StringComparison.Ordinal);

    [Theory]
    [InlineData("sha256:BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB")]
    [InlineData("sha256:../../../../etc/passwd")]
    [InlineData("md5:d41d8cd98f00b204e9800998ecf8427e")]
    [InlineData("")]
    public void EveryLayerDigestIsValidated(string digest) =>
        Assert.Contains("image manifest: layers[0]:", Rejected(Manifest(layerDigest: digest), null), StringComparison.Ordinal);

    [Fact]
    public void EveryIndexEntryDigestIsValidated() =>
        Assert.Contains("image index: manifests[1]: invalid digest", Rejected(Index(entryDigest: "sha256:1234"), null),
            StringComparison.Ordinal);

    [Fact]
    public void NegativeSizesAreRefused() =>
        Assert.Contains("layers[0]: negative size -1", Rejected(Manifest(layerSize: -1), null), StringComparison.Ordinal);

    [Theory]
    [InlineData("application/vnd.oci.empty.v1+json")]
    [InlineData("application/vnd.cncf.helm.config.v1+json")]
    [InlineData(MediaTypes.OciLayerGzip)]
    public void ConfigMustBeAnImageConfig(string configType) =>
        Assert.Contains("is not a container image config", Rejected(Manifest(configType: configType), null),
            StringComparison.Ordinal);

    [Fact]
    public void LayerMediaTypeIsChecked() =>
        Assert.Contains("layers[0]: unsupported layer media type", Rejected(Manifest(layerType: "application/x-tar"), null),
            StringComparison.Ordinal);

    [Fact]
    public void DescriptorsNeedAMediaType()
    {
        var json = Index(extra: "").Replace($"\"mediaType\":\"{MediaTypes.OciManifest}\",", "", StringComparison.Ordinal);
        Assert.Contains("manifests[0]: no mediaType", Rejected(json, null), StringComparison.Ordinal);
    }

    [Fact]
    public void NullDescriptorsAreRefused()
    {
        var json = $"{{\"schemaVersion\":2,\"config\":{{\"mediaType\":\"{MediaTypes.OciConfig}\",\"digest\":\"{A}\",\"size\":1}},\"layers\":[null]}}";
        Assert.Contains("layers[0]: null descriptor", Rejected(json, null), StringComparison.Ordinal);
    }

    [Fact]
    public void SubjectDigestIsValidated()
    {
        var extra = $",\"subject\":{{\"mediaType\":\"{MediaTypes.OciManifest}\",\"digest\":\"sha256:x\",\"size\":1}}";
        Assert.Contains("subject:", Rejected(Manifest(extra: extra), null), StringComparison.Ordinal);
    }
}
