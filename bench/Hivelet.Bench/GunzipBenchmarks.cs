using System.IO.Compression;
using BenchmarkDotNet.Attributes;
using Hivelet.Fixtures;

namespace Hivelet.Bench;

/// <summary>GZipStream throughput over a realistic layer (text and binary files in a tar).</summary>
[MemoryDiagnoser]
public class GunzipBenchmarks
{
    private byte[] _gzip = [];
    private byte[] _buffer = [];

    [Params(16 << 10, 128 << 10)]
    public int BufferSize { get; set; }

    /// <summary>Size of the uncompressed tar, for computing MB/s from the reported time.</summary>
    public long TarBytes { get; private set; }

    [GlobalSetup]
    public void Setup()
    {
        var layer = LayerWriter.Build(BigContent.Layer(0, files: 1_000, largeFiles: 1));
        _gzip = layer.Blob.Content;
        TarBytes = layer.Tar.LongLength;
        _buffer = new byte[BufferSize];
        Console.WriteLine($"// tar {TarBytes} bytes, gzip {_gzip.Length} bytes");
    }

    [Benchmark(Description = "GZipStream decompress a ~30 MiB layer")]
    public long Gunzip()
    {
        using var gz = new GZipStream(new MemoryStream(_gzip, writable: false), CompressionMode.Decompress);
        long total = 0;
        int n;
        while ((n = gz.Read(_buffer)) > 0)
            total += n;
        return total;
    }
}
