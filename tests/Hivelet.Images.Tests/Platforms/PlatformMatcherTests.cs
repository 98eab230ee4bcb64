using Hivelet.Errors;
using Hivelet.Images.Oci;
using Hivelet.Images.Platforms;

namespace Hivelet.Images.Tests.Platforms;

public sealed class PlatformMatcherTests
{
    private static int _next;

    private static Descriptor Entry(string? os, string? arch, string? variant = null,
        string mediaType = MediaTypes.OciManifest, Dictionary<string, string>? annotations = null) => new()
        {
            MediaType = mediaType,
            Digest = "sha256:" + Interlocked.Increment(ref _next).ToString("x64", System.Globalization.CultureInfo.InvariantCulture),
            Size = 500,
            Platform = os is null ? null : new Platform { Os = os, Architecture = arch!, Variant = variant },
            Annotations = annotations,
        };

    private static ImageIndex Index(params Descriptor[] entries) => new() { SchemaVersion = 2, Manifests = [.. entries] };

    /// <summary>The shape of a Docker Hub official image index, attestations included.</summary>
    private static ImageIndex Official(out Dictionary<string, Descriptor> byPlatform)
    {
        byPlatform = new()
        {
            ["amd64"] = Entry("linux", "amd64"),
            ["arm/v5"] = Entry("linux", "arm", "v5"),
            ["arm/v6"] = Entry("linux", "arm", "v6"),
            ["arm/v7"] = Entry("linux", "arm", "v7"),
            ["arm64"] = Entry("linux", "arm64", "v8"),
            ["386"] = Entry("linux", "386"),
            ["ppc64le"] = Entry("linux", "ppc64le"),
        };
        var attestation = Entry("unknown", "unknown", annotations: new()
        {
            [PlatformMatcher.ReferenceTypeAnnotation] = "attestation-manifest",
        });
        return Index([attestation, .. byPlatform.Values]);
    }

    [Theory]
    [InlineData("linux/arm64/v8", "arm64")]
    [InlineData("linux/arm/v7", "arm/v7")]
    [InlineData("linux/arm/v6", "arm/v6")]
    [InlineData("linux/arm/v5", "arm/v5")]
    [InlineData("linux/amd64", "amd64")]
    [InlineData("linux/386", "386")]
    public void PicksTheExactEntryOfAnOfficialImage(string want, string key)
    {
        var index = Official(out var byPlatform);
        Assert.Same(byPlatform[key], new PlatformMatcher().Select(index, PlatformSpec.Parse(want)));
    }

    [Fact]
    public void Arm64FallsBackToTheNewest32BitVariantWhateverTheOrder()
    {
        var v6 = Entry("linux", "arm", "v6");
        var v7 = Entry("linux", "arm", "v7");
        var index = Index(Entry("linux", "amd64"), v6, v7);
        Assert.Same(v7, new PlatformMatcher().Select(index, PlatformSpec.Parse("linux/arm64")));
    }

    [Fact]
    public void Arm32FallbackCanBeTurnedOff()
    {
        var index = Index(Entry("linux", "amd64"), Entry("linux", "arm", "v7"));
        var e = Assert.Throws<NotFoundException>(() =>
            new PlatformMatcher(allowArm32OnArm64: false).Select(index, PlatformSpec.Parse("linux/arm64")));
        Assert.Equal(
            "no matching manifest for linux/arm64/v8 in the manifest list entries (offers linux/amd64, linux/arm/v7)",
            e.Message);
    }

    [Fact]
    public void Armv6HostCannotRunV7()
    {
        var index = Index(Entry("linux", "arm", "v7"), Entry("linux", "arm64"));
        var e = Assert.Throws<NotFoundException>(() => new PlatformMatcher().Select(index, PlatformSpec.Parse("linux/arm/v6")));
        Assert.Contains("(offers linux/arm/v7, linux/arm64/v8)", e.Message, StringComparison.Ordinal);
        Assert.Null(new PlatformMatcher().TrySelect(index, PlatformSpec.Parse("linux/arm/v6")));
    }

    [Fact]
    public void FirstEntryWinsAmongEqualRanks()
    {
        var first = Entry("linux", "arm64");
        var second = Entry("linux", "arm64", "v8");
        Assert.Same(first, new PlatformMatcher().Select(Index(first, second), PlatformSpec.Parse("linux/arm64/v8")));
    }

    [Fact]
    public void EntryWithoutVariantMeansTheDefaultVariant()
    {
        var arm = Entry("linux", "arm");
        var index = Index(arm);
        Assert.Same(arm, new PlatformMatcher().Select(index, PlatformSpec.Parse("linux/arm/v7")));
        Assert.Null(new PlatformMatcher().TrySelect(index, PlatformSpec.Parse("linux/arm/v6")));
    }

    [Fact]
    public void SkipsUnknownMediaTypesNestedIndexesAndAttestations()
    {
        var good = Entry("linux", "arm64");
        var index = Index(
            Entry("linux", "arm64", mediaType: "application/vnd.example.unknown+json"),
            Entry("linux", "arm64", mediaType: MediaTypes.OciIndex),
            Entry("linux", "arm64", annotations: new() { [PlatformMatcher.ReferenceTypeAnnotation] = "attestation-manifest" }),
            good);
        Assert.Same(good, new PlatformMatcher().Select(index, PlatformSpec.Parse("linux/arm64")));
    }

    [Fact]
    public void AttestationsAreNotOffered()
    {
        var index = Index(Entry("linux", "amd64"), Entry("unknown", "unknown"));
        var e = Assert.Throws<NotFoundException>(() => new PlatformMatcher().Select(index, PlatformSpec.Parse("linux/arm64")));
        Assert.EndsWith("(offers linux/amd64)", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void EmptyIndexOffersNothing()
    {
        var e = Assert.Throws<NotFoundException>(() => new PlatformMatcher().Select(Index(), PlatformSpec.Parse("linux/amd64")));
        Assert.EndsWith("(offers no runnable platform)", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void OtherOperatingSystemsAndRequiredOsFeaturesDoNotMatch()
    {
        var windows = Entry("windows", "amd64");
        var featured = Entry("linux", "amd64");
        featured.Platform!.OsFeatures = ["win32k"];
        Assert.Null(new PlatformMatcher().TrySelect(Index(windows, featured), PlatformSpec.Parse("linux/amd64")));
    }

    [Fact]
    public void EntryWithoutPlatformIsTheLastResort()
    {
        var bare = Entry(null, null);
        var arm = Entry("linux", "arm", "v7");
        var matcher = new PlatformMatcher();
        Assert.Same(arm, matcher.Select(Index(bare, arm), PlatformSpec.Parse("linux/arm64")));
        Assert.Same(bare, matcher.Select(Index(bare, Entry("linux", "amd64")), PlatformSpec.Parse("linux/arm64")));
    }

    [Fact]
    public void RawSpellingsInEntriesAreNormalised()
    {
        var entry = Entry("Linux", "aarch64", "8");
        Assert.Same(entry, new PlatformMatcher().Select(Index(entry), PlatformSpec.Parse("linux/arm64/v8")));
    }

    [Fact]
    public void Amd64FallsBackTo386()
    {
        var i386 = Entry("linux", "386");
        Assert.Same(i386, new PlatformMatcher().Select(Index(Entry("linux", "arm64"), i386), PlatformSpec.Parse("linux/amd64")));
    }
}
