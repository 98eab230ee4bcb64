using Hivelet.Errors;
using Hivelet.Images.Oci;

namespace Hivelet.Images.Tests;

public sealed class DigestTests
{
    private const string Empty = "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

    [Fact]
    public void ComputesSha256OfEmptyInput() => Assert.Equal(Empty, Digest.ComputeSha256([]).ToString());

    [Theory]
    [InlineData("sha256:E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855")]
    [InlineData("sha256:../../etc/passwd")]
    [InlineData("sha256:abc")]
    [InlineData("md5:d41d8cd98f00b204e9800998ecf8427e")]
    [InlineData("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")]
    [InlineData("")]
    public void RejectsMalformedDigests(string value) =>
        Assert.Throws<InvalidInputException>(() => Digest.Parse(value));

    [Fact]
    public void ChainIdOfOneLayerIsItsDiffId()
    {
        var d = Digest.Parse(Empty);
        Assert.Equal(d, ChainId.Compute([d])[0]);
    }

    [Fact]
    public void ChainIdHashesParentSpaceDiff()
    {
        var a = Digest.ComputeSha256("a"u8);
        var b = Digest.ComputeSha256("b"u8);
        var expected = Digest.ComputeSha256(System.Text.Encoding.ASCII.GetBytes($"{a} {b}"));
        Assert.Equal(expected, ChainId.Compute([a, b])[1]);
    }
}
