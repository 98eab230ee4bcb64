using Hivelet.Errors;
using Hivelet.Images.References;

namespace Hivelet.Images.Tests.References;

public sealed class ReferenceTests
{
    private const string Hex = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
    private const string Sha = "sha256:" + Hex;

    public static TheoryData<string, string> Valid => new()
    {
        { "busybox", "docker.io/library/busybox:latest" },
        { "busybox:1.36", "docker.io/library/busybox:1.36" },
        { "library/busybox", "docker.io/library/busybox:latest" },
        { "docker.io/busybox", "docker.io/library/busybox:latest" },
        { "docker.io/library/busybox:musl", "docker.io/library/busybox:musl" },
        { "index.docker.io/busybox", "docker.io/library/busybox:latest" },
        { "index.docker.io/lab/app:1", "docker.io/lab/app:1" },
        { "lab/app:1", "docker.io/lab/app:1" },
        { "a/b/c/d", "docker.io/a/b/c/d:latest" },
        { "docker.io/library/a/b", "docker.io/library/a/b:latest" },
        { "localhost/app", "localhost/app:latest" },
        { "localhost:5000/app", "localhost:5000/app:latest" },
        { "localhost:5000/app:v1", "localhost:5000/app:v1" },
        // No slash: never a domain, so "localhost:5000" is image "localhost" with tag "5000".
        { "localhost", "docker.io/library/localhost:latest" },
        { "localhost:5000", "docker.io/library/localhost:5000" },
        { "example.com", "docker.io/library/example.com:latest" },
        { "example.com/app", "example.com/app:latest" },
        { "127.0.0.1:5000/lab/app:1", "127.0.0.1:5000/lab/app:1" },
        { "[::1]:5000/app:tag", "[::1]:5000/app:tag" },
        { "[::1]/app", "[::1]/app:latest" },
        { "[2001:db8::1]:443/x/y", "[2001:db8::1]:443/x/y:latest" },
        // Uppercase marks the first component as a domain (it cannot be a Hub user).
        { "Foo/bar", "Foo/bar:latest" },
        { "UPPER.example/app", "UPPER.example/app:latest" },
        { "a-b.example.com/x", "a-b.example.com/x:latest" },
        { "xn--bcher-kva.example/x", "xn--bcher-kva.example/x:latest" },
        { "0/1", "docker.io/0/1:latest" },
        { "a__b/c.d/e--f_g:TAG_1.0-rc", "docker.io/a__b/c.d/e--f_g:TAG_1.0-rc" },
        { "a---b:_x", "docker.io/library/a---b:_x" },
        { "busybox@" + Sha, "docker.io/library/busybox@" + Sha },
        { "busybox:1.36@" + Sha, "docker.io/library/busybox:1.36@" + Sha },
        { "my-registry.local:8443/team/app@" + Sha, "my-registry.local:8443/team/app@" + Sha },
        // Looks like a digest but is image "sha256" with a 64-character tag.
        { Sha, "docker.io/library/sha256:" + Hex },
        { "x:" + Long128, "docker.io/library/x:" + Long128 },
    };

    private const string Long128 =
        "t123456789012345678901234567890123456789012345678901234567890123" +
        "4567890123456789012345678901234567890123456789012345678901234567";

    public static TheoryData<string, string> Invalid => new()
    {
        { "", "at least one component" },
        { "Busybox", "repository name (library/Busybox) must be lowercase" },
        { "BUSYBOX:latest", "repository name (library/BUSYBOX) must be lowercase" },
        { "docker.io/Busybox", "repository name (library/Busybox) must be lowercase" },
        { "localhost:5000/App", "repository name (App) must be lowercase" },
        { Hex, "cannot specify 64-byte hexadecimal strings" },
        { "busybox:", "invalid tag \"\"" },
        { "busybox:-x", "invalid tag \"-x\"" },
        { "busybox:.x", "invalid tag \".x\"" },
        { "busybox:a:b", "invalid tag \"a:b\"" },
        // A colon before the first slash makes the first component a domain with a port.
        { "busybox:a/b", "invalid port \"a\" in domain \"busybox:a\"" },
        { "busybox:" + Long128 + "9", "invalid tag" },
        { "busybox@sha256:abc", "sha256 needs 64 lowercase hex characters" },
        { "busybox@sha256:" + "0123456789ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef", "lowercase hex" },
        { "busybox@md5:d41d8cd98f00b204e9800998ecf8427e", "unsupported digest algorithm" },
        { "busybox@", "empty digest" },
        { "busybox@" + Sha + "@" + Sha, "invalid digest" },
        { "@" + Sha, "empty path component" },
        { ":tag", "empty path component" },
        { "a//b", "empty path component" },
        { "a/", "empty path component" },
        { "/a", "empty path component" },
        { "-a", "invalid path component \"-a\"" },
        { "a-", "invalid path component \"a-\"" },
        { "a..b", "invalid path component \"a..b\"" },
        { "a___b", "invalid path component \"a___b\"" },
        { "a._b", "invalid path component \"a._b\"" },
        { " busybox", "invalid path component" },
        { "host:5000/a b", "invalid path component \"a b\"" },
        { "localhost:abc/x", "invalid port \"abc\"" },
        { "localhost:99999/x", "invalid port \"99999\"" },
        { "localhost:/x", "invalid port \"\"" },
        { "-bad.com/x", "invalid domain \"-bad.com\"" },
        { "bad-.com/x", "invalid domain \"bad-.com\"" },
        { "ex..com/x", "invalid domain \"ex..com\"" },
        { "under_score.com/x", "invalid domain" },
        { "[::1/x", "unterminated IPv6 address" },
        { "[zz::1]:5000/x", "invalid IPv6 address" },
        { "[::1]x/y", "invalid domain \"[::1]x\"" },
        { "a/" + Long250, "must not be more than 255 characters" },
        { "user@host/app", "invalid digest" },
    };

