using System.Security.Cryptography;
using Hivelet.Images.Layers;
using Hivelet.Images.Oci;

namespace Hivelet.Images.Tests.Layers;

public sealed class LayerDecompressorTests
{
    private static byte[] SampleTar() => new TestLayer().File("a", new string('z', 100_000)).File("b", "bee").Tar();

    private static (Digest Digest, long Size, LayerCompression Kind) Decode(byte[] blob)
    {
        using var s = LayerDecompressor.Open(new MemoryStream(blob), out var kind);
        using var h = new HashingStream(s);
        h.Drain();
        return (h.CurrentDigest(), h.BytesRead, kind);
    }

    [Fact]
    public void DetectsByMagicAndHashesTheUncompressedBytes()
    {
        var tar = SampleTar();
        var expected = Digest.FromSha256Hash(SHA256.HashData(tar));
        Assert.Equal((expected, tar.Length, LayerCompression.None), Decode(tar));
        Assert.Equal((expected, tar.Length, LayerCompression.Gzip), Decode(TestLayer.Gzip(tar)));
        Assert.Equal((expected, tar.Length, LayerCompression.Zstd), Decode(TestLayer.Zstd(tar)));
    }

    [Fact]
    public void HandlesMultiMemberGzipAndZstdSkippableFrames()
    {
        var tar = SampleTar();
        var expected = Digest.FromSha256Hash(SHA256.HashData(tar));
        byte[] twoMembers = [.. TestLayer.Gzip(tar[..1000]), .. TestLayer.Gzip(tar[1000..])];
        Assert.Equal(expected, Decode(twoMembers).Digest);

        // A skippable frame (magic 0x184D2A5E, 4-byte length, payload) in front, as zstd:chunked writes.
        byte[] skippable = [0x5E, 0x2A, 0x4D, 0x18, 4, 0, 0, 0, 9, 9, 9, 9];
        var (digest, _, kind) = Decode([.. skippable, .. TestLayer.Zstd(tar)]);
        Assert.Equal(LayerCompression.Zstd, kind);
        Assert.Equal(expected, digest);
    }

    [Fact]
    public void ShortAndEmptyBlobsArePlain()
    {
        Assert.Equal(LayerCompression.None, LayerDecompressor.Detect([]));
        Assert.Equal(LayerCompression.None, LayerDecompressor.Detect([0x1F]));
        Assert.Equal(LayerCompression.Gzip, LayerDecompressor.Detect([0x1F, 0x8B]));
        var (_, size, kind) = Decode([1, 2]);
        Assert.Equal((2L, LayerCompression.None), (size, kind));
    }
}
