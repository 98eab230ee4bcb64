using Hivelet.Errors;
using Hivelet.Images.Oci;
using Hivelet.Images.Platforms;

namespace Hivelet.Images.Tests.Platforms;

public sealed class PlatformTests
{
    [Theory]
    [InlineData("linux/arm64", "linux/arm64/v8")]
    [InlineData("linux/arm64/v8", "linux/arm64/v8")]
    [InlineData("linux/aarch64", "linux/arm64/v8")]
    [InlineData("linux/arm64/8", "linux/arm64/v8")]
    [InlineData("linux/arm64/v8.0", "linux/arm64/v8")]
    [InlineData("linux/arm64/v8.2", "linux/arm64/v8.2")]
    [InlineData("linux/arm64/9.0", "linux/arm64/v9")]
    [InlineData("linux/arm", "linux/arm/v7")]
    [InlineData("linux/arm/7", "linux/arm/v7")]
    [InlineData("linux/arm/v6", "linux/arm/v6")]
    [InlineData("linux/arm/6", "linux/arm/v6")]
    [InlineData("linux/arm/5", "linux/arm/v5")]
    [InlineData("linux/arm/8", "linux/arm/v8")]
    [InlineData("linux/armhf", "linux/arm/v7")]
    [InlineData("linux/armel", "linux/arm/v6")]
    [InlineData("linux/armv7l", "linux/arm/v7")]
    [InlineData("linux/armv6l", "linux/arm/v6")]
    [InlineData("linux/x86_64", "linux/amd64")]
    [InlineData("linux/x86-64", "linux/amd64")]
    [InlineData("linux/amd64/v1", "linux/amd64")]
    [InlineData("linux/amd64/v3", "linux/amd64/v3")]
    [InlineData("linux/i386", "linux/386")]
    [InlineData("Linux/AMD64", "linux/amd64")]
    [InlineData("macos/arm64", "darwin/arm64/v8")]
    [InlineData("arm64", "linux/arm64/v8")]
    [InlineData("aarch64", "linux/arm64/v8")]
    [InlineData("armhf", "linux/arm/v7")]
    [InlineData("linux/riscv64", "linux/riscv64")]
    [InlineData("windows(10.0.17763)/amd64", "windows(10.0.17763)/amd64")]
    public void NormalisesLikeContainerd(string input, string expected)
    {
        Assert.Equal(expected, PlatformSpec.Parse(input).ToString());
        Assert.Equal(PlatformSpec.Parse(input), PlatformSpec.Parse(expected));
    }

    [Theory]
    [InlineData("")]
    [InlineData("linux")]
    [InlineData("linux/arm64/v8/x")]
    [InlineData("linux//arm64")]
    [InlineData("linux/arm64/")]
    [InlineData("linux/arm 64")]
    [InlineData("windows(10/amd64")]
    public void RejectsMalformedPlatforms(string input)
    {
        var e = Assert.Throws<InvalidInputException>(() => PlatformSpec.Parse(input));
        Assert.StartsWith("invalid platform", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void FieldsOfAnIndexEntryAreNormalised()
    {
        var spec = PlatformSpec.From(new Platform { Os = "linux", Architecture = "arm64" });
        Assert.Equal("v8", spec.Variant);
        Assert.Null(PlatformSpec.Create("linux", "amd64", "v1").Variant);
        Assert.Equal("linux/arm/v7", PlatformSpec.Create(null, "arm").ToString());
    }

    [Theory]
    [InlineData("linux/arm64/v8", true, "linux/arm64/v8 linux/arm/v8 linux/arm/v7 linux/arm/v6 linux/arm/v5")]
    [InlineData("linux/arm64/v8", false, "linux/arm64/v8")]
    [InlineData("linux/arm64/v8.2", true, "linux/arm64/v8.2 linux/arm64/v8.1 linux/arm64/v8 linux/arm/v8 linux/arm/v7 linux/arm/v6 linux/arm/v5")]
    [InlineData("linux/arm64/v9.1", false, "linux/arm64/v9.1 linux/arm64/v9 linux/arm64/v8.6 linux/arm64/v8.5 linux/arm64/v8.4 linux/arm64/v8.3 linux/arm64/v8.2 linux/arm64/v8.1 linux/arm64/v8")]
    [InlineData("linux/arm/v8", true, "linux/arm/v8 linux/arm/v7 linux/arm/v6 linux/arm/v5")]
    [InlineData("linux/arm/v7", true, "linux/arm/v7 linux/arm/v6 linux/arm/v5")]
    [InlineData("linux/arm/v6", true, "linux/arm/v6 linux/arm/v5")]
    [InlineData("linux/arm/v5", true, "linux/arm/v5")]
    [InlineData("linux/amd64", true, "linux/amd64 linux/386")]
    [InlineData("linux/amd64/v3", true, "linux/amd64/v3 linux/amd64/v2 linux/amd64 linux/386")]
    [InlineData("linux/386", true, "linux/386")]
    [InlineData("linux/riscv64", true, "linux/riscv64")]
    public void PreferenceOrderFallsBackToOlderVariants(string want, bool arm32, string expected)
    {
        var matcher = new PlatformMatcher(allowArm32OnArm64: arm32);
        var order = matcher.Preferences(PlatformSpec.Parse(want)).Select(p => p.ToString());
        Assert.Equal(expected, string.Join(' ', order));
    }

    [Theory]
    [InlineData("linux/arm64/v8", "arm64", "", true)]
    [InlineData("linux/arm64/v8", "arm", "v7", true)]
    [InlineData("linux/arm64/v8", "amd64", "", false)]
    [InlineData("linux/arm/v6", "arm", "", false)]
    [InlineData("linux/arm/v7", "arm", "v6", true)]
    [InlineData("linux/arm/v7", "arm64", "", false)]
    [InlineData("linux/amd64", "386", "", true)]
    public void ChecksASingleImageConfig(string want, string arch, string variant, bool expected)
    {
        var config = new ImageConfig { Os = "linux", Architecture = arch, Variant = variant };
        Assert.Equal(expected, new PlatformMatcher().IsCompatible(PlatformSpec.Parse(want), config));
    }

    [Fact]
    public void ConfigOfAnotherOsIsIncompatibleAndAnEmptyOneIsNot()
    {
        var matcher = new PlatformMatcher();
        var want = PlatformSpec.Parse("linux/amd64");
        Assert.False(matcher.IsCompatible(want, new ImageConfig { Os = "windows", Architecture = "amd64" }));
        Assert.True(matcher.IsCompatible(want, new ImageConfig()));
    }
}
