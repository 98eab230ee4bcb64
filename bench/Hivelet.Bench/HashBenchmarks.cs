using System.Security.Cryptography;
using BenchmarkDotNet.Attributes;

namespace Hivelet.Bench;

/// <summary>sha256 over 64 MiB, as the content store hashes every blob it writes.</summary>
[MemoryDiagnoser]
public class HashBenchmarks
{
    private const int Size = 64 << 20;
    private byte[] _data = [];

    [Params(64 << 10, 1 << 20)]
    public int ChunkSize { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _data = new byte[Size];
        new Random(42).NextBytes(_data);
    }

    [Benchmark(Description = "IncrementalHash SHA256, 64 MiB in chunks")]
    public byte[] Incremental()
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        for (int off = 0; off < _data.Length; off += ChunkSize)
            hash.AppendData(_data, off, Math.Min(ChunkSize, _data.Length - off));
        return hash.GetHashAndReset();
    }
}
