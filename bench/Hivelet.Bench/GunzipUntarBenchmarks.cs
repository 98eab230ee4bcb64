using BenchmarkDotNet.Attributes;
using Hivelet.Fixtures;
using Hivelet.Images.Layers;

namespace Hivelet.Bench;

/// <summary>
/// The unpack hot path without the disk: <see cref="LayerDecompressor"/> (GZipStream) feeding our
/// <see cref="TarReader"/>, every entry's data read, as the layer applier does before writing.
/// </summary>
[MemoryDiagnoser]
public class GunzipUntarBenchmarks
{
    private byte[] _gzip = [];
    private readonly byte[] _buffer = new byte[128 << 10];

    /// <summary>Size of the uncompressed tar, for computing MB/s from the reported time.</summary>
    public long TarBytes { get; private set; }

    [GlobalSetup]
    public void Setup()
    {
        var layer = LayerWriter.Build(BigContent.Layer(0, files: 1_000, largeFiles: 1));
        _gzip = layer.Blob.Content;
        TarBytes = layer.Tar.LongLength;
        Console.WriteLine($"// tar {TarBytes} bytes, gzip {_gzip.Length} bytes");
    }

    [Benchmark(Description = "LayerDecompressor + TarReader over a ~30 MiB layer")]
    public long GunzipUntar()
    {
        using var tar = new TarReader(LayerDecompressor.Open(new MemoryStream(_gzip, writable: false), out _));
        long total = 0;
        while (tar.GetNextEntry() is not null)
        {
            int n;
            while ((n = tar.ReadData(_buffer)) > 0)
                total += n;
        }
        return total;
    }
}