    private static readonly string Long250 = new('b', 250);

    [Theory]
    [MemberData(nameof(Valid))]
    public void ParsesAndNormalises(string input, string expected)
    {
        var reference = ImageReference.Parse(input);
        Assert.Equal(expected, reference.ToString());
        Assert.True(ImageReference.TryParse(input, out var again));
        Assert.Equal(reference, again);
        // The normalised form is itself a valid reference meaning the same thing.
        Assert.Equal(reference, ImageReference.Parse(reference.ToString()));
    }

    [Theory]
    [MemberData(nameof(Invalid))]
    public void RejectsWithDockerLikeMessage(string input, string fragment)
    {
        var e = Assert.Throws<InvalidInputException>(() => ImageReference.Parse(input));
        Assert.Contains(fragment, e.Message, StringComparison.Ordinal);
        Assert.False(ImageReference.TryParse(input, out _));
    }

    [Fact]
    public void TableIsLargeEnough() => Assert.True(Valid.Count + Invalid.Count >= 40);

    [Fact]
    public void LowercaseMessageIsExactlyDockers()
    {
        var e = Assert.Throws<InvalidInputException>(() => ImageReference.Parse("Busybox"));
        Assert.Equal("invalid reference format: repository name (library/Busybox) must be lowercase", e.Message);
    }

    [Fact]
    public void NameLengthCountsTheDomain()
    {
        // docker.io/library/ is 18 characters: 237 more make exactly 255.
        var fits = new string('a', 237);
        Assert.Equal(255, ImageReference.Parse(fits).Name.Length);
        Assert.Throws<InvalidInputException>(() => ImageReference.Parse(fits + "a"));
    }

    [Fact]
    public void SplitsIntoParts()
    {
        var r = ImageReference.Parse("[::1]:5000/lab/app:1.2@" + Sha);
        Assert.Equal("[::1]:5000", r.Domain);
        Assert.Equal("lab/app", r.Repository);
        Assert.Equal("1.2", r.Tag);
        Assert.Equal(Sha, r.Digest.ToString());
        Assert.Equal("[::1]:5000/lab/app", r.Name);
    }

    [Fact]
    public void DigestWinsForResolutionButTagIsKeptForDisplay()
    {
        var r = ImageReference.Parse("busybox:1.36@" + Sha);
        Assert.Equal(Sha, r.ManifestReference);
        Assert.True(r.IsPinned);
        Assert.Equal("busybox:1.36@" + Sha, r.FamiliarString());
        Assert.Equal("1.36", ImageReference.Parse("busybox:1.36").ManifestReference);
        Assert.False(ImageReference.Parse("busybox:1.36").IsPinned);
    }

    [Fact]
    public void DefaultTagOnlyWhenNeitherTagNorDigest()
    {
        var bare = ImageReference.Parse("busybox", addDefaultTag: false);
        Assert.Null(bare.Tag);
        Assert.Equal("latest", bare.ManifestReference);
        Assert.Equal("latest", bare.WithDefaultTag().Tag);

        var pinned = ImageReference.Parse("busybox@" + Sha);
        Assert.Null(pinned.Tag);
        Assert.Same(pinned, pinned.WithDefaultTag());
    }

    [Theory]
    [InlineData("busybox", "busybox", "busybox:latest")]
    [InlineData("docker.io/library/busybox:1", "busybox", "busybox:1")]
    [InlineData("lab/app:1", "lab/app", "lab/app:1")]
    [InlineData("docker.io/library/a/b", "library/a/b", "library/a/b:latest")]
    [InlineData("127.0.0.1:5000/x:y", "127.0.0.1:5000/x", "127.0.0.1:5000/x:y")]
    [InlineData("localhost/library/x", "localhost/library/x", "localhost/library/x:latest")]
    [InlineData("busybox@" + Sha, "busybox", "busybox@" + Sha)]
    public void FamiliarFormIsWhatDockerShows(string input, string name, string full)
    {
        var r = ImageReference.Parse(input);
        Assert.Equal(name, r.FamiliarName);
        Assert.Equal(full, r.FamiliarString());
    }

    [Fact]
    public void NullIsNotAReference() => Assert.False(ImageReference.TryParse(null, out _));
}
